"""The analytics logic: no gRPC, no SQL.

Counting is per execution, not per message, so the numbers stay right whatever the bus does:

- the first event seen of an execution (started or terminal, in whatever order they arrive)
  counts it in ``total``;
- a terminal event (completed, failed, cancelled) sets the execution's outcome and moves it
  between the counters: an execution retried after failing and then completing counts once, as
  succeeded. An outcome older than the one recorded (a late redelivery) changes nothing;
- the same message handled twice changes nothing: its key goes to the inbox in the same
  transaction as the effect (and the rules above would absorb it anyway).

Durations are the terminal event's ``duration_ms``, else the time since the started event when
that one was seen first. Percentiles cover the most recent completed executions only, so the
figures answer "how long does a run take" and are not skewed by retries and cancellations.

Events are applied in batches (:meth:`AnalyticsService.record_batch`), one transaction each, with
the same result as one at a time in the batch's order.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from beez.analytics.domain.counting import (
    COUNTED_KINDS,
    BadEvent,
    CountersKey,
    ExecutionKey,
    ExecutionRow,
    LifecycleEvent,
    Replay,
)
from beez.analytics.repository.stats import StatsRepository
from beez.api.messages.v1.lifecycle_pb2 import ExecutionEvent
from beez.kit.clock import Clock
from beez.kit.db import Database
from beez.kit.grpc.errors import require
from beez.kit.transactions import in_transaction
from beez.workflow.status import OUTCOMES


@dataclass(frozen=True)
class AutomationStats:
    """An automation's execution counts and duration percentiles (zeros when nothing is known)."""

    automation_id: str
    total: int = 0
    succeeded: int = 0
    failed: int = 0
    cancelled: int = 0
    success_rate: float = 0.0
    duration_p50_ms: float = 0.0
    duration_p95_ms: float = 0.0
    duration_p99_ms: float = 0.0


class AnalyticsService:
    """Applies execution events and answers stats, each scoped to one organization."""

    def __init__(self, db: Database, clock: Clock, *, duration_samples: int = 1000) -> None:
        self._db = db
        self._clock = clock
        self._samples = duration_samples

    def prepare(self, message_key: str, org_id: str, event: ExecutionEvent) -> LifecycleEvent | None:
        """Validates ``event`` for :meth:`record_batch`; None for kinds that do not count.

        Step and waiting events do not affect the counts, so they are ignored without a write.
        An event without ``occurred_at`` happened now.

        Raises:
            BadEvent: when a counted event lacks its organization, execution or automation id.
        """
        if event.kind not in COUNTED_KINDS:
            return None
        missing = [
            name
            for name, value in (
                ("organization_id", org_id),
                ("execution_id", event.execution_id),
                ("automation_id", event.automation_id),
            )
            if not value
        ]
        if missing:
            raise BadEvent(f"execution event {event.id!r} has no {', '.join(missing)}")
        at = event.occurred_at.ToDatetime(tzinfo=UTC) if event.HasField("occurred_at") else self._clock.now()
        return LifecycleEvent(
            message_key=message_key,
            org_id=org_id,
            execution_id=event.execution_id,
            automation_id=event.automation_id,
            outcome=OUTCOMES.get(event.kind),
            at=at,
            duration_ms=event.duration_ms,
        )

    async def record(self, consumer: str, message_key: str, org_id: str, event: ExecutionEvent) -> bool:
        """Applies one lifecycle event once; True when it changed something.

        Raises:
            BadEvent: see :meth:`prepare`.
        """
        prepared = self.prepare(message_key, org_id, event)
        if prepared is None:
            return False
        return (await self.record_batch(consumer, [prepared]))[0]

    async def record_batch(self, consumer: str, events: Sequence[LifecycleEvent]) -> list[bool]:
        """Applies prepared events in one transaction, each once; per event, whether it changed something.

        The result is the same as applying them one by one in this order: a message key seen
        before (or earlier in the batch) changes nothing, and an execution's events are replayed
        on its row in order. Executions new to analytics are inserted in their final state;
        known ones are locked, replayed and written back, with one statement per step for the
        whole batch, and the counters move by the sum of the batch's changes. A batch aborted by a
        deadlock or serialization failure runs again from scratch (:mod:`beez.kit.transactions`).
        """

        async def apply(session: AsyncSession) -> list[bool]:
            changed = [False] * len(events)
            repo = StatsRepository(session)
            unclaimed = await repo.claim(consumer, {event.message_key for event in events})
            positions: dict[ExecutionKey, list[int]] = {}
            for i, event in enumerate(events):
                if event.message_key in unclaimed:
                    unclaimed.discard(event.message_key)  # the same key later in the batch is a duplicate
                    positions.setdefault((event.org_id, event.execution_id), []).append(i)
            if not positions:
                return changed

            def replay(row: ExecutionRow, new: bool) -> Replay:
                return Replay.of(row, [events[i] for i in positions[row.key]], new=new)

            as_new = {
                key: replay(ExecutionRow(*key, automation_id=events[where[0]].automation_id), new=True)
                for key, where in positions.items()
            }
            inserted = await repo.insert_executions([outcome.row for outcome in as_new.values()])
            known = await repo.lock_executions(positions.keys() - inserted)
            if len(inserted) + len(known) != len(positions):  # a row neither inserted nor found
                raise RuntimeError("execution rows changed under the batch; retry it")
            replays = {key: as_new[key] for key in inserted}
            replays.update({key: replay(row, new=False) for key, row in known.items()})
            deltas: dict[CountersKey, Counter[str]] = {}
            for key, outcome in replays.items():
                counters = (outcome.row.org_id, outcome.row.automation_id)
                deltas.setdefault(counters, Counter()).update(outcome.deltas)
                for i, flag in zip(positions[key], outcome.changed, strict=True):
                    changed[i] = flag
            await repo.write_changes(
                [outcome.row for outcome in replays.values() if outcome.row_changed],
                {key: delta for key, delta in deltas.items() if any(delta.values())},
            )
            return changed

        return await in_transaction(self._db, apply)

    async def automation_stats(self, org_id: str, automation_id: str) -> AutomationStats:
        """The automation's stats; zeros for an automation analytics has heard nothing about.

        Analytics cannot tell an unknown automation from one that never ran, so it never answers
        NOT_FOUND; the automation service decides whether the automation exists.
        """
        require(automation_id=automation_id)
        async with self._db.transaction() as session:
            repo = StatsRepository(session)
            counters = await repo.counters(org_id, automation_id)
            percentiles = await repo.duration_percentiles(org_id, automation_id, self._samples)
        if counters is None:
            return AutomationStats(automation_id)
        finished = counters.succeeded + counters.failed + counters.cancelled
        p50, p95, p99 = percentiles or (0.0, 0.0, 0.0)
        return AutomationStats(
            automation_id=automation_id,
            total=counters.total,
            succeeded=counters.succeeded,
            failed=counters.failed,
            cancelled=counters.cancelled,
            success_rate=counters.succeeded / finished if finished else 0.0,
            duration_p50_ms=p50,
            duration_p95_ms=p95,
            duration_p99_ms=p99,
        )

    async def purge_inbox(self, older_than: timedelta) -> int:
        """Forgets handled message ids older than ``older_than``; returns how many."""
        async with self._db.transaction() as session:
            return await StatsRepository(session).purge_inbox(older_than)
