"""Every query of the analytics service, scoped by organization, on the caller's session."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import array, insert
from sqlalchemy.ext.asyncio import AsyncSession

from beez.analytics.models import AutomationCounters, ExecutionOutcome, inbox
from beez.kit.bus.inbox import claim, purge_inbox

PERCENTILES = (0.5, 0.95, 0.99)


class StatsRepository:
    """Queries over the counters, the execution outcomes and the inbox."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def claim(self, consumer: str, message_key: str) -> bool:
        """Records the message as handled; False when it already was (skip its effect)."""
        return await claim(self._session, inbox, consumer, message_key)

    async def purge_inbox(self, older_than: timedelta) -> int:
        return await purge_inbox(self._session, inbox, older_than)

    async def execution(
        self, org_id: str, execution_id: str, automation_id: str
    ) -> tuple[ExecutionOutcome, bool]:
        """The execution's row, locked for this transaction, and whether it was created just now."""
        created = await self._session.scalar(
            insert(ExecutionOutcome)
            .values(org_id=org_id, execution_id=execution_id, automation_id=automation_id)
            .on_conflict_do_nothing()
            .returning(ExecutionOutcome.execution_id)
        )
        row = (
            await self._session.scalars(
                select(ExecutionOutcome)
                .where(ExecutionOutcome.org_id == org_id, ExecutionOutcome.execution_id == execution_id)
                .with_for_update()
            )
        ).one()
        return row, created is not None

    async def add_to_counters(self, org_id: str, automation_id: str, deltas: Mapping[str, int]) -> None:
        """Adds ``deltas`` (column -> amount) to the automation's counters, creating them at 0."""
        table = AutomationCounters.__table__
        stmt = insert(AutomationCounters).values(org_id=org_id, automation_id=automation_id, **deltas)
        await self._session.execute(
            stmt.on_conflict_do_update(
                index_elements=[table.c.org_id, table.c.automation_id],
                set_={
                    **{column: table.c[column] + stmt.excluded[column] for column in deltas},
                    "updated_at": func.now(),
                },
            )
        )
        await self._session.flush()

    async def counters(self, org_id: str, automation_id: str) -> AutomationCounters | None:
        return await self._session.get(AutomationCounters, (org_id, automation_id))

    async def duration_percentiles(self, org_id: str, automation_id: str, samples: int) -> list[float] | None:
        """p50, p95 and p99 of the durations of the ``samples`` most recent completed executions."""
        recent = (
            select(ExecutionOutcome.duration_ms)
            .where(
                ExecutionOutcome.org_id == org_id,
                ExecutionOutcome.automation_id == automation_id,
                ExecutionOutcome.outcome == "completed",
                ExecutionOutcome.duration_ms.is_not(None),
            )
            .order_by(ExecutionOutcome.finished_at.desc())
            .limit(samples)
            .subquery()
        )
        query = select(func.percentile_cont(array(PERCENTILES)).within_group(recent.c.duration_ms))
        result = await self._session.scalar(query)
        return [float(value) for value in result] if result else None
