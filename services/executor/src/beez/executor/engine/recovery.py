"""The control steps that act on executions rather than steer one: cancel_pending_actions and
retry_failed_action (decision 0047). Both run in the caller's transaction, like every control step.

``cancel_pending_actions`` cancels the contact's other executions that have not ended: of this
automation (``scope: this_automation``, the default), of those ``automation_ids`` lists
(``automations``), or of every automation (``all_automations``); at most :data:`MAX_CANCELLED`
per step, oldest first. Each is locked (in id order) and cancelled as CancelExecution does: its
timers deleted, its waits and goal withdrawn, a ``cancelled`` event sent, its end reason naming
this execution and step. All of it commits with the step, so a crash cancels nothing or all of
it, and a redelivered job finds the step already done (or the executions already ended): the
step is idempotent. An execution with no contact cancels nothing.

``retry_failed_action`` sits directly in a step's ``failed`` branch. Each visit counts (its log
rows are numbered by visit); while fewer than ``times`` re-runs happened, it moves the execution
back to the failed step, ``after`` a wait (a retry timer) or at once, and the step's retry
policy starts afresh (its attempt numbers, and so its idempotency keys, go on). Once the re-runs
are spent it is skipped and the branch goes on.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from beez.api.workflow.v1 import workflow_pb2
from beez.executor.engine import state
from beez.executor.engine.steplog import STEP_COMPLETED, may_run, step_key, step_row
from beez.executor.engine.store import Unit
from beez.kit.logging import mask_value
from beez.workflow import navigation
from beez.workflow.branches import failed_step, retry_refusal
from beez.workflow.intervals import add_interval
from beez.workflow.status import CANCELLABLE, EVENT_NAMES, StepStatus
from beez.workflow.waits import WaitKind

__all__ = ["MAX_CANCELLED", "cancel_pending", "retry_failed"]

MAX_CANCELLED = 100
"""The most executions one cancel_pending_actions step cancels."""


async def _log(
    unit: Unit, action: workflow_pb2.Action, attempt: int, status: str, result: dict[str, Any]
) -> None:
    """Logs a visit of the step as attempt ``attempt`` (finished), and announces it when it succeeded."""
    execution = unit.execution
    key = step_key(execution.id, execution.position or "", attempt)
    row = step_row(unit, action, attempt, key, status)
    row.update(result=mask_value(result), finished_at=unit.now, duration_ms=0)
    if await unit.rows.add_step(row) and status == StepStatus.SUCCEEDED:
        unit.outbox.lifecycle(
            execution, unit.now, STEP_COMPLETED, f"{key}:{EVENT_NAMES[STEP_COMPLETED]}", step=action
        )


def _targets(execution_automation: str, config: dict[str, Any]) -> list[str] | None:
    scope = config.get("scope") or "this_automation"
    if scope == "all_automations":
        return None
    if scope == "automations":
        return [str(item) for item in config.get("automation_ids") or []]
    return [execution_automation]


async def cancel_pending(unit: Unit, action: workflow_pb2.Action, config: dict[str, Any]) -> bool:
    """Cancels the contact's other pending executions; True when the next step may run at once."""
    execution = unit.execution
    cancelled: list[str] = []
    if execution.contact_id:
        ids = await unit.tx.pending_executions(
            execution.org_id,
            execution.contact_id,
            execution.id,
            _targets(execution.automation_id, config),
            MAX_CANCELLED,
        )
        reason = str(config.get("reason") or "").strip()
        why = f"by {execution.id} step {action.id}" + (f": {reason}" if reason else "")
        for other in (await unit.tx.lock_executions(ids)).values():
            if other.status not in CANCELLABLE or other.org_id != execution.org_id:
                continue  # ended (or changed) between the look-up and the lock
            await state.cancel(Unit(unit.tx, unit.outbox, other, unit.tx.rows(other.id), unit.now), why)
            cancelled.append(other.id)
    await _log(unit, action, 1, StepStatus.SUCCEEDED, {"cancelled": cancelled, "count": len(cancelled)})
    await state.move_on(unit)
    return may_run(execution)


async def retry_failed(unit: Unit, action: workflow_pb2.Action, config: dict[str, Any]) -> bool:
    """Sends the execution back to the failed step, or (re-runs spent) on through the branch."""
    execution, workflow = unit.execution, unit.workflow
    position = execution.position
    assert position is not None and workflow is not None
    target = failed_step(position)
    if target is None:
        raise ValueError("retry_failed_action only runs directly in a step's failed branch")
    last = await unit.rows.latest_attempt(position)
    done = last.attempt if last is not None else 0
    failed = navigation.action_at(workflow, target)
    refusal = retry_refusal(config, done)
    if refusal is not None:
        await _log(unit, action, done + 1, StepStatus.SKIPPED, {"reason": refusal})
        await state.move_on(unit)
        return may_run(execution)
    await _log(unit, action, done + 1, StepStatus.SUCCEEDED, {"retry": done + 1, "step": failed.id})
    previous = await unit.rows.latest_attempt(target)
    state.go_to(unit, target)
    execution.phase = "ready"  # the step's own delay was waited for on its first visit
    execution.attempt_base = previous.attempt if previous is not None else 0
    after = config.get("after")
    if isinstance(after, dict):
        due = add_interval(unit.now, after).astimezone(UTC)
        await state.wait_on_timer(unit, failed, WaitKind.RETRY, "retry", due)
        return False
    return True
