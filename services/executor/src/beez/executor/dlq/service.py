"""What the dead-letter RPCs and the DLQ consumer do. No gRPC; SQL in the repository.

A re-drive writes the original payload and headers (plus ``Beez-Redrive-Of``) to the executor's
outbox, addressed to the original subject with ``Nats-Msg-Id`` ``redrive:<id>:<generation>``,
in the transaction that marks the row re-driven: a crash loses neither, nor sends twice (the
stream's duplicate window drops a relay's re-send). A row already re-driven is not sent again,
so re-driving twice sends once; a re-driven message the consumer had processed after all is
dropped by that consumer's own idempotency (the inbox, unique keys, state machines).
"""

from __future__ import annotations

from dataclasses import dataclass

from beez.executor.dlq.domain import (
    Arrival,
    DeadLetterFilter,
    State,
    redrivable,
    redrivable_prefixes,
    redrive_headers,
    redrive_msg_id,
)
from beez.executor.messages import Outgoing
from beez.executor.models import BusDeadLetter
from beez.executor.repository import bus_dead_letters as rows
from beez.executor.repository.outbox import enqueue_all
from beez.kit.bus.topology import Topology
from beez.kit.clock import Clock
from beez.kit.db import Database
from beez.kit.grpc.errors import FailedPrecondition, FieldViolation, InvalidArgument, NotFound
from beez.kit.ids import uuid7
from beez.kit.paging import MomentKey, PageRequest, cut_page, scope_of

DEFAULT_REDRIVE_BATCH = 100
MAX_REDRIVE_BATCH = 1000
PURGE_BATCH = 1000
"""Dead letters a purge deletes per transaction."""


@dataclass(frozen=True)
class DeadLetterPage:
    dead_letters: list[BusDeadLetter]
    next_token: str


@dataclass(frozen=True)
class BulkRedrive:
    redriven: int
    remaining: int


class DeadLetters:
    """Stores, lists, re-drives and purges one organization's bus dead letters."""

    def __init__(
        self, db: Database, topology: Topology, clock: Clock, *, purge_batch: int = PURGE_BATCH
    ) -> None:
        self._db = db
        self._topology = topology
        self._clock = clock
        self._purge_batch = purge_batch

    async def store(self, arrival: Arrival) -> bool:
        """Keeps ``arrival``; False when its DLQ message id was stored already (a redelivery)."""
        async with self._db.transaction() as session:
            return await rows.store(session, str(uuid7()), arrival, self._clock.now())

    async def find(self, where: DeadLetterFilter, page: PageRequest[MomentKey]) -> DeadLetterPage:
        async with self._db.snapshot() as session:
            found = await rows.find(session, where, page.after, page.size + 1)
        letters, token = cut_page(
            found, page.size, lambda row: (row.dead_lettered_at, row.id), scope_of(*where.scope())
        )
        return DeadLetterPage(letters, token)

    async def get(self, org_id: str, dead_letter_id: str) -> BusDeadLetter:
        async with self._db.snapshot() as session:
            row = await rows.get(session, org_id, dead_letter_id)
        if row is None:
            raise NotFound(f"dead letter {dead_letter_id} not found")
        return row

    async def redrive(self, org_id: str, dead_letter_id: str) -> tuple[BusDeadLetter, bool]:
        """Re-drives one dead letter; ``(row, False)`` when it was re-driven already."""
        async with self._db.transaction() as session:
            row = await rows.get(session, org_id, dead_letter_id, lock=True)
            if row is None:
                raise NotFound(f"dead letter {dead_letter_id} not found")
            if row.state == State.REDRIVEN.value:
                return row, False
            if not redrivable(self._topology, row.subject):
                raise FailedPrecondition(
                    f"dead letter {dead_letter_id} was published on {row.subject!r}, which the "
                    "executor does not publish; its owner must send it again"
                )
            await enqueue_all(session, [self._mark(row)])
            return row, True

    async def redrive_matching(self, where: DeadLetterFilter, limit: int) -> BulkRedrive:
        """Re-drives up to ``limit`` of the dead letters matching ``where`` not re-driven yet, in
        one transaction; says how many matching ones are left. Dead letters of subjects the executor
        does not publish are neither taken nor counted."""
        async with self._db.transaction() as session:
            prefixes = redrivable_prefixes(self._topology)
            chosen = await rows.lock_dead(session, where, prefixes, limit)
            await enqueue_all(session, [self._mark(row) for row in chosen])
            await session.flush()
            remaining = await rows.count_dead(session, where, prefixes)
        return BulkRedrive(redriven=len(chosen), remaining=remaining)

    async def purge(self, where: DeadLetterFilter, dead_letter_id: str = "") -> int:
        """Deletes one dead letter (NOT_FOUND when the organization has none by that id), or every
        one matching ``where``, :data:`PURGE_BATCH` per transaction; how many were deleted.
        INVALID_ARGUMENT when neither an id nor a filter is given: a purge is never of everything."""
        if not dead_letter_id and not where.narrowed:
            raise InvalidArgument(
                "a purge needs an id or a filter",
                [
                    FieldViolation(
                        "id",
                        "set an id, or at least one of consumer, error_category, start_time, end_time, state",
                    )
                ],
            )
        ids = [dead_letter_id] if dead_letter_id else []
        purged = 0
        while True:
            async with self._db.transaction() as session:
                deleted = await rows.purge(session, where, ids, self._purge_batch)
            purged += deleted
            if deleted < self._purge_batch:
                break
        if dead_letter_id and not purged:
            raise NotFound(f"dead letter {dead_letter_id} not found")
        return purged

    def _mark(self, row: BusDeadLetter) -> Outgoing:
        """Marks ``row`` re-driven (flushed with the transaction) and builds its outbox message."""
        row.redrive_count += 1
        row.state = State.REDRIVEN.value
        row.redriven_at = self._clock.now()
        return Outgoing(
            subject=row.subject,
            message=bytes(row.payload),
            msg_id=redrive_msg_id(row.id, row.redrive_count),
            org_id=row.org_id or None,
            headers=redrive_headers(row.headers, row.id, row.stream, row.stream_seq),
        )
