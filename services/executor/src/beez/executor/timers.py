"""Fires due timers: every delay, retry backoff, quiet-hours hold and wait timeout.

Any number of replicas run :class:`TimerLoop`. A round claims up to ``batch`` timers with
``due_at <= clock.now()`` (``FOR UPDATE SKIP LOCKED``, so replicas never take the same row),
deletes them and writes one ``Job{reason: TIMER, token}`` per timer to the outbox on
``jobs.<priority>.<org>`` (one INSERT for the batch), with ``Nats-Msg-Id = timer:<timer id>``,
all in one transaction. So a
timer fires at least once (a crash before commit leaves it in place) and its job is sent once in
effect (the outbox relay re-sends with the same id); a job whose token the execution no longer
waits for changes nothing.

Time comes from the runtime's clock, so tests that move a ManualClock (or the offset file) see
their timers fire on the next poll, while the loop itself polls on real time.
"""

from __future__ import annotations

from beez.api.messages.v1 import jobs_pb2
from beez.executor import messages, repository
from beez.kit.bus.topology import Topology
from beez.kit.clock import Clock
from beez.kit.db import Database
from beez.kit.logging import get_logger
from beez.kit.loops import repeat_rounds

log = get_logger(__name__)


class TimerLoop:
    """Claims due timers and turns them into TIMER jobs."""

    def __init__(
        self,
        db: Database,
        topology: Topology,
        clock: Clock,
        *,
        poll_interval: float = 0.15,
        batch: int = 200,
    ) -> None:
        self._db = db
        self._topology = topology
        self._clock = clock
        self._poll_interval = poll_interval
        self._batch = batch
        self.fired = 0
        """Timers fired by this loop (for tests and metrics)."""

    async def fire_due(self) -> int:
        """Fires one batch of due timers; returns how many."""
        now = self._clock.now()
        async with self._db.transaction() as session:
            timers = await repository.claim_due_timers(session, now, self._batch)
            jobs = [
                messages.job(
                    self._topology,
                    org_id=timer.org_id,
                    execution_id=timer.execution_id,
                    priority=timer.priority,
                    reason=jobs_pb2.JOB_REASON_TIMER,
                    token=timer.token,
                    msg_id=f"timer:{timer.id}",
                    now=now,
                )
                for timer in timers
            ]
            await repository.enqueue_all(session, jobs)  # one INSERT and one NOTIFY per batch
        self.fired += len(timers)
        return len(timers)

    async def run(self) -> None:
        """Fires timers until cancelled; database trouble is logged and retried."""
        await repeat_rounds(
            self.fire_due, interval=self._poll_interval, full=self._batch, what="firing timers", max_pause=5.0
        )
