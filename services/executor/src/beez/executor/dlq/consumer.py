"""``dlq.>`` → ``executor.bus_dead_letters`` (durable ``executor-dlq``).

Delivery semantics: at least once, idempotent by key: a dead letter is stored once per its own
``Nats-Msg-Id`` (``dlq:<consumer>:<stream>:<seq>``, unique in the table), so a redelivery changes
nothing. It never refuses a message for its content (a dead letter missing headers is stored
with what it has), since refusing would dead-letter it on ``dlq.executor-dlq``, which this very
consumer reads. It reads the DLQ stream from its start, so a new executor folds in every dead
letter within the stream's retention (30 days).
"""

from __future__ import annotations

from nats.aio.msg import Msg
from nats.js import JetStreamContext

from beez.executor.dlq.domain import arrival
from beez.executor.dlq.service import DeadLetters
from beez.kit.bus.topology import Topology
from beez.kit.bus.worker import PullWorker
from beez.kit.logging import get_logger

log = get_logger(__name__)

DURABLE = "executor-dlq"


class DeadLetterConsumer:
    """Folds the DLQ stream into the dead-letter table."""

    def __init__(self, topology: Topology, dead_letters: DeadLetters, *, concurrency: int = 4) -> None:
        self._topology = topology
        self._dead_letters = dead_letters
        self._concurrency = concurrency

    async def handle(self, msg: Msg) -> None:
        meta = msg.metadata
        letter = arrival(
            self._topology, msg.subject, msg.data, msg.headers, meta.sequence.stream, meta.timestamp
        )
        if await self._dead_letters.store(letter):
            log.info(
                "dead letter stored",
                consumer=letter.consumer,
                subject=letter.subject,
                category=letter.error_category,
                org_id=letter.org_id,
            )

    def workers(self, js: JetStreamContext) -> list[PullWorker]:
        """Its worker, for :meth:`beez.kit.runtime.Runtime.consumers` to run and drain."""
        worker = PullWorker(
            js,
            self._topology,
            stream="DLQ",
            durable=DURABLE,
            subjects="dlq.>",
            handler=self.handle,
            concurrency=self._concurrency,
        )
        return [worker]
