"""The statuses of beez.workflow.status are the ones the executor stores and the API shows."""

from __future__ import annotations

from beez.api.executor.v1 import executor_pb2
from beez.api.messages.v1.lifecycle_pb2 import ExecutionEventKind
from beez.executor.handlers import EXECUTION_STATUS, STEP_STATUS
from beez.executor.models import EXECUTION_STATUSES, STEP_STATUSES
from beez.workflow.status import (
    CANCELLABLE,
    EVENT_NAMES,
    OUTCOMES,
    RUNNABLE,
    TERMINAL,
    ExecutionStatus,
    StepStatus,
)


def test_every_status_has_its_api_value_and_the_api_has_no_other() -> None:
    api_execution = {
        value for name, value in executor_pb2.ExecutionStatus.items() if not name.endswith("UNSPECIFIED")
    }
    api_step = {value for name, value in executor_pb2.StepStatus.items() if not name.endswith("UNSPECIFIED")}
    assert set(EXECUTION_STATUS) == set(ExecutionStatus) and set(EXECUTION_STATUS.values()) == api_execution
    assert set(STEP_STATUS) == set(StepStatus) and set(STEP_STATUS.values()) == api_step


def test_the_tables_check_the_same_statuses() -> None:
    assert set(EXECUTION_STATUSES) == {
        "pending",
        "queued",
        "running",
        "waiting",
        "completed",
        "failed",
        "cancelled",
    }
    assert set(STEP_STATUSES) == {"running", "succeeded", "failed", "skipped", "waiting"}


def test_the_status_sets_partition_an_executions_life() -> None:
    assert set(OUTCOMES.values()) == TERMINAL
    assert RUNNABLE < CANCELLABLE and not CANCELLABLE & TERMINAL
    assert set(ExecutionStatus) == CANCELLABLE | TERMINAL
    assert "completed" in TERMINAL and "running" in RUNNABLE  # plain text from a row matches


def test_every_lifecycle_event_has_its_subject_name() -> None:
    kinds = {value for name, value in ExecutionEventKind.items() if not name.endswith("UNSPECIFIED")}
    assert set(EVENT_NAMES) == kinds
    for kind, name in EVENT_NAMES.items():
        assert ExecutionEventKind.Name(kind) == f"EXECUTION_EVENT_KIND_{name.upper()}"
