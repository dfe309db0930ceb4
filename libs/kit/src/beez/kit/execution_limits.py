"""Settings of the caps on one execution and of the senders an organization may use (decision 0023).

Shared by the automation service (validation refuses a workflow that could go past the caps or
sends as an unverified sender) and the executor (which counts and enforces them), so both read
the same environment variables:

- ``BEEZ_MAX_STEPS_PER_EXECUTION`` (10,000) and ``BEEZ_MAX_MESSAGES_PER_EXECUTION`` (1,000);
- ``BEEZ_ORG_LIMITS``: per-organization overrides, JSON such as
  ``{"org_1": {"max_messages_per_execution": 50}}``; the executor's ``SetOrganizationLimits``
  overrides these in turn, without a redeploy;
- ``BEEZ_VERIFIED_SENDERS``: JSON mapping an organization to the addresses (``hello@acme.com``)
  and domains (``@acme.com``) its ``send_email`` steps may send as; the default From address
  (``BEEZ_ACTIONS__DEFAULT_FROM``) is allowed for every organization.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from beez.kit.settings import ServiceSettings

__all__ = ["MAX_MESSAGES_CEILING", "MAX_STEPS_CEILING", "ExecutionLimitSettings", "OrgLimitOverride"]

MAX_STEPS_CEILING = 1_000_000
"""The highest steps cap an organization may be given."""

MAX_MESSAGES_CEILING = 100_000
"""The highest messages cap an organization may be given."""


class OrgLimitOverride(BaseModel):
    """One organization's caps in ``BEEZ_ORG_LIMITS``; one left out is the default."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_steps_per_execution: int | None = Field(default=None, ge=1, le=MAX_STEPS_CEILING)
    max_messages_per_execution: int | None = Field(default=None, ge=1, le=MAX_MESSAGES_CEILING)


class ExecutionLimitSettings(ServiceSettings):
    """The execution caps and verified senders; see the module docstring."""

    max_steps_per_execution: int = Field(
        default=10_000,
        ge=1,
        le=MAX_STEPS_CEILING,
        description="Steps one execution may run (every visit of a step); past it the execution fails.",
    )
    max_messages_per_execution: int = Field(
        default=1_000,
        ge=1,
        le=MAX_MESSAGES_CEILING,
        description="Messages (email, WhatsApp, SMS, Slack) one execution may send; past it it fails.",
    )
    org_limits: dict[str, OrgLimitOverride] = Field(
        default_factory=dict,
        description='Per-organization caps, JSON: {"org_1": {"max_messages_per_execution": 50}}.',
    )
    verified_senders: dict[str, list[str]] = Field(
        default_factory=dict,
        description=(
            'Addresses and domains each organization may send email as, JSON: {"org_1": ["@acme.com", '
            '"news@acme.io"]}. The default From address is allowed for all.'
        ),
    )
