"""The event history behind ListEvents: newest first, cursor-paginated, scoped to one organization.

The cursor is the ``(received_at, event_id)`` of the last event of a page, so pages stay
consistent while new events arrive (they land before the first page, not in the middle).
``since`` bounds ``received_at``, the time the engine took the event in.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime

from beez.api.messages.v1.events_pb2 import Event
from beez.kit.db import Database
from beez.kit.grpc.errors import FieldViolation, InvalidArgument
from beez.trigger.repository import Repository


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    event: Event
    received_at: datetime
    execution_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class HistoryPage:
    entries: list[HistoryEntry]
    next_page_token: str


def encode_token(received_at: datetime, event_id: str) -> str:
    raw = json.dumps([received_at.isoformat(), event_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str) -> tuple[datetime, str]:
    """The cursor in ``token``; raises InvalidArgument for anything this service did not issue."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        stamp, event_id = json.loads(raw)
        moment = datetime.fromisoformat(stamp)
        if not isinstance(event_id, str) or moment.tzinfo is None:
            raise ValueError("bad cursor")
    except (ValueError, TypeError, binascii.Error) as exc:
        raise InvalidArgument(
            "invalid page token", [FieldViolation("pageToken", "is not a valid page token")]
        ) from exc
    return moment, event_id


async def list_events(
    db: Database,
    org_id: str,
    *,
    type_: str = "",
    contact_id: str = "",
    since: datetime | None = None,
    page_size: int,
    page_token: str = "",
) -> HistoryPage:
    """One page of ``org_id``'s events with the executions each started."""
    before = decode_token(page_token) if page_token else None
    async with db.transaction() as session:
        repo = await Repository.of(session)
        rows = await repo.list_events(
            org_id, type_=type_, contact_id=contact_id, since=since, before=before, limit=page_size + 1
        )
        page, more = rows[:page_size], len(rows) > page_size
        started = await repo.executions_started_by(org_id, [row.event_id for row in page])
    entries = [
        HistoryEntry(Event.FromString(row.payload), row.received_at, tuple(started.get(row.event_id, ())))
        for row in page
    ]
    token = encode_token(page[-1].received_at, page[-1].event_id) if more and page else ""
    return HistoryPage(entries, token)
