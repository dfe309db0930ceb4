"""Platform commands as changes to the contact projection (decision 0042).

A workflow changes contacts through commands to the CRM (``platform.commands.<org>.<verb>``).
The trigger's projection must see those changes too, or a condition trigger would never react to
a score a workflow raised. :func:`command_event` turns a contact-affecting command into an event
that ingestion records and projects like any other, so it is deduplicated like any other: its id
is derived from the command's idempotency key (:func:`command_event_id`), and ingestion's
``(org, event id)`` key drops a redelivered or re-sent command.

* ``delete_contact`` becomes ``contact.deleted`` (the tombstone, closed waits, deletion hooks);
  ``merge_contacts`` becomes ``contact.deleted`` of the duplicate.
* The other contact-affecting verbs become :data:`COMMAND_APPLIED` events, which
  :func:`apply_command` applies to the row: tags, lists, custom fields, score, lifecycle stage,
  consent, subscriptions, do-not-contact. They count no counter and are no activity of the contact.
* Verbs that change nothing the projection keeps (tasks, notifications, assignments,
  relationships, activities, documents, exports, erasure requests, and ``create_contact``, whose
  contact the CRM announces with ``contact.created``) become nothing.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import TYPE_CHECKING, Any

from google.protobuf import json_format, timestamp_pb2

from beez.api.messages.v1.commands_pb2 import PlatformCommand
from beez.api.messages.v1.events_pb2 import Event

if TYPE_CHECKING:
    from beez.trigger.domain.projection import ContactState

COMMAND_APPLIED = "contact.command_applied"
"""The event type of a projected command; ``data``: ``command`` (the verb), ``values`` (its
message as JSON), ``idempotency_key``, ``execution_id``, ``automation_id``."""

DELETING = frozenset({"delete_contact", "merge_contacts"})
PROJECTED = frozenset(
    {
        "add_tag",
        "remove_tag",
        "add_to_list",
        "remove_from_list",
        "update_field",
        "update_score",
        "calculate_lead_score",
        "update_lifecycle_stage",
        "update_custom_field",
        "copy_field",
        "append_to_field",
        "subscribe_newsletter",
        "unsubscribe",
        "update_consent",
        "set_do_not_contact",
    }
)
"""The verbs that change what the projection keeps, besides the deleting ones."""

CHANNELS = ("email", "sms", "whatsapp")


def command_event_id(idempotency_key: str) -> str:
    """The id of the event a command becomes: the same for every copy of the command."""
    return "cmd_" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]


def command_event(org_id: str, command: PlatformCommand, occurred_at: datetime) -> Event | None:
    """The event ``command`` becomes for the projection, or None when it changes nothing it keeps.

    ``occurred_at`` is when the command was stored (its stream timestamp), the same on every
    delivery.
    """
    verb = command.WhichOneof("command")
    if verb not in PROJECTED and verb not in DELETING:
        return None
    contact_id = command.contact_id
    if verb == "merge_contacts":
        contact_id = command.merge_contacts.duplicate_contact_id
    if not contact_id or not command.idempotency_key:
        return None
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(occurred_at)
    event = Event(
        id=command_event_id(command.idempotency_key),
        organization_id=org_id,
        contact_id=contact_id,
        occurred_at=stamp,
    )
    if verb in DELETING:
        event.type = "contact.deleted"
        if verb == "merge_contacts":
            event.data.update({"merged_into": command.contact_id})
        return event
    event.type = COMMAND_APPLIED
    values = json_format.MessageToDict(getattr(command, verb), preserving_proto_field_name=True)
    event.data.update(
        {
            "command": verb,
            "values": values,
            "idempotency_key": command.idempotency_key,
            "execution_id": command.execution_id,
            "automation_id": command.automation_id,
        }
    )
    return event


def _set_field(state: ContactState, name: str, value: Any) -> None:
    if value is None:
        state.fields.pop(name, None)
    else:
        state.fields[name] = value


def _consent(state: ContactState, changes: dict[str, bool]) -> None:
    current = dict(state.fields.get("consent") or {})
    current.update(changes)
    state.fields["consent"] = {channel: bool(current.get(channel)) for channel in CHANNELS}


def _members(values: list[str], item: str, add: bool) -> list[str]:
    found = set(values)
    if add:
        found.add(item)
    else:
        found.discard(item)
    return sorted(found)


def apply_command(state: ContactState, data: dict[str, Any]) -> bool:
    """Applies a :data:`COMMAND_APPLIED` event's command to the contact; False for an unknown verb."""
    verb = data.get("command")
    values = data.get("values") or {}
    if not isinstance(values, dict):
        return False
    if verb in ("add_tag", "remove_tag"):
        state.tags = _members(state.tags, str(values.get("tag", "")), verb == "add_tag")
    elif verb in ("add_to_list", "remove_from_list"):
        state.lists = _members(state.lists, str(values.get("list", "")), verb == "add_to_list")
    elif verb in ("update_field", "update_custom_field"):
        _set_field(state, str(values.get("field", "")), values.get("value"))
    elif verb == "copy_field":
        _set_field(state, str(values.get("to_field", "")), values.get("value"))
    elif verb == "append_to_field":
        name = str(values.get("field", ""))
        current = state.fields.get(name)
        text = str(values.get("text", ""))
        state.fields[name] = (
            f"{current}{values.get('separator', '')}{text}" if current not in (None, "") else text
        )
    elif verb == "update_score":
        state.score = float(state.score or 0) + float(values.get("delta", 0))
    elif verb == "calculate_lead_score":
        state.score = float(values.get("score", 0))
    elif verb == "update_lifecycle_stage":
        state.lifecycle_stage = str(values.get("stage", "")) or None
    elif verb == "subscribe_newsletter":
        current = state.fields.get("subscriptions")
        subscriptions = [str(s) for s in current] if isinstance(current, list) else []
        newsletter = str(values.get("newsletter", ""))
        state.fields["subscriptions"] = (
            [*subscriptions, newsletter] if newsletter not in subscriptions else subscriptions
        )
    elif verb == "unsubscribe":
        channels = values.get("channels") or list(CHANNELS)
        _consent(state, {str(channel): False for channel in channels})
    elif verb == "update_consent":
        _consent(state, {channel: bool(values[channel]) for channel in CHANNELS if channel in values})
    elif verb == "set_do_not_contact":
        flag = bool(values.get("do_not_contact", False))
        state.fields["do_not_contact"] = flag
        if flag:
            _consent(state, dict.fromkeys(CHANNELS, False))
    else:
        return False
    return True
