"""Settings of the automation service (environment variables prefixed ``BEEZ_``)."""

from __future__ import annotations

from pydantic import AliasChoices, Field
from pydantic_settings import SettingsConfigDict

from beez.kit.execution_limits import ExecutionLimitSettings


class AutomationSettings(ExecutionLimitSettings):
    """The automation service's settings."""

    model_config = SettingsConfigDict(populate_by_name=True)  # default_from, by name too (tests)

    service_name: str = "automation"
    grpc_port: int = 50051
    schedule_min_interval_s: float = Field(
        default=60.0,
        gt=0,
        description=(
            "The most often a time-based trigger may fire, in seconds: validation refuses a cron "
            "expression or interval more frequent (the trigger service's setting of the same name "
            "refuses to schedule one)."
        ),
    )
    analytics_addr: str = Field(
        default="127.0.0.1:50055",
        min_length=1,
        description="host:port of the analytics service, asked for the stats GetAutomation shows.",
    )
    analytics_timeout_s: float = Field(
        default=1.0,
        gt=0,
        description="Deadline of the stats call; past it GetAutomation answers without stats.",
    )
    executor_addr: str = Field(
        default="127.0.0.1:50053",
        min_length=1,
        description="host:port of the executor, asked for an organization's execution caps at validation.",
    )
    executor_timeout_s: float = Field(
        default=1.0,
        gt=0,
        description="Deadline of that call; past it validation uses the caps in the settings.",
    )
    org_limits_cache_s: float = Field(
        default=10.0,
        ge=0,
        description="How long an organization's execution caps, as the executor gave them, are cached.",
    )
    reannounce_on_start: bool = Field(
        default=True,
        description=(
            "Announce every live automation's current version again at start, so consumers that "
            "keep their own copy (the executor's START check) learn those last announced before the "
            "AUTOMATIONS stream's retention (docs/decisions/0018). Repeats change nothing."
        ),
    )
    resync_callers: str = Field(
        default="trigger",
        description=(
            "Comma list of certificate names (CN) that may resync the automations of every "
            "organization (ResyncAutomations all_organizations): the trigger, when its index is empty."
        ),
    )
    default_from: str = Field(
        default="",
        validation_alias=AliasChoices("BEEZ_ACTIONS__DEFAULT_FROM"),
        description=(
            "The executor's default From address (the same variable), which every organization's "
            "send_email steps may use besides its verified senders."
        ),
    )
    max_workflow_bytes: int = Field(
        default=640 * 1024,
        ge=1024,
        description=(
            "Largest serialized workflow (step ids assigned) accepted by create and update; the "
            "server's max_payload*5/8 is the ceiling, so a START job carrying it and any accepted "
            "event fits one NATS message (docs/decisions/0026)."
        ),
    )
