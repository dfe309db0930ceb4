"""The trigger's outbox: jobs for the executor, written in the transaction that decided them."""

from __future__ import annotations

from collections.abc import Sequence

from beez.kit.bus.outbox import OutboxMessage, enqueue_many
from beez.trigger import models
from beez.trigger.repository.base import Queries


class OutboxQueries(Queries):
    """Adds messages to the outbox."""

    async def enqueue(self, messages: Sequence[OutboxMessage]) -> None:
        """Writes ``messages`` to the outbox in few statements; the relay wakes on commit."""
        await enqueue_many(self.conn, models.outbox, messages)
