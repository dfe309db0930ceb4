"""The executor's outbox: messages written in the transaction of the change they announce."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from beez.executor import models
from beez.executor.messages import Outgoing
from beez.kit.bus.outbox import enqueue_many
from beez.kit.db import Statement


async def enqueue(session: AsyncSession, outgoing: Outgoing) -> None:
    """Writes a message to the outbox in the caller's transaction."""
    await enqueue_many(session, models.outbox, [outgoing])


async def enqueue_all(
    session: AsyncSession, outgoing: Sequence[Outgoing], *, before: Sequence[Statement] = ()
) -> None:
    """Writes messages to the outbox in the caller's transaction, in one statement (and one NOTIFY),
    after the statements ``before`` (in one round trip with them when published directly)."""
    await enqueue_many(session, models.outbox, outgoing, before=before)
