"""The event history: every event ingested, and which executions it started."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, text, tuple_

from beez.api.messages.v1.events_pb2 import Event
from beez.trigger.models import enrollments, events
from beez.trigger.repository.base import Queries, rowcount


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An event of the history."""

    event_id: str
    payload: bytes
    received_at: datetime


RECORD_EVENTS = text(
    f"""
    INSERT INTO {events.fullname} (org_id, event_id, type, contact_id, occurred_at, received_at, payload)
    SELECT :org_id, e.event_id, e.type, e.contact_id, e.occurred_at, :received_at, e.payload
    FROM unnest(
        CAST(:event_ids AS text[]), CAST(:types AS text[]), CAST(:contact_ids AS text[]),
        CAST(:occurred AS timestamptz[]), CAST(:payloads AS bytea[])
    ) AS e(event_id, type, contact_id, occurred_at, payload)
    ON CONFLICT DO NOTHING
    RETURNING event_id
    """
)
"""One statement text whatever the batch size, so it is compiled and prepared once."""


def record_params(org_id: str, batch: Sequence[Event], received_at: datetime) -> dict[str, Any]:
    """The column arrays of :data:`RECORD_EVENTS` for ``batch``."""
    tz = received_at.tzinfo
    return {
        "org_id": org_id,
        "received_at": received_at,
        "event_ids": [event.id for event in batch],
        "types": [event.type for event in batch],
        "contact_ids": [event.contact_id or None for event in batch],
        "occurred": [event.occurred_at.ToDatetime(tzinfo=tz) for event in batch],
        "payloads": [event.SerializeToString() for event in batch],
    }


class EventQueries(Queries):
    """Reads of the history and its purge (events are recorded by ingestion's round trip)."""

    async def list_events(
        self,
        org_id: str,
        *,
        type_: str,
        contact_id: str,
        since: datetime | None,
        before: tuple[datetime, str] | None,
        limit: int,
    ) -> list[StoredEvent]:
        """Events of ``org_id``, newest first, optionally filtered, after the ``before`` cursor."""
        query = select(events.c.event_id, events.c.payload, events.c.received_at).where(
            events.c.org_id == org_id
        )
        if type_:
            query = query.where(events.c.type == type_)
        if contact_id:
            query = query.where(events.c.contact_id == contact_id)
        if since is not None:
            query = query.where(events.c.received_at >= since)
        if before is not None:
            query = query.where(tuple_(events.c.received_at, events.c.event_id) < tuple_(*before))
        query = query.order_by(events.c.received_at.desc(), events.c.event_id.desc()).limit(limit)
        return [StoredEvent(*row) for row in await self.conn.execute(query)]

    async def executions_started_by(self, org_id: str, event_ids: Sequence[str]) -> dict[str, list[str]]:
        """The executions each event started, oldest first."""
        if not event_ids:
            return {}
        rows = await self.conn.execute(
            select(enrollments.c.event_id, enrollments.c.execution_id)
            .where(enrollments.c.org_id == org_id, enrollments.c.event_id.in_(list(event_ids)))
            .order_by(enrollments.c.created_at, enrollments.c.execution_id)
        )
        started: dict[str, list[str]] = {}
        for event_id, execution_id in rows:
            started.setdefault(event_id, []).append(execution_id)
        return started

    async def purge_events(self, received_before: datetime, limit: int) -> int:
        """Deletes up to ``limit`` events received before the cutoff."""
        old = (
            select(events.c.org_id, events.c.event_id)
            .where(events.c.received_at < received_before)
            .limit(limit)
        )
        result = await self.conn.execute(
            delete(events).where(tuple_(events.c.org_id, events.c.event_id).in_(old))
        )
        return rowcount(result)
