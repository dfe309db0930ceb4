"""The event history behind ListEvents: newest first, cursor-paginated, scoped to one organization.

The cursor is the ``(received_at, event_id)`` of the last event of a page, so pages stay
consistent while new events arrive (they land before the first page, not in the middle).
``since`` bounds ``received_at``, the time the engine took the event in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from beez.api.messages.v1.events_pb2 import Event
from beez.kit.db import Database
from beez.kit.paging import MomentKey, PageRequest, cut_page
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


async def list_events(
    db: Database,
    org_id: str,
    *,
    type_: str = "",
    contact_id: str = "",
    since: datetime | None = None,
    page: PageRequest[MomentKey],
) -> HistoryPage:
    """One page of ``org_id``'s events with the executions each started."""
    async with db.transaction() as session:
        repo = await Repository.of(session)
        rows = await repo.list_events(
            org_id, type_=type_, contact_id=contact_id, since=since, before=page.after, limit=page.size + 1
        )
        served, token = cut_page(rows, page.size, lambda row: (row.received_at, row.event_id))
        started = await repo.executions_started_by(org_id, [row.event_id for row in served])
    entries = [
        HistoryEntry(Event.FromString(row.payload), row.received_at, tuple(started.get(row.event_id, ())))
        for row in served
    ]
    return HistoryPage(entries, token)
