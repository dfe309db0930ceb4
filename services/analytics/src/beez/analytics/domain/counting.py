"""How execution events move an execution's row and its automation's counters. Pure logic.

The rules (see :mod:`beez.analytics.service` for the whole story): the first event seen of an
execution counts it in ``total``; a terminal event sets the outcome and moves the execution
between the counters; an outcome older than the recorded one changes nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from beez.api.messages.v1.lifecycle_pb2 import ExecutionEventKind
from beez.workflow.status import OUTCOMES, ExecutionStatus

ExecutionKey = tuple[str, str]
"""``(org_id, execution_id)``, the primary key of ``execution_outcomes``."""

CountersKey = tuple[str, str]
"""``(org_id, automation_id)``, the primary key of ``automation_counters``."""


@dataclass
class ExecutionRow:
    """One ``execution_outcomes`` row as the batch path reads, changes and writes it."""

    org_id: str
    execution_id: str
    automation_id: str
    started_at: datetime | None = None
    outcome: str | None = None
    finished_at: datetime | None = None
    duration_ms: int | None = None

    @property
    def key(self) -> ExecutionKey:
        return (self.org_id, self.execution_id)


COUNTERS: dict[str, str] = {
    ExecutionStatus.COMPLETED: "succeeded",
    ExecutionStatus.FAILED: "failed",
    ExecutionStatus.CANCELLED: "cancelled",
}
"""The counter column of each outcome."""

COUNTED_KINDS = {ExecutionEventKind.EXECUTION_EVENT_KIND_STARTED, *OUTCOMES}


class BadEvent(ValueError):
    """An event that can never be applied (missing ids); the consumer dead-letters it."""


@dataclass(frozen=True, slots=True)
class LifecycleEvent:
    """A counted execution event, validated by :meth:`AnalyticsService.prepare`."""

    message_key: str
    """What the inbox remembers of its message."""
    org_id: str
    execution_id: str
    automation_id: str
    outcome: str | None
    """The outcome a terminal event records; None for the started event."""
    at: datetime
    duration_ms: int
    """The duration the event reports, 0 when it does not."""


@dataclass(slots=True)
class Replay:
    """An execution's row after a batch's events of it, and what each of them changed."""

    row: ExecutionRow
    row_changed: bool = False
    changed: list[bool] = field(default_factory=list)
    deltas: Counter[str] = field(default_factory=Counter)

    @classmethod
    def of(cls, row: ExecutionRow, events: Sequence[LifecycleEvent], *, new: bool) -> Replay:
        """Applies ``events`` in order to ``row`` (changed in place); ``new``: the row was not stored."""
        before = replace(row)
        replay = cls(row)
        for event in events:
            deltas = apply_event(row, event)
            if new:  # the first event seen of an execution counts it
                deltas["total"] = 1
                new = False
            replay.changed.append(bool(deltas))
            replay.deltas.update(deltas)
        replay.row_changed = row != before
        return replay


def apply_event(row: ExecutionRow, event: LifecycleEvent) -> dict[str, int]:
    """Moves ``row`` by one event; returns the counter changes it causes (total aside)."""
    if event.outcome is None:
        row.started_at = row.started_at or event.at
        return {}
    stale = row.finished_at is not None and event.at < row.finished_at
    if row.outcome == event.outcome or stale:
        return {}
    deltas = {COUNTERS[event.outcome]: 1}
    if row.outcome is not None:
        deltas[COUNTERS[row.outcome]] = -1
    row.outcome = event.outcome
    row.finished_at = event.at
    row.duration_ms = event.duration_ms or elapsed_ms(row.started_at, event.at)
    return deltas


def elapsed_ms(start: datetime | None, end: datetime) -> int | None:
    if start is None or end < start:
        return None
    return int((end - start) / timedelta(milliseconds=1))
