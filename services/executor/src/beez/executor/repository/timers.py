"""Timers: every delay, retry backoff, quiet-hours hold and wait timeout of an execution.

The timer loop locks timer rows only (``FOR UPDATE SKIP LOCKED``), never executions, so its lock
order and the executions' cannot deadlock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Table, bindparam, delete, select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from beez.executor.models import Execution, Timer

_TIMERS = cast(Table, Timer.__table__)


async def add_timer(session: AsyncSession, values: dict[str, Any]) -> None:
    await session.execute(insert(Timer).values(**values))


async def delete_timers(session: AsyncSession, execution_id: str) -> int:
    result = cast(
        CursorResult[Any], await session.execute(delete(Timer).where(Timer.execution_id == execution_id))
    )
    return int(result.rowcount)


@dataclass(frozen=True, slots=True)
class DueTimer:
    """What firing a timer needs of its row."""

    id: str
    org_id: str
    execution_id: str
    priority: str
    token: str


_TIMER_COLUMNS = _TIMERS.c
_CLAIM_DUE = (
    delete(_TIMERS)
    .where(
        _TIMER_COLUMNS.id.in_(
            select(_TIMER_COLUMNS.id)
            .where(_TIMER_COLUMNS.due_at <= bindparam("now"))
            .order_by(_TIMER_COLUMNS.due_at)
            .limit(bindparam("limit"))
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
    )
    .returning(
        _TIMER_COLUMNS.id,
        _TIMER_COLUMNS.org_id,
        _TIMER_COLUMNS.execution_id,
        _TIMER_COLUMNS.priority,
        _TIMER_COLUMNS.token,
    )
)


async def claim_due_timers(session: AsyncSession, now: datetime, limit: int) -> list[DueTimer]:
    """Deletes and returns up to ``limit`` timers due at ``now``, skipping rows others hold.

    A Core statement built once: the loop runs it every poll, found or not, and the ORM's bulk
    DELETE machinery cost several times more CPU than the statement itself.
    """
    result = await session.execute(_CLAIM_DUE, {"now": now, "limit": limit})
    return [DueTimer(*row) for row in result]


@dataclass(frozen=True)
class ScheduledRow:
    """A timer with the execution it belongs to."""

    timer: Timer
    automation_id: str
    contact_id: str


async def find_timers(
    session: AsyncSession,
    org_id: str,
    automation_id: str | None,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[ScheduledRow]:
    """A page of the organization's timers by ``(due_at, id)`` ascending."""
    query = (
        select(Timer, Execution.automation_id, Execution.contact_id)
        .join(Execution, Execution.id == Timer.execution_id)
        .where(Timer.org_id == org_id)
    )
    if automation_id:
        query = query.where(Execution.automation_id == automation_id)
    if after is not None:
        query = query.where(tuple_(Timer.due_at, Timer.id) > tuple_(*after))
    query = query.order_by(Timer.due_at, Timer.id).limit(limit)
    rows = (await session.execute(query)).all()
    return [ScheduledRow(row[0], row[1], row[2]) for row in rows]


async def get_timer(session: AsyncSession, org_id: str, timer_id: str) -> Timer | None:
    result = await session.execute(select(Timer).where(Timer.id == timer_id, Timer.org_id == org_id))
    return result.scalar_one_or_none()
