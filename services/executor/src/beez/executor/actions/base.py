"""The contract between the executor's step engine and the actions it runs.

The engine renders an action's config, builds an :class:`ActionContext` and calls
:meth:`Action.run`. An action does its one external effect (or none) and reports an
:class:`ActionResult`; it never writes to the database or publishes on its own. Messages other
services must receive (platform commands, events) are returned in the result, and the engine
writes them to its outbox in the same transaction as the step's result, so they are sent exactly
when the step is recorded as done.

Failures are exceptions: :class:`TransientError` (timeouts, 5xx, 429: the engine retries on the
action's schedule, honouring ``retry_after``) and :class:`PermanentError` (4xx, bad config,
refused address: the step fails at once). Anything else counts as transient.

Every external call carries ``ctx.idempotency_key`` (``exec:<id>:step:<path>:attempt:<n>``) so a
provider that sees the same attempt twice, after a crash between the call and the commit, can
drop the duplicate.
"""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from beez.api.messages.v1 import commands_pb2, events_pb2


class ActionError(Exception):
    """A failed action, with a category for analytics and dead letters."""

    category: str = "unknown"

    def __init__(self, message: str, *, category: str | None = None) -> None:
        super().__init__(message)
        if category is not None:
            self.category = category


class TransientError(ActionError):
    """Worth retrying: timeouts, connection errors, 5xx, 429."""

    category = "transient"

    def __init__(
        self, message: str, *, category: str | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message, category=category)
        self.retry_after = retry_after


class PermanentError(ActionError):
    """Retrying cannot help: 4xx, invalid config, a refused address."""

    category = "permanent"


PUBLIC_CREDENTIALS = frozenset({"instance_url", "shop"})
"""Credential fields that only say where the provider's API is: never redacted."""


@dataclass(frozen=True)
class ConnectionAccess:
    """The organization's connection a step uses (decision 0040): its decrypted credentials,
    the provider's base URL, and for OAuth2 providers ``token()``, the current access token
    (refreshed once per connection across replicas). Never logged, never returned: every value
    here is redacted from what the action reports (:mod:`.redaction`)."""

    id: str
    provider: str
    name: str
    credentials: Mapping[str, str] = field(repr=False)
    base_url: str
    token: Callable[[], Awaitable[str]] | None = field(default=None, repr=False)
    issued: list[str] = field(default_factory=list, repr=False)
    """Access tokens ``token()`` handed out during this attempt (to redact them too)."""

    async def access_token(self) -> str:
        """The OAuth2 access token, or the static token of a provider that has one."""
        if self.token is None:
            raise PermanentError(
                f"{self.provider} connections carry no OAuth2 token", category="invalid_config"
            )
        value = await self.token()
        self.issued.append(value)
        return value

    def secrets(self) -> list[str]:
        """Every value a provider might echo: credentials, tokens, the HTTP Basic form. Where a
        provider's API lives (Salesforce's ``instance_url``, a Shopify ``shop``) is no secret."""
        values = [v for k, v in self.credentials.items() if k not in PUBLIC_CREDENTIALS]
        values += self.issued
        sid, token = self.credentials.get("account_sid"), self.credentials.get("auth_token")
        if sid and token:
            values.append(base64.b64encode(f"{sid}:{token}".encode()).decode())
        return values


@dataclass(frozen=True)
class ActionContext:
    """Everything an action may read. ``config`` is already rendered from its templates."""

    org_id: str
    execution_id: str
    automation_id: str
    step_id: str
    step_path: str
    attempt: int
    idempotency_key: str
    config: dict[str, Any]
    contact: dict[str, Any]
    event: dict[str, Any]
    vars: dict[str, Any]
    now: datetime
    connection: ConnectionAccess | None = None
    """The organization's connection this step uses, or None: the platform's settings."""
    timezone: str = ""
    """The workflow's time zone (settings.timezone), the fallback after the contact's."""


@dataclass
class ActionResult:
    """What an action did."""

    status: str = "succeeded"
    """``succeeded`` or ``skipped`` (e.g. no consent: neither sent nor failed)."""
    reason: str = ""
    output: dict[str, Any] = field(default_factory=dict)
    """Recorded in the step log (PII is masked there): provider ids, status codes, rendered text."""
    vars: dict[str, Any] = field(default_factory=dict)
    """Execution variables to set, visible to later conditions and templates as ``vars.*``."""
    contact_changes: dict[str, Any] = field(default_factory=dict)
    """Applied to the execution's own contact snapshot: ``add_tags``, ``remove_tags``,
    ``add_lists``, ``remove_lists``, ``fields`` (a dict merged in), ``score``, ``score_delta``,
    ``assigned_user``, ``assigned_team``, ``consent`` (merged per channel), ``deleted``."""
    commands: list[commands_pb2.PlatformCommand] = field(default_factory=list)
    """Sent on ``platform.commands.<org>.<verb>`` through the outbox."""
    events: list[events_pb2.Event] = field(default_factory=list)
    """Published on ``events.<org>.<type>`` through the outbox (e.g. trigger_automation)."""
    schedule: list[dict[str, Any]] = field(default_factory=list)
    """Messages to send later (schedule_email, decision 0046): ``scheduled_messages`` rows the
    engine adds with the step's result (one per key: a re-settled attempt adds none)."""
    unschedule: dict[str, Any] = field(default_factory=dict)
    """Scheduled messages to cancel with the step's result (cancel_scheduled_message): ``ids``
    and/or ``label``, of the step's contact; the step's output gets ``cancelled`` (their ids)."""


class Action(Protocol):
    """One action type of the catalog."""

    type: str

    async def run(self, ctx: ActionContext) -> ActionResult:
        """Performs the action once; raises TransientError or PermanentError on failure."""
        ...
