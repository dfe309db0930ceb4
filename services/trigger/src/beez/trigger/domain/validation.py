"""Checking and completing incoming events before anything is recorded.

Rules, where the format leaves them open:

- ``type`` is required, at most 200 characters, dot-separated words of ``[A-Za-z0-9_-]``: the
  same pattern automations are validated against for ``trigger.event``, so every type an
  automation may listen to can be published, and every type is a valid run of NATS subject
  tokens for ``events.<org>.<type>``;
- ``id`` is optional (``evt_<uuid7>`` is given when missing); when given it is at most 200
  printable ASCII characters without spaces, because it travels as the ``Nats-Msg-Id`` header;
- ``contactId`` defaults to ``contact.id``; when both are given they must agree;
- ``occurredAt`` defaults to the time of receipt;
- ``organizationId`` is always overwritten with the caller's organization;
- the serialized event is at most ``max_bytes``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from beez.api.messages.v1.events_pb2 import Event
from beez.kit.grpc.errors import FieldViolation
from beez.kit.ids import new_hex_id
from beez.workflow.catalog import EVENT_NAME_PATTERN

MAX_TYPE_LENGTH = 200
MAX_ID_LENGTH = 200

_TYPE = re.compile(EVENT_NAME_PATTERN)
_ID = re.compile(r"^[\x21-\x7e]+$")
_EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
_LATEST = datetime(9999, 12, 31, tzinfo=UTC)


def event_type_problem(type_: str) -> str | None:
    """Why ``type_`` is not a valid event type, or None."""
    if not type_:
        return "is required"
    if len(type_) > MAX_TYPE_LENGTH:
        return f"must be at most {MAX_TYPE_LENGTH} characters"
    if not _TYPE.match(type_):
        return "must be dot-separated words of letters, digits, '_' and '-', such as list.joined"
    return None


def normalize_event(
    event: Event, org_id: str, now: datetime, path: str, max_bytes: int
) -> tuple[Event, list[FieldViolation]]:
    """A completed copy of ``event`` for ``org_id``, and every problem found (paths under ``path``)."""
    violations: list[FieldViolation] = []
    result = Event()
    result.CopyFrom(event)
    result.organization_id = org_id

    problem = event_type_problem(result.type)
    if problem:
        violations.append(FieldViolation(f"{path}.type", problem))

    if not result.id:
        result.id = new_hex_id("evt_")
    elif len(result.id) > MAX_ID_LENGTH or not _ID.match(result.id):
        violations.append(
            FieldViolation(
                f"{path}.id", f"must be 1 to {MAX_ID_LENGTH} printable ASCII characters without spaces"
            )
        )

    snapshot_id = result.contact.id if result.HasField("contact") else ""
    if not result.contact_id:
        result.contact_id = snapshot_id
    elif snapshot_id and snapshot_id != result.contact_id:
        violations.append(FieldViolation(f"{path}.contactId", "does not match contact.id"))
    if len(result.contact_id) > MAX_ID_LENGTH:
        violations.append(FieldViolation(f"{path}.contactId", f"must be at most {MAX_ID_LENGTH} characters"))

    if not result.HasField("occurred_at"):
        result.occurred_at.FromDatetime(now)
    else:
        try:
            moment = result.occurred_at.ToDatetime(tzinfo=UTC)
        except (ValueError, OverflowError):
            moment = None
        if moment is None or not _EARLIEST <= moment <= _LATEST:
            violations.append(FieldViolation(f"{path}.occurredAt", "is not a valid time"))

    if result.ByteSize() > max_bytes:
        violations.append(FieldViolation(path, f"is larger than {max_bytes} bytes"))
    return result, violations
