"""Start credits: how many STARTs of an organization may wait for the executor at once.

An enrollment is *in flight* from the moment its START job goes to the outbox until the
executor reports the execution started (or ended): ``start IS NOT NULL`` with a
``dispatched_at``, not given up. An enrollment over its organization's credit is *held*:
``dispatched_at`` NULL and ``held_at`` set, its START kept in the row and not in the outbox. A
held enrollment is dispatched, oldest first, when its organization has credit again (decision
0039).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import DateTime, any_, text, update

from beez.trigger.models import enrollments
from beez.trigger.repository.base import IDS, Queries, param
from beez.trigger.repository.starts import PendingStart

_T = enrollments.fullname
_IN_FLIGHT = "e.start IS NOT NULL AND e.dispatched_at IS NOT NULL AND e.given_up_at IS NULL"
_HELD = "e.start IS NOT NULL AND e.dispatched_at IS NULL AND e.held_at IS NOT NULL AND e.given_up_at IS NULL"

_STANDING = text(
    f"""
    SELECT o.org_id,
           (SELECT count(*) FROM {_T} e WHERE e.org_id = o.org_id AND {_IN_FLIGHT}) AS in_flight,
           EXISTS (SELECT 1 FROM {_T} e WHERE e.org_id = o.org_id AND {_HELD}) AS holding
    FROM unnest(CAST(:orgs AS text[])) AS o(org_id)
    """
)
"""Per organization: its STARTs in flight, and whether it holds any back already."""

_HOLD = (
    update(enrollments)
    .where(enrollments.c.execution_id == any_(IDS), enrollments.c.start.is_not(None))
    .values(dispatched_at=None, held_at=param("now", DateTime(timezone=True)))
)

_RELEASE = text(
    f"""
    WITH orgs AS (SELECT DISTINCT org_id FROM unnest(CAST(:orgs AS text[])) AS o(org_id)),
    free AS (
        SELECT o.org_id,
               greatest(0, :credit - (SELECT count(*) FROM {_T} e
                                       WHERE e.org_id = o.org_id AND {_IN_FLIGHT})) AS n
        FROM orgs o
    ),
    picked AS (
        SELECT h.execution_id
        FROM free f
        CROSS JOIN LATERAL (
            SELECT e.execution_id FROM {_T} e
            WHERE e.org_id = f.org_id AND {_HELD}
            ORDER BY e.created_at, e.execution_id
            LIMIT f.n
            FOR NO KEY UPDATE SKIP LOCKED
        ) h
        WHERE f.n > 0
    )
    UPDATE {_T} e SET dispatched_at = :now
    FROM picked p
    WHERE e.execution_id = p.execution_id
    RETURNING e.execution_id, e.org_id, e.start, e.redispatches, e.priority, e.created_at
    """
)
"""Dispatches each organization's oldest held enrollments, as many as its free credit."""

_HOLDING_ORGS = text(f"SELECT DISTINCT e.org_id FROM {_T} e WHERE {_HELD} LIMIT :limit")


class CreditQueries(Queries):
    """Counting, holding and releasing the STARTs of organizations over their credit."""

    async def credit_standing(self, orgs: Sequence[str]) -> dict[str, tuple[int, bool]]:
        """``org -> (STARTs in flight, whether it holds some back)`` for each of ``orgs``."""
        rows = await self.conn.execute(_STANDING, {"orgs": sorted(set(orgs))})
        return {org: (int(in_flight), bool(holding)) for org, in_flight, holding in rows}

    async def hold_starts(self, execution_ids: Sequence[str], now: datetime) -> None:
        """Takes these enrollments' STARTs back out of flight: they wait for credit."""
        if execution_ids:
            await self.conn.execute(_HOLD, {"ids": list(execution_ids), "now": now})

    async def release_held(self, orgs: Sequence[str], credit: int, now: datetime) -> list[PendingStart]:
        """Dispatches, per organization, its oldest held STARTs up to its free credit; returns them
        in creation order. Rows another transaction is releasing are skipped, not waited for."""
        if not orgs:
            return []
        rows = await self.conn.execute(_RELEASE, {"orgs": list(orgs), "credit": credit, "now": now})
        ordered = sorted(rows, key=lambda row: (row[5], row[0]))
        return [PendingStart(row[0], row[1], bytes(row[2]), row[3], row[4]) for row in ordered]

    async def orgs_holding(self, limit: int) -> list[str]:
        """Up to ``limit`` organizations holding STARTs back (for the start sweeper)."""
        return [row[0] for row in await self.conn.execute(_HOLDING_ORGS, {"limit": limit})]
