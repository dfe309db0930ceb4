"""Publishes again the START jobs that never started (docs/decisions/0008-trigger-start-sweeper.md).

An enrollment keeps its ``ExecutionStart`` until the executor reports the execution started
(decision 0004). When the START job is dead-lettered or lost before the executor created the
execution (its JOBS message terminated, the stream lost it), nothing reports it: the
enrollment holds its concurrency slot forever and the execution never runs.

:class:`StartSweeper` finds enrollments still holding their START whose job went to the outbox
more than ``redispatch_after`` seconds ago, by the service clock, and writes the same job again
to the outbox: same execution id, same payload, but ``Nats-Msg-Id = start:<id>:again:<n>``
(the original id would be dropped by JetStream's duplicate window). The executor inserts an
execution by its id and does nothing when it exists, so a copy that arrives after all is
harmless. The enrollment's ``dispatched_at`` moves to now, so each START goes out at most once
per ``redispatch_after``.

After ``max_redispatches`` re-dispatches, one more deadline without STARTED makes the sweeper
give up: it sets ``given_up_at`` and logs an error. The enrollment keeps its START payload and
its slots (an execution that does run late then still counts against the contact's limit);
an operator can inspect it, and re-arm it by clearing ``given_up_at`` and ``redispatches``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from beez.kit.bus.outbox import OutboxMessage
from beez.kit.bus.topology import Topology
from beez.kit.clock import Clock
from beez.kit.db import Database
from beez.kit.logging import get_logger
from beez.kit.loops import repeat_rounds
from beez.trigger.credits import StartCredits
from beez.trigger.domain.jobs import redispatch_msg_id, stored_start_job
from beez.trigger.repository import Repository, transactional
from beez.trigger.repository.starts import PendingStart

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Swept:
    """What one round did: START jobs re-dispatched, enrollments given up on, and held STARTs
    released for credit (not counted in its length, which decides whether a round was full)."""

    redispatched: tuple[PendingStart, ...] = ()
    given_up: tuple[PendingStart, ...] = ()
    released: int = 0

    def __len__(self) -> int:
        return len(self.redispatched) + len(self.given_up)


class StartSweeper:
    """Re-dispatches overdue START jobs through the outbox, a bounded number of times each."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        topology: Topology,
        *,
        redispatch_after: float,
        max_redispatches: int,
        interval: float = 30.0,
        batch: int = 500,
        credits: StartCredits | None = None,
    ) -> None:
        """``credits``: also dispatch what organizations hold back for their start credit, once
        they have credit again (decision 0039), in case no lifecycle event did."""
        self._db = db
        self._credits = credits
        self._clock = clock
        self._topology = topology
        self._after = timedelta(seconds=redispatch_after)
        self._max = max_redispatches
        self._interval = interval
        self._batch = batch
        self.redispatched = 0
        """START jobs re-dispatched by this sweeper (for tests and metrics)."""
        self.given_up = 0
        """Enrollments this sweeper gave up on."""

    async def sweep(self) -> Swept:
        """One round, in one transaction: at most ``batch`` overdue enrollments handled."""
        now = self._clock.now()
        swept = await transactional(self._db, lambda repo: self._sweep(repo, now))
        self.redispatched += len(swept.redispatched)
        self.given_up += len(swept.given_up)
        if swept.redispatched:
            log.warning(
                "START jobs never reported started; re-dispatched",
                count=len(swept.redispatched),
                execution_ids=[pending.execution_id for pending in swept.redispatched[:20]],
            )
        for given_up in swept.given_up:
            log.error(
                "START never reported started; no more re-dispatches",
                execution_id=given_up.execution_id,
                org_id=given_up.org_id,
                redispatches=given_up.redispatches,
            )
        return swept

    async def _sweep(self, repo: Repository, now: datetime) -> Swept:
        again: list[PendingStart] = []
        jobs: list[OutboxMessage] = []
        spent: list[PendingStart] = []
        for pending in await repo.overdue_starts(now - self._after, self._batch):
            job = self._job(pending, now) if pending.redispatches < self._max else None
            if job is None:
                spent.append(pending)
            else:
                again.append(pending)
                jobs.append(job)
        if jobs:
            await repo.enqueue(jobs)
            await repo.starts_redispatched(_ids(again), now)
        if spent:
            await repo.starts_given_up(_ids(spent), now)
        released = await self._credits.sweep(repo, now, self._batch) if self._credits is not None else []
        if released:
            await repo.enqueue(released)
        return Swept(tuple(again), tuple(spent), len(released))

    def _job(self, pending: PendingStart, now: datetime) -> OutboxMessage | None:
        """The START job once more under a new message id; None if the payload is unreadable."""
        msg_id = redispatch_msg_id(pending.execution_id, pending.redispatches + 1)
        return stored_start_job(
            self._topology, pending.org_id, pending.execution_id, pending.start, pending.priority, now, msg_id
        )

    async def run(self) -> None:
        """Sweeps every ``interval`` seconds of wall time until cancelled; failures are logged.

        A full batch is followed by the next round at once, so a backlog drains quickly.
        """

        async def round_() -> int:
            return len(await self.sweep())

        await repeat_rounds(round_, interval=self._interval, full=self._batch, what="sweeping START jobs")


def _ids(pending: Sequence[PendingStart]) -> list[str]:
    return [start.execution_id for start in pending]
