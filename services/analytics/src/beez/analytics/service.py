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
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from beez.analytics.repository import StatsRepository
from beez.api.messages.v1.lifecycle_pb2 import ExecutionEvent, ExecutionEventKind
from beez.kit.clock import Clock
from beez.kit.db import Database
from beez.kit.grpc.errors import FieldViolation, InvalidArgument

OUTCOMES: dict[int, str] = {
    ExecutionEventKind.EXECUTION_EVENT_KIND_COMPLETED: "completed",
    ExecutionEventKind.EXECUTION_EVENT_KIND_FAILED: "failed",
    ExecutionEventKind.EXECUTION_EVENT_KIND_CANCELLED: "cancelled",
}
"""Terminal event kinds and the outcome they record."""

COUNTERS = {"completed": "succeeded", "failed": "failed", "cancelled": "cancelled"}
"""The counter column of each outcome."""

COUNTED_KINDS = {ExecutionEventKind.EXECUTION_EVENT_KIND_STARTED, *OUTCOMES}


class BadEvent(ValueError):
    """An event that can never be applied (missing ids); the consumer dead-letters it."""


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

    async def record(self, consumer: str, message_key: str, org_id: str, event: ExecutionEvent) -> bool:
        """Applies one lifecycle event once; True when it changed something.

        Kinds that do not affect the counts (step and waiting events) are ignored without a write.

        Raises:
            BadEvent: when a counted event lacks its organization, execution or automation id.
        """
        if event.kind not in COUNTED_KINDS:
            return False
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
        async with self._db.transaction() as session:
            repo = StatsRepository(session)
            if not await repo.claim(consumer, message_key):
                return False
            row, new = await repo.execution(org_id, event.execution_id, event.automation_id)
            deltas = {"total": 1} if new else {}
            if event.kind == ExecutionEventKind.EXECUTION_EVENT_KIND_STARTED:
                row.started_at = row.started_at or at
            else:
                outcome = OUTCOMES[event.kind]
                stale = row.finished_at is not None and at < row.finished_at
                if row.outcome != outcome and not stale:
                    if row.outcome is not None:
                        deltas[COUNTERS[row.outcome]] = -1
                    deltas[COUNTERS[outcome]] = 1
                    row.outcome = outcome
                    row.finished_at = at
                    row.duration_ms = event.duration_ms or _elapsed_ms(row.started_at, at)
            if deltas:
                await repo.add_to_counters(org_id, row.automation_id, deltas)
            return bool(deltas) or new
        return False  # pragma: no cover - mypy: the transaction block always returns

    async def automation_stats(self, org_id: str, automation_id: str) -> AutomationStats:
        """The automation's stats; zeros for an automation analytics has heard nothing about.

        Analytics cannot tell an unknown automation from one that never ran, so it never answers
        NOT_FOUND; the automation service decides whether the automation exists.
        """
        if not automation_id:
            raise InvalidArgument(
                "automation_id is required", [FieldViolation("automation_id", "is required")]
            )
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


def _elapsed_ms(start: datetime | None, end: datetime) -> int | None:
    if start is None or end < start:
        return None
    return int((end - start) / timedelta(milliseconds=1))
