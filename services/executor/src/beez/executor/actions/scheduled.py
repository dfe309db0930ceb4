"""schedule_email and cancel_scheduled_message (decision 0046).

``schedule_email`` checks the email now (consent, recipient, sender, template: what send_email's
``prepare`` checks, so a step that could never send fails at once) and returns a
``scheduled_messages`` row in :attr:`ActionResult.schedule`; the engine adds it with the step's
result, and the execution goes on. The row's id is derived from the step's idempotency key
(``smsg_<sha256>``), so a crash between the action and the settle re-computes the same row, and
the row is unique by that key: one email per step however often it settles.
:class:`beez.executor.scheduled.ScheduledSender` sends it at ``due_at`` with send_email.

When: ``at`` (HH:MM) on ``date`` (YYYY-MM-DD) if given, else the next time the clock shows
``at``; in ``timezone``, else the contact's ``timezone``, else the workflow's, else UTC. A
moment already past is a permanent error (``in_the_past``).

``cancel_scheduled_message`` returns :attr:`ActionResult.unschedule`: the engine cancels, in the
step's transaction, the contact's pending messages with ``message_id`` or ``label``; the step's
output lists the ids cancelled (none is not a failure: they may have gone already).
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import date, datetime, time
from typing import Any

from beez.executor.actions.base import ActionContext, ActionResult, PermanentError
from beez.executor.actions.email import SendEmail
from beez.executor.actions.preview import Preview
from beez.workflow.intervals import is_valid_timezone, next_time_of_day, parse_time_of_day, zone
from beez.workflow.recipients import contact_id

__all__ = ["SCHEDULE_FIELDS", "CancelScheduledMessage", "ScheduleEmail", "scheduled_message_id"]

SCHEDULE_FIELDS = frozenset({"at", "date", "timezone", "label", "save_as", "retry"})
"""Config fields about the scheduling itself; the rest is the email's (send_email's fields)."""

DEFAULT_VARIABLE = "scheduled_message_id"


def scheduled_message_id(idempotency_key: str) -> str:
    """The id of the message a step schedules: the same key gives the same id."""
    return "smsg_" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]


def due_at(
    config: dict[str, Any], contact: dict[str, Any], workflow_zone: str, now: datetime
) -> tuple[datetime, str]:
    """When the email goes (UTC), and the zone that was used.

    Raises:
        PermanentError: a malformed time, date or zone, or a moment already past.
    """
    given = str(config.get("timezone") or "")
    if given and not is_valid_timezone(given):
        raise PermanentError(f"unknown time zone {given!r}", category="invalid_config")
    tz = zone(given, str(contact.get("timezone") or ""), workflow_zone)
    try:
        clock: time = parse_time_of_day(str(config.get("at") or ""))
        day = config.get("date")
        if day:
            moment = datetime.combine(date.fromisoformat(str(day)), clock, tzinfo=tz)
        else:
            moment = next_time_of_day(now, clock, tz=tz)
    except ValueError as exc:
        raise PermanentError(f"schedule: {exc}", category="invalid_config") from exc
    if moment < now:
        raise PermanentError(
            f"{moment.isoformat()} ({tz.key}) is in the past; nothing was scheduled", category="in_the_past"
        )
    return moment.astimezone(now.tzinfo), tz.key


class ScheduleEmail:
    """``schedule_email``: send_email's fields plus ``at``, ``date``, ``timezone``, ``label``,
    ``save_as``. Output: ``scheduled_message_id``, ``due_at``, ``timezone``, ``to``, ``label``;
    ``vars.<save_as>`` (default ``scheduled_message_id``) gets the id."""

    type = "schedule_email"

    def __init__(self, email: SendEmail) -> None:
        self.email = email

    def _email_context(self, ctx: ActionContext) -> ActionContext:
        return replace(ctx, config={k: v for k, v in ctx.config.items() if k not in SCHEDULE_FIELDS})

    async def preview(self, ctx: ActionContext) -> Preview | ActionResult:
        """The email as it would go (its Date the scheduling moment), with ``due_at`` in details."""
        when, tz = due_at(ctx.config, ctx.contact, ctx.timezone, ctx.now)
        shown = await self.email.preview(self._email_context(ctx))
        if isinstance(shown, Preview):
            shown.details = {**shown.details, "due_at": when.isoformat(), "timezone": tz}
        return shown

    async def run(self, ctx: ActionContext) -> ActionResult:
        email_ctx = self._email_context(ctx)
        prepared = self.email.prepare(email_ctx)  # every check send_email makes, nothing sent
        if isinstance(prepared, ActionResult):
            return prepared
        when, tz = due_at(ctx.config, ctx.contact, ctx.timezone, ctx.now)
        message_id = scheduled_message_id(ctx.idempotency_key)
        label = str(ctx.config.get("label") or "")
        row = {
            "id": message_id,
            "org_id": ctx.org_id,
            "execution_id": ctx.execution_id,
            "automation_id": ctx.automation_id,
            "step_id": ctx.step_id,
            "step_path": ctx.step_path,
            "contact_id": contact_id(ctx.contact, ctx.event),
            "idempotency_key": f"{ctx.idempotency_key}:send",
            "label": label,
            "kind": "email",
            "due_at": when,
            "config": email_ctx.config,
            "contact": ctx.contact,
            "connection": str(ctx.config.get("connection") or ""),
            "created_at": ctx.now,
        }
        variable = str(ctx.config.get("save_as") or DEFAULT_VARIABLE)
        return ActionResult(
            output={
                "scheduled_message_id": message_id,
                "due_at": when.isoformat(),
                "timezone": tz,
                "to": prepared.recipient,
                "label": label,
            },
            vars={variable: message_id},
            schedule=[row],
        )


class CancelScheduledMessage:
    """``cancel_scheduled_message``: ``message_id`` and/or ``label``. Output: ``cancelled``."""

    type = "cancel_scheduled_message"

    async def preview(self, ctx: ActionContext) -> ActionResult:
        """What the step asks to cancel (nothing is cancelled by a preview)."""
        return await self.run(ctx)

    async def run(self, ctx: ActionContext) -> ActionResult:
        ids = [str(ctx.config["message_id"]).strip()] if ctx.config.get("message_id") else []
        label = str(ctx.config.get("label") or "").strip()
        if not [i for i in ids if i] and not label:
            raise PermanentError("`message_id` and `label` are both empty", category="invalid_config")
        return ActionResult(
            output={"message_id": ids[0] if ids else "", "label": label, "cancelled": []},
            unschedule={"ids": ids, "label": label},
        )
