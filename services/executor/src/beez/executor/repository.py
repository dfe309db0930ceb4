"""Every query of the executor. Functions take the caller's session and never commit.

Row locks: an execution's changes all happen under ``SELECT ... FOR UPDATE`` of its row
(:func:`lock_execution`), so jobs, timers and RPCs touching one execution are serialized, and
its step rows, timers and dead letters are only written while that lock is held. The timer
loop locks timer rows only (``FOR UPDATE SKIP LOCKED``), never executions, so the two lock
orders cannot deadlock.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Table, Text, any_, bindparam, delete, select, tuple_
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncSession

from beez.executor import models
from beez.executor.messages import Outgoing
from beez.executor.models import DeadLetter, Execution, ExecutionStep, Timer, WorkflowDefinition
from beez.kit.bus.outbox import enqueue_many
from beez.kit.db import COPY_FROM, Statement, copy_columns, copy_rows, pipelined, rows_insert


async def enqueue(session: AsyncSession, outgoing: Outgoing) -> None:
    """Writes a message to the outbox in the caller's transaction."""
    await enqueue_many(session, models.outbox, [outgoing])


async def enqueue_all(
    session: AsyncSession, outgoing: Sequence[Outgoing], *, before: Sequence[Statement] = ()
) -> None:
    """Writes messages to the outbox in the caller's transaction, in one statement (and one NOTIFY),
    after the statements ``before`` (in one round trip with them when published directly)."""
    await enqueue_many(session, models.outbox, outgoing, before=before)


# --- workflows -------------------------------------------------------------------------------


async def save_workflows(session: AsyncSession, definitions: Mapping[str, bytes]) -> None:
    """Stores workflow versions (digest → definition) once; the same content again changes nothing."""
    rows = [{"digest": digest, "definition": body} for digest, body in sorted(definitions.items())]
    await session.execute(insert(WorkflowDefinition).values(rows).on_conflict_do_nothing())


async def load_workflow(session: AsyncSession, digest: str) -> bytes | None:
    result = await session.execute(
        select(WorkflowDefinition.definition).where(WorkflowDefinition.digest == digest)
    )
    return result.scalar_one_or_none()


# --- executions ------------------------------------------------------------------------------

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


@dataclass(frozen=True)
class ExecutionFilter:
    """Which of an organization's executions to list, newest first."""

    org_id: str
    automation_id: str | None = None
    contact_id: str | None = None
    statuses: Sequence[str] = field(default_factory=tuple)
    created_from: datetime | None = None
    created_to: datetime | None = None


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


# --- steps -----------------------------------------------------------------------------------


async def latest_attempt(session: AsyncSession, execution_id: str, position: str) -> ExecutionStep | None:
    """The newest attempt row of the step at ``position``."""
    result = await session.execute(
        select(ExecutionStep)
        .where(ExecutionStep.execution_id == execution_id, ExecutionStep.position == position)
        .order_by(ExecutionStep.attempt.desc())
        .limit(1)
        .execution_options(populate_existing=True)
    )
    return result.scalar_one_or_none()


async def step_by_key(session: AsyncSession, key: str) -> ExecutionStep | None:
    result = await session.execute(
        select(ExecutionStep)
        .where(ExecutionStep.idempotency_key == key)
        .execution_options(populate_existing=True)
    )
    return result.scalar_one_or_none()


async def add_step(session: AsyncSession, values: dict[str, Any]) -> bool:
    """Inserts a step row unless its idempotency key exists; True when this call created it."""
    result = await session.execute(
        insert(ExecutionStep)
        .values(**values)
        .on_conflict_do_nothing(index_elements=[ExecutionStep.idempotency_key])
        .returning(ExecutionStep.seq)
    )
    return result.first() is not None


async def steps_of(session: AsyncSession, execution_id: str) -> list[ExecutionStep]:
    result = await session.execute(
        select(ExecutionStep).where(ExecutionStep.execution_id == execution_id).order_by(ExecutionStep.seq)
    )
    return list(result.scalars())


async def waiting_steps(session: AsyncSession, execution_id: str) -> list[ExecutionStep]:
    """The execution's step rows still ``waiting`` (a wait step, or a wait for an event)."""
    result = await session.execute(
        select(ExecutionStep)
        .where(ExecutionStep.execution_id == execution_id, ExecutionStep.status == "waiting")
        .execution_options(populate_existing=True)
    )
    return list(result.scalars())


# --- timers ----------------------------------------------------------------------------------


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


_T = _TIMERS.c
_CLAIM_DUE = (
    delete(_TIMERS)
    .where(
        _T.id.in_(
            select(_T.id)
            .where(_T.due_at <= bindparam("now"))
            .order_by(_T.due_at)
            .limit(bindparam("limit"))
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
    )
    .returning(_T.id, _T.org_id, _T.execution_id, _T.priority, _T.token)
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


# --- dead letters ----------------------------------------------------------------------------


async def add_dead_letter(session: AsyncSession, values: dict[str, Any]) -> None:
    await session.execute(insert(DeadLetter).values(**values))


async def dead_letters_of(session: AsyncSession, execution_id: str) -> list[DeadLetter]:
    result = await session.execute(
        select(DeadLetter).where(DeadLetter.execution_id == execution_id).order_by(DeadLetter.id)
    )
    return list(result.scalars())
