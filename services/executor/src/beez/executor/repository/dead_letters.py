"""Dead letters: the steps that failed their executions for good."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from beez.executor.models import DeadLetter


async def add_dead_letter(session: AsyncSession, values: dict[str, Any]) -> None:
    await session.execute(insert(DeadLetter).values(**values))


async def dead_letters_of(session: AsyncSession, execution_id: str) -> list[DeadLetter]:
    result = await session.execute(
        select(DeadLetter).where(DeadLetter.execution_id == execution_id).order_by(DeadLetter.id)
    )
    return list(result.scalars())
