"""STARTs the executor has not reported started, for the start sweeper (decision 0008)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import any_, select, update

from beez.trigger.models import enrollments
from beez.trigger.repository.base import IDS, Queries


@dataclass(frozen=True, slots=True)
class PendingStart:
    """An enrollment whose START the executor has not reported started."""

    execution_id: str
    org_id: str
    start: bytes
    redispatches: int
    priority: str
    """The enrollment's job priority, for START payloads stored before ``priority_level`` existed."""


class StartQueries(Queries):
    """Finds overdue STARTs and records their re-dispatch or give-up."""

    async def overdue_starts(self, dispatched_before: datetime, limit: int) -> list[PendingStart]:
        """Up to ``limit`` enrollments still holding a START dispatched before the cutoff.

        Oldest dispatch first, by the partial index ``ix_enrollments_pending_start``, locked
        ``FOR NO KEY UPDATE SKIP LOCKED``: replicas sweeping at once share the rows, and a
        sweeper never waits for (nor deadlocks with) a lifecycle batch holding one.
        """
        rows = await self.conn.execute(
            select(
                enrollments.c.execution_id,
                enrollments.c.org_id,
                enrollments.c.start,
                enrollments.c.redispatches,
                enrollments.c.priority,
            )
            .where(
                enrollments.c.start.is_not(None),
                enrollments.c.given_up_at.is_(None),
                enrollments.c.dispatched_at < dispatched_before,
            )
            .order_by(enrollments.c.dispatched_at)
            .limit(limit)
            .with_for_update(key_share=True, skip_locked=True)
        )
        return [PendingStart(*row) for row in rows]

    async def starts_redispatched(self, execution_ids: Sequence[str], now: datetime) -> None:
        """Records that the START of these enrollments went to the outbox once more, at ``now``."""
        await self.conn.execute(
            update(enrollments)
            .where(enrollments.c.execution_id == any_(IDS))
            .values(dispatched_at=now, redispatches=enrollments.c.redispatches + 1),
            {"ids": list(execution_ids)},
        )

    async def starts_given_up(self, execution_ids: Sequence[str], now: datetime) -> None:
        """Records that the sweeper re-dispatches the START of these enrollments no more."""
        await self.conn.execute(
            update(enrollments).where(enrollments.c.execution_id == any_(IDS)).values(given_up_at=now),
            {"ids": list(execution_ids)},
        )
