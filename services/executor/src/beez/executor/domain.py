"""What the execution RPCs return and accept, as plain values (no rows, no protos).

The use cases of :mod:`beez.executor.service` turn rows into these; the gRPC servicers turn these
into protos. Statuses are the ones of :mod:`beez.workflow.status`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from beez.workflow.status import ExecutionStatus, StepStatus


@dataclass(frozen=True)
class ExecutionFilter:
    """Which of an organization's executions to list, newest first."""

    org_id: str
    automation_id: str | None = None
    contact_id: str | None = None
    statuses: Sequence[str] = field(default_factory=tuple)
    created_from: datetime | None = None
    created_to: datetime | None = None


@dataclass(frozen=True)
class StepView:
    """One attempt of one step, as the step log shows it (PII masked)."""

    step_id: str
    type: str
    path: str
    status: StepStatus
    attempt: int
    started_at: datetime
    finished_at: datetime | None
    duration_ms: int
    result: dict[str, Any]
    error: str
    error_category: str
    idempotency_key: str


@dataclass(frozen=True)
class ExecutionView:
    """An execution as the API shows it.

    ``current_step`` is its position (``"3.timeout.0"``): empty once it completed or was
    cancelled, and the failed step's position after a failure.
    """

    id: str
    automation_id: str
    automation_version: int
    contact_id: str
    status: ExecutionStatus
    trigger_event_id: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    current_step: str
    error: str
    queue_wait_ms: int
    converted: bool
    steps: list[StepView] = field(default_factory=list)
    steps_run: int = 0
    """Steps run so far, counted against the organization's steps cap (decision 0023)."""
    messages_sent: int = 0
    """Messages sent so far, counted against its messages cap."""


@dataclass(frozen=True)
class ScheduledWork:
    """A timer of an execution: a delay, retry backoff, quiet-hours hold or wait timeout."""

    id: str
    execution_id: str
    automation_id: str
    contact_id: str
    kind: str
    due_at: datetime
    step_id: str
