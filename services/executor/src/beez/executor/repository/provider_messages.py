"""Provider message ids of sent messages (decision 0041): recorded when a step settles, read by
delivery callbacks, always within one organization."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from beez.executor.models import ProviderMessage

__all__ = ["provider_message", "record_provider_message"]


async def record_provider_message(session: AsyncSession, values: dict[str, Any]) -> None:
    """Records a sent message; the same provider id again (a re-settled attempt) changes nothing."""
    await session.execute(insert(ProviderMessage).values(**values).on_conflict_do_nothing())


async def provider_message(
    session: AsyncSession, org_id: str, provider: str, provider_message_id: str
) -> ProviderMessage | None:
    """The organization's record of the provider's message, or None (another organization's too)."""
    return (
        await session.execute(
            select(ProviderMessage).where(
                ProviderMessage.provider == provider,
                ProviderMessage.provider_message_id == provider_message_id,
                ProviderMessage.org_id == org_id,
            )
        )
    ).scalar_one_or_none()
