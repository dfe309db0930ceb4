"""set_variable, send_internal_notification and trigger_automation: effects inside the platform.

``trigger_automation`` returns an ``automation.triggered`` event for the same contact (the trigger
service starts ``data.automation_id`` directly on it). Its id is derived from the step's key
without the attempt number, so the step yields the same event however many times it runs, and
the trigger's event-id deduplication starts the automation once. ``data.depth`` counts how many
automations started one another in a chain; past ``max_trigger_depth`` the step fails
permanently (``trigger_depth_exceeded``), which stops A → B → A loops.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from google.protobuf import timestamp_pb2

from beez.api.messages.v1 import events_pb2
from beez.executor.actions.base import ActionContext, ActionResult, PermanentError
from beez.executor.actions.crm import effect_result, text
from beez.executor.actions.settings import ActionSettings
from beez.workflow import effects
from beez.workflow.recipients import contact_id

__all__ = [
    "TRIGGERED_EVENT",
    "SendInternalNotification",
    "SetVariable",
    "TriggerAutomation",
    "contact_message",
    "triggered_event_id",
]

TRIGGERED_EVENT = "automation.triggered"
_ATTEMPT = re.compile(r":attempt:\d+$")


class SetVariable:
    """``set_variable {name, value}`` → ``vars[name] = value``. Output: ``name``, ``value``."""

    type = "set_variable"

    async def run(self, ctx: ActionContext) -> ActionResult:
        return effect_result(ctx, effects.set_variable)


class SendInternalNotification:
    """``send_internal_notification {message, user_id?, channel?}`` → ``send_notification``
    command (with the contact when there is one). Output: ``message``, ``user_id``, ``channel``."""

    type = "send_internal_notification"

    async def run(self, ctx: ActionContext) -> ActionResult:
        return effect_result(ctx, effects.send_internal_notification)


def triggered_event_id(idempotency_key: str) -> str:
    """The id of the event a trigger_automation step emits: stable across the step's attempts."""
    step_key = _ATTEMPT.sub("", idempotency_key)
    digest = hashlib.sha256(f"{TRIGGERED_EVENT}|{step_key}".encode()).hexdigest()[:32]
    return f"evt_trg_{digest}"


def _str_list(value: Any) -> list[str]:
    return [str(item) for item in value] if isinstance(value, list | tuple) else []


def contact_message(contact: dict[str, Any]) -> events_pb2.Contact:
    """The execution's contact snapshot (a context ``contact`` dict) as a protobuf Contact."""
    message = events_pb2.Contact(
        id=str(contact.get("id") or ""),
        email=str(contact.get("email") or ""),
        phone=str(contact.get("phone") or ""),
        first_name=str(contact.get("first_name") or ""),
        last_name=str(contact.get("last_name") or ""),
        tags=_str_list(contact.get("tags")),
        lists=_str_list(contact.get("lists")),
        timezone=str(contact.get("timezone") or ""),
    )
    score = contact.get("score")
    if isinstance(score, int | float) and not isinstance(score, bool):
        message.score = max(-(2**31), min(2**31 - 1, int(score)))
    consent = contact.get("consent")
    if isinstance(consent, dict):
        message.consent.email = consent.get("email") is True
        message.consent.sms = consent.get("sms") is True
        message.consent.whatsapp = consent.get("whatsapp") is True
    fields = contact.get("fields")
    if isinstance(fields, dict) and fields:
        try:
            message.fields.update(fields)
        except (TypeError, ValueError) as exc:
            raise PermanentError(
                f"the contact's fields are not JSON values: {exc}", category="invalid_contact"
            ) from exc
    return message


class TriggerAutomation:
    """``trigger_automation {automation_id}`` → an ``automation.triggered`` event.

    ``data``: ``automation_id``, ``source_execution_id``, ``source_automation_id``, ``depth``.
    Output: ``automation_id``, ``event_id``, ``depth``.
    """

    type = "trigger_automation"

    def __init__(self, settings: ActionSettings) -> None:
        self.settings = settings

    def depth(self, ctx: ActionContext) -> int:
        """1 for a chain's first hop; one more than the triggering event's when it was one."""
        if ctx.event.get("type") != TRIGGERED_EVENT:
            return 1
        data = ctx.event.get("data") or {}
        previous = data.get("depth") if isinstance(data, dict) else None
        if isinstance(previous, int | float) and not isinstance(previous, bool) and previous >= 1:
            return int(previous) + 1
        return 2

    async def run(self, ctx: ActionContext) -> ActionResult:
        target = text(ctx, "automation_id")
        depth = self.depth(ctx)
        if depth > self.settings.max_trigger_depth:
            raise PermanentError(
                f"automations already started one another {depth - 1} times in a row "
                f"(max_trigger_depth {self.settings.max_trigger_depth})",
                category="trigger_depth_exceeded",
            )
        event_id = triggered_event_id(ctx.idempotency_key)
        occurred_at = timestamp_pb2.Timestamp()
        occurred_at.FromDatetime(ctx.now)
        event = events_pb2.Event(
            id=event_id,
            type=TRIGGERED_EVENT,
            occurred_at=occurred_at,
            contact_id=contact_id(ctx.contact, ctx.event),
            organization_id=ctx.org_id,
        )
        event.data.update(
            {
                "automation_id": target,
                "source_execution_id": ctx.execution_id,
                "source_automation_id": ctx.automation_id,
                "depth": depth,
            }
        )
        if ctx.contact:
            event.contact.CopyFrom(contact_message(ctx.contact))
        return ActionResult(
            output={"automation_id": target, "event_id": event_id, "depth": depth}, events=[event]
        )
