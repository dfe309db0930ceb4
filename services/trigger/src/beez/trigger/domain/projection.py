"""The contact projection's merge rules: what one event (or one imported contact) does to a contact.

Pure logic; :mod:`beez.trigger.projection` reads the rows, calls :func:`apply_event` or
:func:`apply_snapshot` once per change in order, and writes the results back.

* **Snapshots.** A ``contact.created``/``contact.updated`` snapshot (and an imported contact) is
  complete: it replaces the contact's fields, custom fields included. A snapshot riding on any
  other event is partial: non-empty text overwrites, custom fields merge key by key, tags and
  lists overwrite when non-empty (always on ``tag.removed``/``list.left``), the score when non-zero.
  Either applies only when its ``occurred_at`` is not older than the newest snapshot applied
  (``observed_at``), so a late, older snapshot never overwrites newer values.
* **Counters.** Every event counts under its type in the UTC day it occurred, whatever its age
  (the event history dedupes ids, so a redelivery counts nothing); days older than the retention
  are dropped, so the row stays bounded. A ``page.visited`` with ``data.page`` also counts under
  ``page.visited@<page>`` (at most :data:`MAX_COUNTER_KEYS` keys per contact).
* **RFM.** :data:`PURCHASE_EVENTS` raise the purchase count and the monetary value by
  ``data.amount`` (or ``total``/``value``) and move the last purchase forward.
* **Signals.** ``data.user_agent`` sets the device class, an incoming message's text the
  sentiment, both only forward in time.
* **Commands.** A workflow's command to the CRM, as a ``contact.command_applied`` event
  (:mod:`beez.trigger.domain.commands`), changes what it names and counts nothing.
* **Deletion.** ``contact.deleted`` clears the contact to a tombstone; later events leave it so,
  except a ``contact.created`` that occurred after the deletion.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from beez.api.messages.v1.events_pb2 import Contact, Event
from beez.trigger.domain.commands import COMMAND_APPLIED, apply_command
from beez.workflow.model import struct_to_dict

CONTACT_CREATED = "contact.created"
CONTACT_UPDATED = "contact.updated"
CONTACT_DELETED = "contact.deleted"
COMPLETE_SNAPSHOTS = frozenset({CONTACT_CREATED, CONTACT_UPDATED})
MEMBERSHIP_REMOVALS = frozenset({"tag.removed", "list.left"})
PURCHASE_EVENTS = frozenset({"purchase.made", "payment.received", "order.completed"})
MESSAGE_EVENTS = frozenset(
    {"message.received", "whatsapp.received", "sms.received", "email.received", "chat.received"}
)
ENGAGEMENT_EVENTS = frozenset(
    {
        "email.opened",
        "email.clicked",
        "link.clicked",
        "form.submitted",
        "page.visited",
        "purchase.made",
        *MESSAGE_EVENTS,
    }
)
"""What engagement level counts: the contact's own interactions."""
PASSIVE_PREFIXES = ("contact.", "automation.", "campaign.", "email.sent")
"""Events that are not the contact's activity (``last_activity_at`` ignores them)."""
PAGE_VISITED = "page.visited"
MAX_COUNTER_KEYS = 64
"""The most counter keys one contact keeps (event types plus visited pages)."""
MAX_MESSAGE_CHARS = 5_000
"""The longest text whose sentiment is scored (the start of a longer one)."""

STANDARD_FIELDS: dict[str, str] = {
    "email": "string",
    "phone": "string",
    "first_name": "string",
    "last_name": "string",
    "timezone": "string",
    "country": "string",
    "region": "string",
    "lifecycle_stage": "string",
    "score": "number",
    "tags": "list",
    "lists": "list",
    "consent.email": "boolean",
    "consent.sms": "boolean",
    "consent.whatsapp": "boolean",
    "created_at": "datetime",
    "preferred_channel": "string",
}
"""The contact fields every organization has, by the name conditions use, with their types."""

SYSTEM_FIELDS: dict[str, str] = {
    "last_activity_at": "datetime",
    "last_purchase_at": "datetime",
    "purchase_count": "number",
    "monetary": "number",
    "device": "string",
    "sentiment": "number",
    "engagement": "number",
    "rfm": "object",
}
"""What the projection derives from events, readable by conditions like fields."""

_SNAPSHOT_KEYS = frozenset({"country", "region", "lifecycle_stage", "created_at"})
"""Snapshot ``fields`` that the projection keeps as standard fields (columns or ``fields``)."""
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


@dataclass
class ContactState:
    """One row of ``trigger.contacts`` in memory (see :class:`beez.trigger.models.Contact`)."""

    contact_id: str
    email: str | None = None
    phone: str | None = None
    timezone: str | None = None
    country: str | None = None
    score: float | None = None
    lifecycle_stage: str | None = None
    tags: list[str] = field(default_factory=list)
    lists: list[str] = field(default_factory=list)
    fields: dict[str, Any] = field(default_factory=dict)
    counters: dict[str, dict[str, int]] = field(default_factory=dict)
    signals: dict[str, Any] = field(default_factory=dict)
    created_at: datetime | None = None
    last_activity_at: datetime | None = None
    last_purchase_at: datetime | None = None
    purchase_count: int = 0
    monetary: float = 0.0
    observed_at: datetime | None = None
    deleted_at: datetime | None = None

    def copy(self) -> ContactState:
        return copy.deepcopy(self)

    @property
    def deleted(self) -> bool:
        return self.deleted_at is not None


def _text(value: str) -> str | None:
    return value or None


def _as_datetime(value: Any) -> datetime | None:
    if not isinstance(value, str) or not _DATE.match(value):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def date_value(value: Any) -> date | None:
    """The date an ISO date or datetime string names, else None (``contact_dates`` rows)."""
    if not isinstance(value, str) or not _DATE.match(value):
        return None
    try:
        if len(value) == 10:
            return date.fromisoformat(value)
        return datetime.fromisoformat(value.replace("Z", "+00:00")).date()
    except ValueError:
        return None


def snapshot_of(event: Event) -> Contact | None:
    """The contact snapshot an event carries: ``contact``, else ``data.contact`` of contact.* events."""
    if event.HasField("contact"):
        return event.contact
    if event.type.startswith("contact.") and "contact" in event.data.fields:
        from beez.workflow.context import contact_from_json

        data = struct_to_dict(event.data)
        found = data.get("contact")
        if isinstance(found, dict):
            return contact_from_json(found)
    return None


def apply_snapshot(state: ContactState, snapshot: Contact, occurred_at: datetime, *, complete: bool) -> bool:
    """Applies a snapshot taken at ``occurred_at``; False when it is older than what the row holds."""
    if state.observed_at is not None and occurred_at < state.observed_at:
        return False
    state.observed_at = occurred_at
    custom = struct_to_dict(snapshot.fields)
    standard = {key: custom.pop(key) for key in list(custom) if key in _SNAPSHOT_KEYS}
    if complete:
        state.email = _text(snapshot.email)
        state.phone = _text(snapshot.phone)
        state.timezone = _text(snapshot.timezone)
        state.tags = sorted(set(snapshot.tags))
        state.lists = sorted(set(snapshot.lists))
        state.score = float(snapshot.score)
        names = {"first_name": snapshot.first_name, "last_name": snapshot.last_name}
        fields: dict[str, Any] = {key: value for key, value in names.items() if value}
        fields["consent"] = {
            "email": snapshot.consent.email,
            "sms": snapshot.consent.sms,
            "whatsapp": snapshot.consent.whatsapp,
        }
        fields.update({key: value for key, value in custom.items() if value is not None})
        state.fields = fields
        state.country = _country(standard.get("country"))
        state.lifecycle_stage = _str_or_none(standard.get("lifecycle_stage"))
        _set_or_drop(state.fields, "region", _str_or_none(standard.get("region")))
    else:
        state.email = _text(snapshot.email) or state.email
        state.phone = _text(snapshot.phone) or state.phone
        state.timezone = _text(snapshot.timezone) or state.timezone
        if snapshot.score:
            state.score = float(snapshot.score)
        for key, value in {"first_name": snapshot.first_name, "last_name": snapshot.last_name}.items():
            if value:
                state.fields[key] = value
        if snapshot.HasField("consent"):
            state.fields["consent"] = {
                "email": snapshot.consent.email,
                "sms": snapshot.consent.sms,
                "whatsapp": snapshot.consent.whatsapp,
            }
        for key, value in custom.items():
            if value is None:
                state.fields.pop(key, None)
            else:
                state.fields[key] = value
        if "country" in standard:
            state.country = _country(standard["country"])
        if "lifecycle_stage" in standard:
            state.lifecycle_stage = _str_or_none(standard["lifecycle_stage"])
        if "region" in standard:
            _set_or_drop(state.fields, "region", _str_or_none(standard["region"]))
    if "created_at" in standard:
        state.created_at = _as_datetime(standard["created_at"]) or state.created_at
    return True


def _str_or_none(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def _country(value: Any) -> str | None:
    text = _str_or_none(value)
    return text.upper() if text is not None else None


def _set_or_drop(target: dict[str, Any], key: str, value: Any) -> None:
    if value is None:
        target.pop(key, None)
    else:
        target[key] = value


def tombstone(state: ContactState, at: datetime) -> None:
    """Clears everything the contact held; the row stays so late events cannot revive it."""
    cleared = ContactState(state.contact_id, deleted_at=at, observed_at=at)
    state.__dict__.update(cleared.__dict__)


def count(state: ContactState, key: str, day: str, keep_after: str) -> None:
    """Counts one occurrence of ``key`` on ``day`` (``YYYY-MM-DD``); prunes that key's old days."""
    days = state.counters.get(key)
    if days is None:
        if len(state.counters) >= MAX_COUNTER_KEYS:
            return
        days = state.counters[key] = {}
    days[day] = days.get(day, 0) + 1
    for old in [d for d in days if d < keep_after]:
        del days[old]


def prune_counters(state: ContactState, keep_after: str) -> None:
    """Drops every counted day before ``keep_after``, and keys left with no day."""
    for key in list(state.counters):
        days = {d: n for d, n in state.counters[key].items() if d >= keep_after}
        if days:
            state.counters[key] = days
        else:
            del state.counters[key]


def _amount(data: dict[str, Any]) -> float:
    for key in ("amount", "total", "value"):
        value = data.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    return 0.0


@dataclass(frozen=True, slots=True)
class Applied:
    """What :func:`apply_event` did: whether anything changed, and the counter keys it counted."""

    changed: bool
    counted: tuple[str, ...] = ()
    purchase: bool = False
    deleted: bool = False


def apply_event(
    state: ContactState, event: Event, data: dict[str, Any], retention_days: int, signals: Any
) -> Applied:
    """Applies one new event to its contact's state (see the module docstring).

    ``signals`` classifies user agents and scores message text
    (:class:`beez.trigger.domain.signals.Signals`).
    """
    occurred = event.occurred_at.ToDatetime(tzinfo=UTC)
    if event.type == CONTACT_DELETED:
        if state.deleted and state.deleted_at is not None and state.deleted_at >= occurred:
            return Applied(False)
        tombstone(state, occurred)
        return Applied(True, deleted=True)
    if state.deleted:
        revived = (
            event.type == CONTACT_CREATED and state.deleted_at is not None and occurred > state.deleted_at
        )
        if not revived:
            return Applied(False)
        state.deleted_at = None
    if event.type == COMMAND_APPLIED:  # a workflow's command to the CRM (decision 0042)
        return Applied(apply_command(state, data))
    snapshot = snapshot_of(event)
    if snapshot is not None:
        complete = event.type in COMPLETE_SNAPSHOTS
        apply_snapshot(state, snapshot, occurred, complete=complete)
        if not complete and event.type in MEMBERSHIP_REMOVALS:
            state.tags = sorted(set(snapshot.tags))
            state.lists = sorted(set(snapshot.lists))
        elif not complete:
            if len(snapshot.tags):
                state.tags = sorted(set(snapshot.tags))
            if len(snapshot.lists):
                state.lists = sorted(set(snapshot.lists))
    if event.type == CONTACT_CREATED and state.created_at is None:
        state.created_at = occurred
    day = occurred.date().isoformat()
    keep_after = (occurred.date() - timedelta(days=retention_days)).isoformat()
    counted = [event.type]
    prune_counters(state, keep_after)
    count(state, event.type, day, keep_after)
    page = data.get("page") or data.get("url")
    if event.type == PAGE_VISITED and isinstance(page, str) and page:
        key = f"{PAGE_VISITED}@{page[:200]}"
        count(state, key, day, keep_after)
        counted.append(key)
    if not event.type.startswith(PASSIVE_PREFIXES) and (
        state.last_activity_at is None or occurred > state.last_activity_at
    ):
        state.last_activity_at = occurred
    purchase = event.type in PURCHASE_EVENTS
    if purchase:
        state.purchase_count += 1
        state.monetary = round(state.monetary + _amount(data), 2)
        if state.last_purchase_at is None or occurred > state.last_purchase_at:
            state.last_purchase_at = occurred
    agent = data.get("user_agent")
    if isinstance(agent, str) and agent and _newer(state.signals.get("device_at"), occurred):
        state.signals["device"] = signals.device(agent)
        state.signals["device_at"] = occurred.isoformat()
    text = data.get("text") or data.get("message") or data.get("body")
    if (
        event.type in MESSAGE_EVENTS
        and isinstance(text, str)
        and text
        and _newer(state.signals.get("sentiment_at"), occurred)
    ):
        state.signals["sentiment"] = signals.sentiment(text[:MAX_MESSAGE_CHARS])
        state.signals["sentiment_at"] = occurred.isoformat()
    return Applied(True, tuple(counted), purchase)


def _newer(stamp: Any, moment: datetime) -> bool:
    previous = _as_datetime(stamp)
    return previous is None or moment >= previous


def view(state: ContactState) -> dict[str, Any]:
    """The contact as conditions read it: one flat mapping from field name to value.

    Standard fields by name (``consent.email`` flattened), custom fields by their own name (a
    custom field never shadows a standard one), and the system fields the projection derives.
    """
    custom = {
        key: value for key, value in state.fields.items() if key not in STANDARD_FIELDS and key != "consent"
    }
    consent = state.fields.get("consent") or {}
    result: dict[str, Any] = {
        **custom,
        "email": state.email,
        "phone": state.phone,
        "first_name": state.fields.get("first_name"),
        "last_name": state.fields.get("last_name"),
        "timezone": state.timezone,
        "country": state.country,
        "region": state.fields.get("region"),
        "lifecycle_stage": state.lifecycle_stage,
        "score": state.score,
        "tags": list(state.tags),
        "lists": list(state.lists),
        "consent.email": bool(consent.get("email")),
        "consent.sms": bool(consent.get("sms")),
        "consent.whatsapp": bool(consent.get("whatsapp")),
        "created_at": state.created_at.isoformat() if state.created_at else None,
        "preferred_channel": state.fields.get("preferred_channel") or _busiest_channel(state),
        "last_activity_at": state.last_activity_at.isoformat() if state.last_activity_at else None,
        "last_purchase_at": state.last_purchase_at.isoformat() if state.last_purchase_at else None,
        "purchase_count": state.purchase_count,
        "monetary": state.monetary,
        "device": state.signals.get("device"),
        "sentiment": state.signals.get("sentiment"),
    }
    return result


_CHANNEL_OF = {
    "email.opened": "email",
    "email.clicked": "email",
    "email.received": "email",
    "sms.received": "sms",
    "whatsapp.received": "whatsapp",
}


def _busiest_channel(state: ContactState) -> str | None:
    """The channel the contact engages on most within the kept days (ties: alphabetical)."""
    totals: dict[str, int] = {}
    for key, days in state.counters.items():
        channel = _CHANNEL_OF.get(key)
        if channel is not None:
            totals[channel] = totals.get(channel, 0) + sum(days.values())
    if not totals:
        return None
    return min(totals, key=lambda channel: (-totals[channel], channel))


def is_new(state: ContactState) -> bool:
    """Whether the projection knows nothing of the contact yet (a row just created to lock it)."""
    return state.observed_at is None and not state.counters and not state.deleted and not state.fields


def changed_fields(
    before: dict[str, Any], after: dict[str, Any], applied: Applied, *, new: bool = False
) -> set[str]:
    """The field names whose value differs between two views, plus what counting touched:
    ``counters.<key>`` per counted key, ``engagement`` for an engagement event, ``rfm`` for a
    purchase. For a ``new`` contact every field counts as changed: a condition about an absent
    value (``null_check``) must be evaluated when the contact appears."""
    if new:
        changed = set(after)
    else:
        changed = {key for key in before.keys() | after.keys() if before.get(key) != after.get(key)}
    changed.update(f"counters.{key}" for key in applied.counted)
    if any(key in ENGAGEMENT_EVENTS for key in applied.counted):
        changed.add("engagement")
    if applied.purchase or "last_purchase_at" in changed:
        changed.add("rfm")
    return changed


def dates_of(state: ContactState) -> dict[str, date]:
    """The date-valued fields of a contact (``contact_dates`` rows): custom fields holding an ISO
    date or datetime, and ``created_at``."""
    if state.deleted:
        return {}
    found: dict[str, date] = {}
    for key, value in state.fields.items():
        if key in STANDARD_FIELDS or key == "consent":
            continue
        day = date_value(value)
        if day is not None:
            found[key] = day
    if state.created_at is not None:
        found["created_at"] = state.created_at.date()
    return found


def field_type(value: Any) -> str:
    """The registry type of a custom field's value."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, str):
        if _DATE.match(value):
            return "date" if len(value) == 10 else "datetime"
        return "string"
    return "string"


def custom_fields(state: ContactState) -> dict[str, str]:
    """The custom fields of a contact with their types (the per-organization field registry)."""
    return {
        key: field_type(value)
        for key, value in state.fields.items()
        if key not in STANDARD_FIELDS and key != "consent" and value is not None
    }


def numeric_fields(view_: dict[str, Any]) -> dict[str, float]:
    """The numeric values of a view (the per-field sketches behind ``mathematical``)."""
    return {
        key: float(value)
        for key, value in view_.items()
        if isinstance(value, int | float) and not isinstance(value, bool) and key != "sentiment"
    }
