"""The step log: one row per attempt of an action step, one per visit of a control step.

Rows are masked (``mask_value``) before they are stored, as every log is. An attempt's row is
keyed by its idempotency key ``exec:<id>:step:<position>:attempt:<n>``; a control step's row by
attempt 1 of its position, so a redelivered job that runs the step again adds nothing.
"""

from __future__ import annotations

import math
import uuid
from datetime import datetime
from typing import Any

from beez.api.messages.v1.lifecycle_pb2 import ExecutionEventKind
from beez.api.workflow.v1 import workflow_pb2
from beez.executor.engine.store import Unit
from beez.executor.models import Execution, ExecutionStep
from beez.kit.logging import mask_value
from beez.workflow import navigation
from beez.workflow.status import EVENT_NAMES, RUNNABLE, StepStatus

STEP_COMPLETED = ExecutionEventKind.EXECUTION_EVENT_KIND_STEP_COMPLETED


def new_token() -> str:
    return uuid.uuid4().hex


def step_key(execution_id: str, position: str, attempt: int) -> str:
    """The idempotency key of one attempt of one step."""
    return f"exec:{execution_id}:step:{position}:attempt:{attempt}"


def elapsed_ms(start: datetime, end: datetime) -> int:
    return max(0, math.floor((end - start).total_seconds() * 1000))


def may_run(execution: Execution) -> bool:
    """Whether the execution's next step may run at once (it neither waits nor has ended)."""
    return execution.status in RUNNABLE and execution.wait_token is None


def may_drive(execution: Execution, driver: str) -> bool:
    """Whether the job with token ``driver`` may run the execution's steps (the stale-driver rule).

    A START job (no token) may, and so may the job that woke it (``driver_token``): a redelivery
    of either finishes what it began. Any other job is stale and changes nothing.
    """
    return may_run(execution) and (not driver or driver == execution.driver_token)


def step_row(unit: Unit, action: workflow_pb2.Action, attempt: int, key: str, status: str) -> dict[str, Any]:
    """The values of a new step row at the execution's position."""
    execution = unit.execution
    assert execution.position is not None
    return {
        "execution_id": execution.id,
        "org_id": execution.org_id,
        "step_id": action.id,
        "position": execution.position,
        "path": navigation.path_of(execution.position),
        "type": action.type,
        "status": status,
        "attempt": attempt,
        "idempotency_key": key,
        "started_at": unit.now,
        "result": {},
    }


def step_event(
    unit: Unit, action: workflow_pb2.Action, key: str, kind: ExecutionEventKind, row: ExecutionStep
) -> None:
    """Announces a finished attempt (completed or failed)."""
    unit.outbox.lifecycle(
        unit.execution,
        unit.now,
        kind,
        f"{key}:{EVENT_NAMES[kind]}",
        step=action,
        error=row.error or "",
        category=row.error_category or "",
        duration_ms=row.duration_ms or 0,
    )


async def log_control(unit: Unit, action: workflow_pb2.Action, status: str, result: dict[str, Any]) -> None:
    """Logs a control step (once per visit of its position) and, when done, its event."""
    execution = unit.execution
    key = step_key(execution.id, execution.position or "", 1)
    row = step_row(unit, action, 1, key, status)
    row["result"] = mask_value(result)
    if status != StepStatus.WAITING:
        row.update(finished_at=unit.now, duration_ms=0)
    if await unit.rows.add_step(row) and status == StepStatus.SUCCEEDED:
        unit.outbox.lifecycle(
            execution, unit.now, STEP_COMPLETED, f"{key}:{EVENT_NAMES[STEP_COMPLETED]}", step=action
        )


async def finish_waiting_step(unit: Unit, result: dict[str, Any]) -> None:
    """Closes the row of the wait step at the position (its wait is over) as succeeded."""
    execution, workflow = unit.execution, unit.workflow
    assert execution.position is not None and workflow is not None
    key = step_key(execution.id, execution.position, 1)
    row = await unit.rows.step_by_key(key)
    if row is None or row.status != StepStatus.WAITING:
        return
    row.status = StepStatus.SUCCEEDED
    row.finished_at = unit.now
    row.duration_ms = elapsed_ms(row.started_at, unit.now)
    row.result = {**row.result, **mask_value(result)}
    step_event(unit, navigation.action_at(workflow, execution.position), key, STEP_COMPLETED, row)
