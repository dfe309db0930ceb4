"""The step log: one row per attempt of a step, keyed by its idempotency key."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from beez.executor.models import ExecutionStep
from beez.workflow.status import StepStatus


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
        .where(ExecutionStep.execution_id == execution_id, ExecutionStep.status == StepStatus.WAITING)
        .execution_options(populate_existing=True)
    )
    return list(result.scalars())
