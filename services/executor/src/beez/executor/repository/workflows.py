"""Workflow versions, stored once per content and shared by their executions."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from beez.executor.models import WorkflowDefinition


async def save_workflows(session: AsyncSession, definitions: Mapping[str, bytes]) -> None:
    """Stores workflow versions (digest → definition) once; the same content again changes nothing."""
    rows = [{"digest": digest, "definition": body} for digest, body in sorted(definitions.items())]
    await session.execute(insert(WorkflowDefinition).values(rows).on_conflict_do_nothing())


async def load_workflow(session: AsyncSession, digest: str) -> bytes | None:
    result = await session.execute(
        select(WorkflowDefinition.definition).where(WorkflowDefinition.digest == digest)
    )
    return result.scalar_one_or_none()
