"""Categories, validation and the safe-mode test of actions, with the executor's own actions.

``test`` renders the step's config with a sample contact and event exactly as the engine does
(:func:`beez.workflow.templates.render_config` over :func:`beez.workflow.context.build_context`),
builds the :class:`~beez.executor.actions.base.ActionContext` the engine would, and asks the
registered action for its preview: the request its ``run`` would send, built by the same code
(:mod:`beez.executor.actions.preview`), secrets redacted. Nothing leaves the process: an action
that calls out is never run here, and one without a preview is refused. Actions of the local
families (CRM, tasks, data...) only compute commands, events and variables, so they are run and
their commands stamped as the engine stamps them.

A step naming one of the organization's connections previews with that connection bound, as
the engine binds it (decision 0040): its credentials shape the request and are redacted from it.
Binding an OAuth2 connection may refresh its access token (the one call a preview can make).

A preview stands for attempt 1 of a run whose execution id is :data:`PREVIEW_EXECUTION_ID`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from beez.api.messages.v1 import commands_pb2, events_pb2
from beez.api.workflow.v1 import workflow_pb2
from beez.executor import repository
from beez.executor.actions.base import Action, ActionContext, ActionError, ActionResult
from beez.executor.actions.preview import Preview
from beez.executor.actions.redaction import Redacting
from beez.executor.engine.attempts import is_local, stamped_command
from beez.executor.engine.integrations import BindingError, Integrations
from beez.executor.engine.steplog import step_key
from beez.executor.models import ProviderMessage
from beez.kit.bus.topology import Topology
from beez.kit.db import Database
from beez.kit.grpc.errors import FailedPrecondition, FieldViolation, InvalidArgument, NotFound
from beez.workflow import catalog
from beez.workflow.context import build_context
from beez.workflow.errors import Issue, TemplateError
from beez.workflow.model import struct_to_dict
from beez.workflow.templates import render_config
from beez.workflow.validate import action_issues

__all__ = ["CATEGORY_NAMES", "PREVIEW_EXECUTION_ID", "ActionTools", "Category", "TestOutcome"]

PREVIEW_EXECUTION_ID = "exec_preview"
PREVIEW_POSITION = "0"
CATEGORY_NAMES = {
    "communication": "Communication",
    "crm": "CRM",
    "tasks": "Task & Activity",
    "integration": "Integrations",
    "analytics": "Analytics & Reporting",
    "control": "Automation Control",
    "ai": "AI",
}
"""The seed's names of the builder's groups (frame 4), by category."""


@dataclass(frozen=True)
class Category:
    category: str
    name: str
    count: int


@dataclass
class TestOutcome:
    """What a step would do with the sample."""

    type: str
    config: dict[str, Any]
    request: Preview | None = None
    commands: list[tuple[str, commands_pb2.PlatformCommand]] = field(default_factory=list)
    events: list[events_pb2.Event] = field(default_factory=list)
    vars: dict[str, Any] = field(default_factory=dict)
    skipped_reason: str = ""


class ActionTools:
    """The builder's action tools over the executor's registered actions."""

    def __init__(
        self,
        actions: Mapping[str, Action],
        topology: Topology,
        db: Database | None = None,
        integrations: Integrations | None = None,
    ) -> None:
        """``integrations``: the organization's connections, so a step that names one (a provider
        action, decision 0044) previews the request its connection would send."""
        self._actions = dict(actions)
        self._topology = topology
        self._db = db
        self._integrations = integrations

    def categories(self) -> list[Category]:
        """Every action category, in catalog order, with its number of types."""
        counts: dict[str, int] = {}
        for entry in catalog.action_types():
            counts[entry.category] = counts.get(entry.category, 0) + 1
        return [
            Category(name, CATEGORY_NAMES.get(name, name.title()), counts.get(name, 0))
            for name in catalog.ACTION_CATEGORIES
        ]

    def validate(self, action: workflow_pb2.Action) -> list[Issue]:
        """Every problem of ``action`` on its own (paths under ``action``)."""
        return action_issues(action)

    async def test(
        self,
        org_id: str,
        action: workflow_pb2.Action,
        contact: events_pb2.Contact | None,
        event: events_pb2.Event | None,
        vars: Mapping[str, Any],
        now: datetime,
    ) -> TestOutcome:
        """What ``action`` would send for the sample; INVALID_ARGUMENT for an invalid action."""
        issues = action_issues(action)
        if issues:
            raise InvalidArgument("invalid action", [FieldViolation(i.field, i.description) for i in issues])
        if event is not None and not event.organization_id:
            event.organization_id = org_id
        step_id = action.id or "step_preview"
        context = build_context(
            event,
            contact,
            vars,
            {
                "id": PREVIEW_EXECUTION_ID,
                "automation_id": "",
                "automation_version": 0,
                "contact_id": (contact.id if contact else "") or (event.contact_id if event else ""),
                "step_id": step_id,
                "position": PREVIEW_POSITION,
                "started_at": now.isoformat(),
            },
        )
        try:
            config = render_config(struct_to_dict(action.config), context)
        except TemplateError as exc:
            violation = FieldViolation("action.config", str(exc))
            raise InvalidArgument("the config does not render", [violation]) from None
        registered = self._actions.get(action.type)
        if registered is None:
            raise FailedPrecondition(f"{action.type!r} is a control type: it sends nothing")
        key = step_key(PREVIEW_EXECUTION_ID, PREVIEW_POSITION, 1)
        connection = None
        if self._integrations is not None:
            try:
                binding = await self._integrations.bind(
                    org_id, action.type, str(config.get("connection") or "")
                )
                if binding is not None:
                    connection = await self._integrations.access(org_id, binding, now)
            except BindingError as exc:
                raise FailedPrecondition(f"the action would fail (connection): {exc}") from None
        ctx = ActionContext(
            org_id=org_id,
            execution_id=PREVIEW_EXECUTION_ID,
            automation_id="",
            step_id=step_id,
            step_path=PREVIEW_POSITION,
            attempt=1,
            idempotency_key=key,
            config=config,
            contact=context["contact"],
            event=context["event"],
            vars=context["vars"],
            now=now,
            connection=connection,
        )
        outcome = TestOutcome(action.type, config)
        try:
            shown = await registered.preview(ctx) if isinstance(registered, Redacting) else None
            if shown is None:
                if not is_local(action.type):
                    raise FailedPrecondition(f"{action.type!r} has no safe mode: testing it would send it")
                shown = await registered.run(ctx)
        except ActionError as exc:
            raise FailedPrecondition(f"the action would fail ({exc.category}): {exc}") from None
        if isinstance(shown, Preview):
            outcome.request = shown
            return outcome
        return self._computed(outcome, shown, org_id, key, ctx)

    def _computed(
        self, outcome: TestOutcome, result: ActionResult, org_id: str, key: str, ctx: ActionContext
    ) -> TestOutcome:
        if result.status == "skipped":
            outcome.skipped_reason = result.reason or "skipped"
            return outcome
        contact_id = str(ctx.contact.get("id") or "")
        for command in result.commands:
            if not command.WhichOneof("command"):
                continue
            stamped, subject = stamped_command(
                self._topology, command, key, org_id, contact_id, PREVIEW_EXECUTION_ID, ""
            )
            outcome.commands.append((subject, stamped))
        for index, event in enumerate(result.events):
            out = events_pb2.Event()
            out.CopyFrom(event)
            out.organization_id = org_id
            out.id = out.id or f"{key}:event:{index}"
            outcome.events.append(out)
        outcome.vars = dict(result.vars)
        return outcome

    async def provider_message(self, org_id: str, provider: str, provider_message_id: str) -> ProviderMessage:
        """The organization's record of a provider's message; NOT_FOUND otherwise."""
        violations = []
        if provider not in ("sms", "whatsapp"):
            violations.append(FieldViolation("provider", "must be sms or whatsapp"))
        if not provider_message_id or len(provider_message_id) > 200:
            violations.append(FieldViolation("provider_message_id", "must be 1 to 200 characters"))
        if violations:
            raise InvalidArgument("invalid lookup", violations)
        assert self._db is not None
        async with self._db.sessions() as session:
            row = await repository.provider_message(session, org_id, provider, provider_message_id)
        if row is None:
            raise NotFound(f"no {provider} message {provider_message_id}")
        return row
