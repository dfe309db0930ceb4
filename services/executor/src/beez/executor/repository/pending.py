"""The contact's other pending executions, for ``cancel_pending_actions`` (decision 0047)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from beez.executor.models import Execution
from beez.workflow.status import CANCELLABLE


async def pending_executions(
    session: AsyncSession,
    org_id: str,
    contact_id: str,
    exclude_id: str,
    automation_ids: Sequence[str] | None,
    limit: int,
) -> list[str]:
    """Ids of the organization's executions for ``contact_id`` that have not ended, other than
    ``exclude_id``, of ``automation_ids`` (None: of every automation), oldest first, at most ``limit``.

    Unlocked: the caller locks them (in id order) and checks their status again.
    """
    query = select(Execution.id).where(
        Execution.org_id == org_id,
        Execution.contact_id == contact_id,
        Execution.id != exclude_id,
        Execution.status.in_([str(status) for status in CANCELLABLE]),
    )
    if automation_ids is not None:
        query = query.where(Execution.automation_id.in_(list(automation_ids)))
    result = await session.execute(query.order_by(Execution.created_at, Execution.id).limit(limit))
    return [str(found) for found in result.scalars()]
