"""State transitions of a locked execution: run, wait, move on, end.

Every function here changes the unit's execution row (and its other rows) in the caller's
transaction and emits what the change announces; nothing here commits, calls a provider or
decides which step comes next beyond the workflow's own order. The workflow must be loaded
on the unit (:meth:`~.workflows.Workflows.load`) before a function that walks it is called.
"""

from __future__ import annotations

from datetime import datetime

from beez.api.messages.v1 import events_pb2, jobs_pb2, lifecycle_pb2
from beez.api.workflow.v1 import workflow_pb2
from beez.executor import messages
from beez.executor.engine.steplog import elapsed_ms, new_token, step_key, step_row
from beez.executor.engine.store import Unit
from beez.executor.models import Execution
from beez.kit.bus.topology import Topology
from beez.kit.logging import get_logger
from beez.workflow import navigation
from beez.workflow.branches import ARRIVED
from beez.workflow.catalog import FAILED_BRANCH
from beez.workflow.context import contact_to_dict, event_to_dict
from beez.workflow.effects_control import failure_vars
from beez.workflow.model import struct_to_dict
from beez.workflow.status import OUTCOMES, ExecutionStatus, StepStatus
from beez.workflow.waits import GOAL, REGISTRATION_KINDS, WaitKind

log = get_logger(__name__)

ENDED = {status: kind for kind, status in OUTCOMES.items()}
"""The lifecycle event each way of ending sends."""

KEPT_ASSIGNMENTS = ("assigned_user", "assigned_team")
"""What a run assigned to its contact, kept when an event refreshes the contact snapshot."""


def mark_running(unit: Unit) -> None:
    """The execution runs; the first time, it has started (with how long it was queued)."""
    execution = unit.execution
    execution.status = ExecutionStatus.RUNNING
    execution.updated_at = unit.now
    if execution.started_at is None:
        execution.started_at = unit.now
        execution.queue_wait_ms = max(0, elapsed_ms(execution.created_at, unit.now))
        unit.outbox.lifecycle(
            execution,
            unit.now,
            lifecycle_pb2.EXECUTION_EVENT_KIND_STARTED,
            f"exec:{execution.id}:started",
            with_queue_wait=True,
        )


def clear_wait(unit: Unit, token: str, status: str = ExecutionStatus.RUNNING) -> None:
    """The wait is over; the job carrying ``token`` drives the execution from now on."""
    execution = unit.execution
    execution.wait_token = execution.wait_kind = None
    execution.driver_token = token
    execution.status = status
    execution.updated_at = unit.now


def go_to(unit: Unit, position: str | None) -> None:
    """Moves to ``position``, whose delay (if any) is still ahead."""
    execution = unit.execution
    execution.position = position
    execution.phase = "start"
    execution.attempt_base = 0
    execution.updated_at = unit.now


async def move_on(unit: Unit) -> None:
    """Goes to the step after the current one; the end of the workflow completes it."""
    execution, workflow = unit.execution, unit.workflow
    assert execution.position is not None and workflow is not None
    following = navigation.next_after(workflow, execution.position)
    go_to(unit, following)
    if following is None:
        await finish(unit, ExecutionStatus.COMPLETED, reason="completed")


async def take_branch(unit: Unit, branch: str) -> None:
    """Enters ``branch`` of the step at the position (or moves past it when it is empty)."""
    execution, workflow = unit.execution, unit.workflow
    assert execution.position is not None and workflow is not None
    entered = navigation.enter_branch(workflow, execution.position, branch)
    if entered is None:
        await move_on(unit)
    else:
        go_to(unit, entered)


async def wait_on_timer(
    unit: Unit,
    action: workflow_pb2.Action,
    wait_kind: str,
    timer_kind: str,
    due: datetime,
    *,
    token: str | None = None,
) -> None:
    """The execution waits for a timer due at ``due`` (or, with ``token``, for what that names too)."""
    execution = unit.execution
    token = token or new_token()
    execution.status = ExecutionStatus.WAITING
    execution.wait_token, execution.wait_kind, execution.driver_token = token, wait_kind, None
    execution.updated_at = unit.now
    await unit.rows.add_timer(
        {
            "id": f"tmr_{new_token()}",
            "org_id": execution.org_id,
            "execution_id": execution.id,
            "kind": timer_kind,
            "due_at": due,
            "token": token,
            "step_id": action.id,
            "priority": execution.priority,
        }
    )
    unit.outbox.lifecycle(
        execution,
        unit.now,
        lifecycle_pb2.EXECUTION_EVENT_KIND_WAITING,
        f"exec:{execution.id}:waiting:{token}",
        step=action,
    )


async def finish(
    unit: Unit,
    status: ExecutionStatus,
    *,
    reason: str,
    error: str | None = None,
    category: str | None = None,
    converted: bool = False,
) -> None:
    """Ends the execution: timers deleted, waits and goal withdrawn, a terminal event sent."""
    execution = unit.execution
    if execution.wait_token and execution.wait_kind in ARRIVED:
        cancel_registration(unit, execution.wait_token, execution.wait_kind)
    if execution.goal_token:
        cancel_registration(unit, execution.goal_token, GOAL)
    await unit.rows.delete_timers()
    for row in await unit.rows.waiting_steps():
        row.status = StepStatus.SKIPPED
        row.finished_at = unit.now
        row.duration_ms = elapsed_ms(row.started_at, unit.now)
        row.error = reason
    execution.status = status
    execution.finished_at = unit.now
    execution.end_reason = reason
    execution.error, execution.error_category = error, category
    execution.converted = execution.converted or converted
    execution.wait_token = execution.wait_kind = execution.driver_token = execution.goal_token = None
    execution.updated_at = unit.now
    if status != ExecutionStatus.FAILED:
        execution.position = None  # a failed execution keeps its position for RetryExecution
    unit.outbox.lifecycle(
        execution,
        unit.now,
        ENDED[status],
        f"exec:{execution.id}:{status}:{execution.run}",
        error=error or "",
        category=category or "",
        duration_ms=elapsed_ms(execution.started_at or execution.created_at, unit.now),
        with_queue_wait=True,
    )


async def fail(
    unit: Unit,
    action: workflow_pb2.Action | None,
    error: str,
    category: str,
    *,
    key: str | None = None,
) -> None:
    """Fails the execution at its step, leaving a dead letter."""
    execution = unit.execution
    log.info(
        "execution failed", execution_id=execution.id, step=action.id if action else "", category=category
    )
    if action is not None and key is None:  # a control step: show the failure in the log too
        key = step_key(execution.id, execution.position or "", 1)
        row = step_row(unit, action, 1, key, StepStatus.FAILED)
        row.update(finished_at=unit.now, duration_ms=0, error=error, error_category=category)
        await unit.rows.add_step(row)
    await unit.rows.add_dead_letter(
        {
            "org_id": execution.org_id,
            "execution_id": execution.id,
            "automation_id": execution.automation_id,
            "step_id": action.id if action is not None else "",
            "position": execution.position or "",
            "idempotency_key": key,
            "error": error,
            "category": category,
            "created_at": unit.now,
        }
    )
    await finish(unit, ExecutionStatus.FAILED, reason="failed", error=error, category=category)


async def recover(unit: Unit, action: workflow_pb2.Action, error: str, category: str) -> None:
    """The step failed for good but carries a ``failed`` branch: ``vars.error`` describes the
    failure and the branch runs (an empty one: the flow goes on after the step). No dead letter:
    the workflow handles the failure (decision 0047)."""
    execution = unit.execution
    log.info(
        "step failed into its failed branch", execution_id=execution.id, step=action.id, category=category
    )
    execution.vars = {**execution.vars, **failure_vars(action.id, action.type, error, category)}
    await take_branch(unit, FAILED_BRANCH)


def cancel_registration(unit: Unit, registration_id: str, kind: str) -> None:
    """Withdraws a wait (or the goal) registered with the trigger service."""
    unit.outbox.emit(
        messages.wait_cancellation(
            unit.outbox.topology,
            registration_id=registration_id,
            kind=REGISTRATION_KINDS[kind],
            org_id=unit.execution.org_id,
            execution_id=unit.execution.id,
        )
    )


def register_goal(unit: Unit) -> None:
    """Registers the workflow's goal, if it has one, with the trigger service."""
    execution, workflow = unit.execution, unit.workflow
    assert workflow is not None
    goal = workflow.goal
    if not workflow.HasField("goal") or not (goal.event or len(goal.conditions)):
        return
    execution.goal_token = new_token()
    unit.outbox.emit(
        messages.wait_registration(
            unit.outbox.topology,
            registration_id=execution.goal_token,
            kind=REGISTRATION_KINDS[GOAL],
            org_id=execution.org_id,
            execution_id=execution.id,
            contact_id=execution.contact_id,
            event_type=goal.event,
            filters=struct_to_dict(goal.filters),
            conditions=list(goal.conditions),
        )
    )


async def reach_goal(unit: Unit, event: events_pb2.Event | None) -> None:
    """The goal was reached (``event`` is what reached it): the execution completes, converted."""
    if event is not None:
        unit.execution.vars = {**unit.execution.vars, "last_event": event_to_dict(event)}
    await finish(unit, ExecutionStatus.COMPLETED, reason="goal reached", converted=True)


def receive_event(unit: Unit, event: events_pb2.Event) -> None:
    """Keeps the event that ended a wait as ``vars.last_event``; its contact snapshot refreshes
    the execution's, keeping the assignments the run made."""
    execution = unit.execution
    execution.vars = {**execution.vars, "last_event": event_to_dict(event)}
    if event.HasField("contact") and event.contact.id:
        fresh = contact_to_dict(event.contact)
        kept = {k: v for k, v in execution.contact.items() if k in KEPT_ASSIGNMENTS}
        execution.contact = {**fresh, **kept}


def hand_to_resume_job(topology: Topology, execution: Execution, now: datetime) -> messages.Outgoing:
    """Makes the locked execution wait for a fresh RESUME job, and returns that job for the outbox.

    Used when one job has run its share of steps (the step bound) and by the sweeper for an
    execution nothing drives any more; only the job carrying the new token may drive it next.
    """
    token = new_token()
    execution.wait_token, execution.wait_kind, execution.driver_token = token, WaitKind.RESUME, None
    execution.updated_at = now
    return messages.job(
        topology,
        org_id=execution.org_id,
        execution_id=execution.id,
        priority=execution.priority,
        reason=jobs_pb2.JOB_REASON_RESUME,
        token=token,
        msg_id=f"resume:{token}",
        now=now,
    )


def rearm_wake(topology: Topology, execution: Execution, now: datetime) -> messages.Outgoing:
    """Makes the locked execution's lost wake-up happen again, and returns the job for the outbox.

    The job is the one the wait expects: a fresh RESUME job (new token) for a RESUME wait, the
    RETRY job again for RetryExecution, and for every wait on a timer (delay, quiet hours, step
    retry, wait, and the timeout of an event or until wait) a TIMER job with the wait's own
    token, as if its timer fired now. A job answering the same token that turns up late finds
    the wait already over and changes nothing. ``updated_at`` moves, so the sweeper watches it
    afresh instead of re-arming it every round.
    """
    if execution.wait_kind == WaitKind.RESUME:
        return hand_to_resume_job(topology, execution, now)
    assert execution.wait_token is not None
    execution.updated_at = now
    retry = execution.wait_kind == WaitKind.RETRY_EXECUTION
    return messages.job(
        topology,
        org_id=execution.org_id,
        execution_id=execution.id,
        priority=execution.priority,
        reason=jobs_pb2.JOB_REASON_RETRY if retry else jobs_pb2.JOB_REASON_TIMER,
        token=execution.wait_token,
        msg_id=f"rearm:{new_token()}",
        now=now,
    )


async def cancel(unit: Unit, reason: str) -> None:
    """Cancels the locked execution, which has not ended: timers deleted, waits withdrawn."""
    await finish(unit, ExecutionStatus.CANCELLED, reason=f"cancelled: {reason}" if reason else "cancelled")


async def requeue(unit: Unit) -> None:
    """Queues the locked, failed execution again from the step that failed (a RETRY job).

    The step's attempts start counting afresh for its retry policy; attempt numbers (and so
    idempotency keys) go on from the last one, so a provider never mistakes the new tries for
    the failed ones.
    """
    execution = unit.execution
    assert execution.position is not None
    last = await unit.rows.latest_attempt(execution.position)
    execution.attempt_base = last.attempt if last is not None else 0
    execution.status = ExecutionStatus.QUEUED
    execution.queued_at = unit.now
    execution.finished_at = None
    execution.error = execution.error_category = execution.end_reason = None
    execution.run += 1
    execution.updated_at = unit.now
    token = new_token()
    execution.wait_token, execution.wait_kind, execution.driver_token = token, WaitKind.RETRY_EXECUTION, None
    register_goal(unit)
    unit.outbox.emit(
        messages.job(
            unit.outbox.topology,
            org_id=execution.org_id,
            execution_id=execution.id,
            priority=execution.priority,
            reason=jobs_pb2.JOB_REASON_RETRY,
            token=token,
            msg_id=f"retry:{token}",
            now=unit.now,
        )
    )
