"""Re-drives executions that nothing drives or wakes any more (docs/decisions/0005-orphaned-executions.md,
docs/decisions/0028-outage-safe-consumers.md).

An execution that is ``queued`` or ``running`` with no ``wait_token`` belongs to the job that is
driving it: its START job, or the job that woke it (``driver_token``). When that job is gone for
good (it exhausted its deliveries and went to ``dlq.executor-jobs-<priority>``, or its message
was lost with a stream), nothing will ever move the execution again: it stays ``running``
forever, and the trigger keeps the contact's concurrency slot for it.

:class:`Sweeper` finds such executions and hands each to a fresh RESUME job, exactly as the
engine does when an execution reaches ``max_steps_per_job``
(:meth:`~beez.executor.engine.steps.StepRunner.hand_over`): in one transaction it locks the
row, sets ``wait_token = <new token>``, ``wait_kind = 'resume'``, clears ``driver_token``, and
writes ``Job{reason: RESUME, token}`` to the outbox with ``Nats-Msg-Id = resume:<token>``. The
RESUME job then resumes from the committed state; an action attempt left ``running`` is retried
under the same idempotency key.

The same goes for an execution whose next wake-up was lost, whatever the reason: it waits
(``wait_token`` set) but nothing holds its wake-up any more. Every wait on a timer keeps its
timer row until the timer fires, and the TIMER job that firing sends is the only thing left; when
that job is dead-lettered or lost, the execution stays ``waiting`` forever. A RESUME or RETRY
wait never has a timer: its job is all there is. So an execution not ended, with a wait token
that no timer row carries, is a candidate (:func:`~beez.executor.repository.lost_wakeup_candidates`),
and once it stays so long enough it is re-armed (:func:`~beez.executor.engine.rearm_wake`): a
TIMER job with its token, as if its timer fired now, a fresh RESUME job, or its RETRY job again.

An execution is orphaned (or its wake-up lost) when its ``updated_at`` (bumped by every step,
wake-up and state change) is older than ``stale_after`` by the service clock **and** this sweeper has seen the
same ``updated_at`` for ``stale_after`` seconds of its own monotonic time (so a jump of the
clock, as tests do with the offset file, never by itself makes a live execution look orphaned:
a live job moves its execution on well within ``stale_after`` of real time).
``stale_after`` must exceed the longest a live job can go without moving its execution: every
delivery of a job whose action hangs runs up to ``job_timeout_s`` and is redelivered after
``job_ack_wait_s`` plus a backoff, ``job_max_deliver`` times (see :func:`default_stale_after`).
If a live job were still in flight anyway, the handover stays safe: the old job can no longer
drive (its token is no longer the driver's), and at worst both send the same step with the same
idempotency key, which the provider deduplicates.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from beez.executor import repository
from beez.executor.engine import hand_to_resume_job, rearm_wake
from beez.kit.bus.topology import Topology
from beez.kit.clock import Clock
from beez.kit.db import Database
from beez.kit.logging import get_logger
from beez.kit.loops import repeat_rounds

log = get_logger(__name__)

BACKOFF_MAX_S = 10.0
"""The bus worker's largest nak delay (``exponential_backoff``'s default maximum)."""


def default_stale_after(job_timeout_s: float, job_ack_wait_s: float, job_max_deliver: int) -> float:
    """How long a live job may leave its execution unmoved, with a minute of margin.

    ``max_deliver + 1`` deliveries (the worker's spare dead-lettering one included), each up to
    ``job_timeout_s``, then ``job_ack_wait_s`` and a backoff before the next.
    """
    return (job_max_deliver + 1) * (job_timeout_s + job_ack_wait_s + BACKOFF_MAX_S) + 60.0


class Sweeper:
    """Finds orphaned executions and lost wake-ups; re-drives each through the outbox."""

    def __init__(
        self,
        db: Database,
        topology: Topology,
        clock: Clock,
        *,
        stale_after: float,
        interval: float = 30.0,
        batch: int = 100,
    ) -> None:
        self._db = db
        self._topology = topology
        self._clock = clock
        self._stale_after = stale_after
        self._interval = interval
        self._batch = batch
        self._seen: dict[str, tuple[datetime, float]] = {}
        """execution id -> (updated_at when first seen stale, monotonic time then)."""
        self.resumed = 0
        """Executions handed to a RESUME job by this sweeper (for tests and metrics)."""
        self.rearmed = 0
        """Executions whose lost wake-up this sweeper re-armed (for tests and metrics)."""

    async def sweep(self) -> int:
        """One round; returns how many executions were handed over or re-armed."""
        now = self._clock.now()
        mono = time.monotonic()
        cutoff = now - timedelta(seconds=self._stale_after)
        resumed = rearmed = 0
        async with self._db.transaction() as session:
            orphans = await repository.orphan_candidates(session, cutoff, self._batch)
            waiting = await repository.lost_wakeup_candidates(session, cutoff, self._batch)
            stale: set[str] = set()
            for execution in [*orphans, *waiting]:
                stale.add(execution.id)
                if not self._unchanged_long_enough(execution.id, execution.updated_at, mono):
                    continue
                orphaned = execution.wait_token is None
                if orphaned:
                    job = hand_to_resume_job(self._topology, execution, now)
                    resumed += 1
                else:
                    wait_kind, token = execution.wait_kind, execution.wait_token
                    job = rearm_wake(self._topology, execution, now)
                    rearmed += 1
                await repository.enqueue(session, job)
                log.warning(
                    "orphaned execution handed to a RESUME job" if orphaned else "lost wake-up re-armed",
                    execution_id=execution.id,
                    org_id=execution.org_id,
                    status=execution.status,
                    position=execution.position,
                    **({} if orphaned else {"wait_kind": wait_kind, "wait_token": token}),
                )
                stale.discard(execution.id)
        # forget what moved on or was handed over (a row locked elsewhere is simply seen again)
        self._seen = {k: v for k, v in self._seen.items() if k in stale}
        self.resumed += resumed
        self.rearmed += rearmed
        return resumed + rearmed

    def _unchanged_long_enough(self, execution_id: str, updated_at: datetime, mono: float) -> bool:
        """Whether this sweeper has seen the execution unchanged for ``stale_after`` of its own time."""
        first = self._seen.get(execution_id)
        if first is None or first[0] != updated_at:
            self._seen[execution_id] = (updated_at, mono)
            return False
        return mono - first[1] >= self._stale_after

    async def run(self) -> None:
        """Sweeps every ``interval`` seconds until cancelled; failures are logged and retried."""
        await repeat_rounds(
            self.sweep,
            interval=self._interval,
            full=self._batch,
            what="sweeping orphaned executions and lost wake-ups",
        )
