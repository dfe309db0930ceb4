"""Registered waits: stored, cancelled, closed when they fire, purged when old."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Text, and_, any_, bindparam, delete, func, literal, or_, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert

from beez.trigger.domain.waits import Registration
from beez.trigger.models import enrollments, waits
from beez.trigger.repository.base import Queries, param, rowcount

OPEN_WAITS = (
    select(
        waits.c.id,
        waits.c.execution_id,
        waits.c.contact_id,
        waits.c.kind,
        waits.c.event_type,
        waits.c.filters,
        waits.c.conditions,
        waits.c.expires_at,
        func.coalesce(enrollments.c.priority, literal("normal")),
    )
    .select_from(waits.outerjoin(enrollments, enrollments.c.execution_id == waits.c.execution_id))
    .where(
        waits.c.org_id == param("org_id"),
        waits.c.contact_id == any_(bindparam("contacts", type_=ARRAY(Text))),
        waits.c.closed_at.is_(None),
        or_(waits.c.expires_at.is_(None), waits.c.expires_at > param("now", DateTime(timezone=True))),
    )
    .order_by(waits.c.registered_at, waits.c.id)
)
"""The open, unexpired waits of some contacts, with their execution's job priority; run by
:meth:`~beez.trigger.repository.Repository.ingest_lookups`."""

_CLOSE_WAIT = (
    update(waits)
    .where(waits.c.id == param("wait_id"), waits.c.org_id == param("wait_org"), waits.c.closed_at.is_(None))
    .values(closed_at=param("now", DateTime(timezone=True)), closed_reason=param("reason"))
    .returning(waits.c.id)
)


class WaitQueries(Queries):
    """Registrations, cancellations, firing and purging of waits."""

    async def register_wait(self, wait: Registration, now: datetime) -> bool:
        """Stores a registration unless its id is known (open, fired or cancelled); True if stored.

        A registration for an execution of its organization that has already ended is stored
        closed; another organization's enrollment is neither read nor locked.
        """
        ended_at = await self.conn.scalar(
            select(enrollments.c.ended_at)
            .where(enrollments.c.execution_id == wait.execution_id, enrollments.c.org_id == wait.org_id)
            .with_for_update(read=True)
        )
        inserted = await self.conn.execute(
            pg_insert(waits)
            .values(
                id=wait.id,
                org_id=wait.org_id,
                execution_id=wait.execution_id,
                contact_id=wait.contact_id,
                kind=wait.kind,
                event_type=wait.event_type,
                filters=wait.filters,
                conditions=wait.conditions,
                expires_at=wait.expires_at,
                registered_at=now,
                closed_at=ended_at,
                closed_reason="execution_ended" if ended_at is not None else None,
            )
            .on_conflict_do_nothing()
            .returning(waits.c.id)
        )
        return inserted.first() is not None

    async def cancel_wait(self, wait: Registration, now: datetime) -> None:
        """Closes the organization's wait, leaving a tombstone even when its registration has not
        arrived yet; another organization's wait of that id stays as it is."""
        stmt = pg_insert(waits).values(
            id=wait.id,
            org_id=wait.org_id,
            execution_id=wait.execution_id,
            contact_id=wait.contact_id,
            kind=wait.kind,
            event_type=wait.event_type,
            filters={},
            conditions=[],
            expires_at=wait.expires_at,
            registered_at=now,
            closed_at=now,
            closed_reason="cancelled",
        )
        await self.conn.execute(
            stmt.on_conflict_do_update(
                index_elements=[waits.c.id],
                set_={"closed_at": now, "closed_reason": "cancelled"},
                where=and_(waits.c.closed_at.is_(None), waits.c.org_id == wait.org_id),
            )
        )

    async def close_wait(self, org_id: str, wait_id: str, reason: str, now: datetime) -> bool:
        """Closes the organization's open wait; False when another transaction closed it first."""
        return await self._wrote(
            _CLOSE_WAIT, {"wait_org": org_id, "wait_id": wait_id, "now": now, "reason": reason}
        )

    async def purge_waits(self, before: datetime, limit: int) -> int:
        """Deletes up to ``limit`` waits closed or expired before the cutoff."""
        old = (
            select(waits.c.id)
            .where(or_(waits.c.closed_at < before, waits.c.expires_at < before))
            .limit(limit)
            .scalar_subquery()
        )
        result = await self.conn.execute(delete(waits).where(waits.c.id.in_(old)))
        return rowcount(result)
