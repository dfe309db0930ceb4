"""Executions: creating, locking, finding them.

An execution's changes all happen under ``SELECT ... FOR UPDATE`` of its row
(:func:`lock_execution`), so jobs, timers and RPCs touching one execution are serialized, and
its step rows, timers and dead letters are only written while that lock is held.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, Text, and_, any_, bindparam, exists, select, tuple_
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncSession

from beez.executor.domain import ExecutionFilter
from beez.executor.models import DeadLetter, Execution, ExecutionStep, Timer
from beez.kit.db import COPY_FROM, Statement, copy_columns, copy_rows, pipelined, rows_insert
from beez.workflow.status import RUNNABLE, TERMINAL

_EXECUTIONS = cast(Table, Execution.__table__)
_STEPS = cast(Table, ExecutionStep.__table__)
_TIMERS = cast(Table, Timer.__table__)
_DEAD_LETTERS = cast(Table, DeadLetter.__table__)
_EXECUTION_COLUMNS = [c.name for c in _EXECUTIONS.columns]
_STEP_COLUMNS = [c.name for c in _STEPS.columns if c.name != "seq"]


async def write_new_executions(
    session: AsyncSession,
    executions: Sequence[Execution],
    steps: Sequence[ExecutionStep],
    timers: Sequence[Mapping[str, Any]],
    dead_letters: Sequence[Mapping[str, Any]],
) -> list[Statement]:
    """Writes executions created in memory by this transaction, with their rows.

    The objects are plain rows (:data:`NewExecution`, never in a session): nothing else can have seen these
    executions, so there is nothing to conflict with, lock or read back. Many rows go by COPY,
    table after table, now; a few are returned as INSERTs for the caller to send in one round
    trip with its last statements (:func:`beez.kit.db.pipelined`), in the same table order.
    """
    tables: list[tuple[Table, Sequence[Mapping[str, Any]], Sequence[str]]] = [
        (
            _EXECUTIONS,
            [{name: getattr(ex, name) for name in _EXECUTION_COLUMNS} for ex in executions],
            _EXECUTION_COLUMNS,
        ),
        (_STEPS, [{name: getattr(step, name) for name in _STEP_COLUMNS} for step in steps], _STEP_COLUMNS),
        (_TIMERS, list(timers), copy_columns(_TIMERS, timers)),
        (_DEAD_LETTERS, list(dead_letters), copy_columns(_DEAD_LETTERS, dead_letters)),
    ]
    if all(len(rows) < COPY_FROM for _, rows, _ in tables):
        return [rows_insert(table, rows, columns) for table, rows, columns in tables if rows]
    for table, rows, columns in tables:
        await copy_rows(session, table, rows, columns)
    return []


async def insert_execution(session: AsyncSession, values: dict[str, Any]) -> bool:
    """Inserts an execution unless one with its id exists; True when this call created it."""
    result = await session.execute(
        insert(Execution).values(**values).on_conflict_do_nothing().returning(Execution.id)
    )
    return result.first() is not None


_EXISTING = select(_EXECUTIONS.c.id).where(_EXECUTIONS.c.id == any_(bindparam("ids", type_=ARRAY(Text))))


async def existing_executions(session: AsyncSession, ids: Sequence[str]) -> set[str]:
    """Which of ``ids`` name executions that exist (committed, or written by this transaction).

    Pipelined: as a batch's first statement it goes in one round trip with the ``BEGIN``.
    """
    [rows] = await pipelined(session, [(_EXISTING, {"ids": list(ids)})])
    return {row[0] for row in rows}


async def lock_execution(session: AsyncSession, execution_id: str) -> Execution | None:
    """The execution, locked for the rest of the transaction."""
    result = await session.execute(
        select(Execution)
        .where(Execution.id == execution_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return result.scalar_one_or_none()


async def lock_executions(session: AsyncSession, ids: Sequence[str]) -> dict[str, Execution]:
    """The executions named, locked for the rest of the transaction in id order (missing ones absent)."""
    result = await session.execute(
        select(Execution)
        .where(Execution.id.in_(ids))
        .order_by(Execution.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {ex.id: ex for ex in result.scalars()}


async def lock_org_execution(session: AsyncSession, org_id: str, execution_id: str) -> Execution | None:
    """The organization's execution, locked; None when missing or another organization's."""
    result = await session.execute(
        select(Execution)
        .where(Execution.id == execution_id, Execution.org_id == org_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return result.scalar_one_or_none()


async def get_execution(session: AsyncSession, org_id: str, execution_id: str) -> Execution | None:
    result = await session.execute(
        select(Execution).where(Execution.id == execution_id, Execution.org_id == org_id)
    )
    return result.scalar_one_or_none()


async def find_executions(
    session: AsyncSession,
    where: ExecutionFilter,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[Execution]:
    """A page of executions by ``(created_at, id)`` descending, after the cursor ``after``."""
    query = select(Execution).where(Execution.org_id == where.org_id)
    if where.automation_id:
        query = query.where(Execution.automation_id == where.automation_id)
    if where.contact_id:
        query = query.where(Execution.contact_id == where.contact_id)
    if where.statuses:
        query = query.where(Execution.status.in_(list(where.statuses)))
    if where.created_from is not None:
        query = query.where(Execution.created_at >= where.created_from)
    if where.created_to is not None:
        query = query.where(Execution.created_at < where.created_to)
    if after is not None:
        query = query.where(tuple_(Execution.created_at, Execution.id) < tuple_(*after))
    query = query.order_by(Execution.created_at.desc(), Execution.id.desc()).limit(limit)
    return list((await session.execute(query)).scalars())


async def orphan_candidates(session: AsyncSession, updated_before: datetime, limit: int) -> list[Execution]:
    """Runnable executions with no wait token not moved since ``updated_before``, oldest first,
    locked (``SKIP LOCKED``: a row a live job holds is not a candidate now)."""
    result = await session.execute(
        select(Execution)
        .where(
            Execution.status.in_(sorted(RUNNABLE)),
            Execution.wait_token.is_(None),
            Execution.updated_at < updated_before,
        )
        .order_by(Execution.updated_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )
    return list(result.scalars())


async def lost_wakeup_candidates(
    session: AsyncSession, updated_before: datetime, limit: int
) -> list[Execution]:
    """Executions waiting for a wake-up that nothing holds any more, oldest first, locked
    (``SKIP LOCKED``).

    Not ended, with a ``wait_token``, not moved since ``updated_before``, and no timer row
    carrying that token. Every wait on a timer keeps its row until the timer fires; a RESUME or
    RETRY wait never has one. So a candidate is either woken by a job in flight right now, or
    its job was lost (dead-lettered, dropped with a stream): the sweeper tells the two apart
    by watching it stay unchanged.
    """
    timer_for_token = exists().where(
        and_(Timer.execution_id == Execution.id, Timer.token == Execution.wait_token)
    )
    result = await session.execute(
        select(Execution)
        .where(
            Execution.status.not_in(sorted(TERMINAL)),
            Execution.wait_token.is_not(None),
            Execution.updated_at < updated_before,
            ~timer_for_token,
        )
        .order_by(Execution.updated_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )
    return list(result.scalars())
