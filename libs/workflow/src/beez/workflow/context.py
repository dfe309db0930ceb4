"""The context conditions and templates read: ``contact``, ``event``, ``vars``, ``execution``.

Whatever spelling the JSON used, the context has snake_case keys (``contact.first_name``,
``contact.consent.email``, ``contact.fields.plan``, ``event.data.list``, ``event.occurred_at``),
so conditions and templates are written one way. Values are plain Python (dicts, lists, str,
int, float, bool, None): whole numbers from Struct data become ints so a template shows ``3``
rather than ``3.0``; ``event.occurred_at`` is an RFC 3339 string, as in the JSON.

Proto3 cannot tell an empty string from a missing one, so a contact's text fields are always
present (possibly empty, which ``is_empty`` treats as empty); without a contact or an event the
root is an empty object and every field under it is missing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from beez.api.messages.v1.events_pb2 import Contact, Event
from beez.workflow.model import message_from_json, plain, struct_to_dict

__all__ = ["build_context", "contact_from_json", "contact_to_dict", "event_from_json", "event_to_dict"]


def contact_to_dict(contact: Contact) -> dict[str, Any]:
    """A contact as the ``contact`` root of a context."""
    return {
        "id": contact.id,
        "email": contact.email,
        "phone": contact.phone,
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "tags": list(contact.tags),
        "lists": list(contact.lists),
        "score": contact.score,
        "timezone": contact.timezone,
        "consent": {
            "email": contact.consent.email,
            "sms": contact.consent.sms,
            "whatsapp": contact.consent.whatsapp,
            "push": contact.consent.push,
        },
        "fields": struct_to_dict(contact.fields),
    }


def event_to_dict(event: Event) -> dict[str, Any]:
    """An event as the ``event`` root of a context (its contact goes to the ``contact`` root)."""
    result: dict[str, Any] = {
        "id": event.id,
        "type": event.type,
        "contact_id": event.contact_id,
        "data": struct_to_dict(event.data),
    }
    if event.HasField("occurred_at"):
        result["occurred_at"] = event.occurred_at.ToJsonString()
    return result


def build_context(
    event: Event | None,
    contact: Contact | None,
    vars: Mapping[str, Any] | None = None,
    execution: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The evaluation and template context.

    ``contact`` defaults to the event's own contact snapshot when the event carries one.
    ``vars`` are the values earlier steps set; ``execution`` describes the run (id, automation
    id, step...). Both are copied as plain JSON-like values.
    """
    if contact is None and event is not None and event.HasField("contact"):
        contact = event.contact
    return {
        "contact": contact_to_dict(contact) if contact is not None else {},
        "event": event_to_dict(event) if event is not None else {},
        "vars": plain(dict(vars or {})),
        "execution": plain(dict(execution or {})),
    }


def contact_from_json(data: Mapping[str, Any] | str | bytes) -> Contact:
    """Reads a contact from JSON, in lowerCamelCase or snake_case.

    Raises:
        WorkflowError: listing unknown fields and badly typed values with their paths.
    """
    return message_from_json(data, Contact(), "a contact")


def event_from_json(data: Mapping[str, Any] | str | bytes) -> Event:
    """Reads an event (with its optional contact snapshot) from JSON, in either spelling.

    Raises:
        WorkflowError: listing unknown fields and badly typed values with their paths.
    """
    return message_from_json(data, Event(), "an event")
