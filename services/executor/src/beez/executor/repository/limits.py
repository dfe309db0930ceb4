"""Organizations' own caps on one execution (``org_limits``, decision 0023)."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import Table, delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from beez.executor.engine.limits import LimitOverride
from beez.executor.models import OrganizationLimit

_TABLE = cast(Table, OrganizationLimit.__table__)


async def org_limits(session: AsyncSession, org_id: str) -> LimitOverride | None:
    """``org_id``'s own caps, None when it set none."""
    row = (
        await session.execute(
            select(_TABLE.c.max_steps_per_execution, _TABLE.c.max_messages_per_execution).where(
                _TABLE.c.org_id == org_id
            )
        )
    ).first()
    return LimitOverride(row[0], row[1]) if row is not None else None


async def set_org_limits(
    session: AsyncSession, org_id: str, own: LimitOverride, now: datetime, user_id: str
) -> None:
    """Sets ``org_id``'s own caps; with none set, deletes its row."""
    if own.max_steps is None and own.max_messages is None:
        await session.execute(delete(_TABLE).where(_TABLE.c.org_id == org_id))
        return
    values = {
        "max_steps_per_execution": own.max_steps,
        "max_messages_per_execution": own.max_messages,
        "updated_at": now,
        "updated_by": user_id,
    }
    await session.execute(
        insert(_TABLE)
        .values(org_id=org_id, **values)
        .on_conflict_do_update(index_elements=["org_id"], set_=values)
    )
