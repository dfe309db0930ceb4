"""Settings of the executor service (environment variables prefixed ``BEEZ_``).

Nested settings use ``__``: ``BEEZ_ACTIONS__SMTP_PORT=2525`` sets ``actions.smtp_port``.
"""

from __future__ import annotations

from pydantic import Field, ValidationInfo, field_validator
from pydantic_settings import SettingsConfigDict

from beez.executor.actions.settings import ActionSettings
from beez.kit.execution_limits import ExecutionLimitSettings


class ExecutorSettings(ExecutionLimitSettings):
    """The executor service's settings."""

    model_config = SettingsConfigDict(env_nested_delimiter="__")

    service_name: str = "executor"
    grpc_port: int = 50053

    actions: ActionSettings = Field(
        default_factory=ActionSettings, description="Providers, credentials and HTTP limits of the actions."
    )
    signing_keys_file: str = Field(
        default="",
        validate_default=True,
        description=(
            "The key ring that encrypts the organizations' webhook signing secrets: one "
            "'<key id>:<Fernet key>' per line, the first encrypting (decision 0019). Required in "
            "production; local mode falls back to a public development key."
        ),
    )
    tracking_keys_file: str = Field(
        default="",
        description=(
            "The keys that sign email tracking tokens: one '<key id>:<secret>' per line, the first "
            "signing (decision 0041); the gateway holds the same file. Empty: local mode uses a "
            "public development key, production tracks nothing."
        ),
    )
    org_limits_cache_s: float = Field(
        default=10.0,
        ge=0,
        description=(
            "How long an organization's execution caps are cached per process; a change made through "
            "another replica applies within this long."
        ),
    )
    signing_cache_s: float = Field(
        default=30.0, ge=0, description="How long an organization's signing secrets are cached per process."
    )
    connections_cache_s: float = Field(
        default=5.0,
        ge=0,
        description="How long an organization's connections (without secrets) are cached per process: "
        "a change through another replica, or another replica's lowered rate, applies within it.",
    )
    action_plugins: list[str] = Field(
        default_factory=list,
        description=(
            "Extra action types, as 'package.module:name' where name is a mapping of type to Action "
            "or a callable taking these settings and returning one; they add to (or replace) the "
            "built-in actions. Tests use it to run test-only actions; it could carry custom ones."
        ),
    )

    job_concurrency: int = Field(
        default=10,
        ge=1,
        description=(
            "Jobs handled at once by this process, over all priorities. It is split 4:3:2:1 over "
            "critical, high, normal and low (at least one each), every priority with its own "
            "consumer and slots, so a backlog of low jobs never holds up a critical one."
        ),
    )
    job_start_batch: int = Field(
        default=64,
        ge=1,
        description=(
            "START jobs whose executions are created and run up to their first external action in "
            "one transaction. 1 gives each START its own transaction."
        ),
    )
    job_timeout_s: float = Field(
        default=300.0, gt=0, description="A job handler running longer fails the attempt (it is retried)."
    )
    job_ack_wait_s: float = Field(
        default=30.0,
        gt=0,
        description="How long a delivered job may go without an ack or heartbeat before redelivery.",
    )
    job_max_deliver: int = Field(
        default=5, ge=1, description="Handler attempts per job before it goes to dlq.executor-jobs-<p>."
    )
    max_steps_per_job: int = Field(
        default=200,
        ge=1,
        description="Steps one job runs before handing the execution to a fresh job (fairness).",
    )
    timer_poll_interval_s: float = Field(
        default=0.15, gt=0, description="How often due timers are looked for when none were found."
    )
    timer_batch: int = Field(default=200, ge=1, description="Due timers fired per transaction.")
    scheduled_poll_interval_s: float = Field(
        default=0.5, gt=0, description="How often due scheduled messages are looked for (decision 0046)."
    )
    scheduled_lease_s: float = Field(
        default=120.0,
        gt=0,
        description="How long a claimed scheduled message stays with its sender; past it (a sender "
        "that died mid-send) another sends it again under the same key.",
    )
    sweeper_interval_s: float = Field(
        default=30.0, gt=0, description="How often executions that nothing drives any more are looked for."
    )
    sweeper_stale_after_s: float = Field(
        default=0.0,
        ge=0,
        description=(
            "A queued/running execution unmoved this long, with no job driving it, is handed to a "
            "RESUME job (docs/decisions/0005). 0: derived from the job timeout, AckWait and "
            "max_deliver, so no live job is ever mistaken for a dead one."
        ),
    )

    # --- send limits (decision 0031) ------------------------------------------------------------
    send_rate_per_org: float = Field(
        default=200.0,
        gt=0,
        description=(
            "External action steps (emails, SMS, WhatsApp, webhooks, API calls) per second one "
            "organization may start, over every executor replica; steps over it wait on a timer."
        ),
    )
    send_burst_per_org: float = Field(default=400.0, ge=1, description="Sends at once above the rate.")
    send_channel_rates: dict[str, float] = Field(
        default_factory=lambda: {"email": 100.0, "sms": 20.0, "whatsapp": 50.0},
        description=(
            "Sends per second per organization on one channel: email, sms, whatsapp, or an action "
            "type (webhook, call_api, slack_message, ...); the burst is twice the rate."
        ),
    )
    send_channel_rate_default: float = Field(
        default=100.0, gt=0, description="Sends per second per organization on a channel not listed."
    )
    send_limit_pool_size: int = Field(
        default=4, ge=1, description="Connections of the send limiter's own pool (per process)."
    )

    @field_validator("send_channel_rates")
    @classmethod
    def _positive_rates(cls, value: dict[str, float]) -> dict[str, float]:
        bad = sorted(name for name, rate in value.items() if not rate > 0)
        if bad:
            raise ValueError(f"send rates must be positive: {', '.join(bad)}")
        return value

    @field_validator("signing_keys_file")
    @classmethod
    def _production_needs_a_key_ring(cls, value: str, info: ValidationInfo) -> str:
        if not value and not info.data.get("local_mode", False):
            raise ValueError(
                "production needs the key ring that encrypts the webhook signing secrets "
                "(a file of '<key id>:<Fernet key>' lines)"
            )
        return value

    trigger_addr: str = Field(
        default="127.0.0.1:50052",
        description=(
            "host:port of the trigger service, asked for the upcoming fires of time-based triggers "
            "that ListScheduled shows next to the timers (empty: timers only; decision 0038)."
        ),
    )
    trigger_timeout_s: float = Field(
        default=2.0, gt=0, description="Deadline of that call; past it ListScheduled shows the timers alone."
    )
