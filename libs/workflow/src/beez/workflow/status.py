"""The statuses of an execution and of its steps, defined once for every service.

They are the values stored in the executor's ``status`` columns and compared by the engine,
the sweeper and the tools that watch executions; a ``StrEnum`` compares equal to its string,
so rows read back as plain text match them.
"""

from __future__ import annotations

from enum import StrEnum

from beez.api.messages.v1.lifecycle_pb2 import ExecutionEventKind


class ExecutionStatus(StrEnum):
    """Where an execution is in its life."""

    PENDING = "pending"
    QUEUED = "queued"
    RUNNING = "running"
    WAITING = "waiting"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


class StepStatus(StrEnum):
    """What one attempt of one step came to (``waiting``: a wait step not over yet)."""

    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"
    WAITING = "waiting"


TERMINAL = frozenset({ExecutionStatus.COMPLETED, ExecutionStatus.FAILED, ExecutionStatus.CANCELLED})
"""An execution in one of these has ended; no job changes it any more (a retry of a failed one
starts a new run)."""

RUNNABLE = frozenset({ExecutionStatus.QUEUED, ExecutionStatus.RUNNING})
"""An execution in one of these, with no wait token, belongs to the job driving it."""

CANCELLABLE = frozenset(
    {ExecutionStatus.PENDING, ExecutionStatus.QUEUED, ExecutionStatus.RUNNING, ExecutionStatus.WAITING}
)
"""The statuses CancelExecution accepts: every one that has not ended."""

OUTCOMES: dict[ExecutionEventKind, ExecutionStatus] = {
    ExecutionEventKind.EXECUTION_EVENT_KIND_COMPLETED: ExecutionStatus.COMPLETED,
    ExecutionEventKind.EXECUTION_EVENT_KIND_FAILED: ExecutionStatus.FAILED,
    ExecutionEventKind.EXECUTION_EVENT_KIND_CANCELLED: ExecutionStatus.CANCELLED,
}
"""The lifecycle events an execution ends with, and the terminal status each records."""

EVENT_NAMES: dict[ExecutionEventKind, str] = {
    ExecutionEventKind.EXECUTION_EVENT_KIND_STARTED: "started",
    ExecutionEventKind.EXECUTION_EVENT_KIND_STEP_COMPLETED: "step_completed",
    ExecutionEventKind.EXECUTION_EVENT_KIND_STEP_FAILED: "step_failed",
    ExecutionEventKind.EXECUTION_EVENT_KIND_WAITING: "waiting",
    **{kind: str(status) for kind, status in OUTCOMES.items()},
}
"""The name of each lifecycle event, the last token of its subject ``executions.<org>.<name>``
(an ending is named for the status it records)."""
