"""Control steps: condition, switch, random_split, loop, wait, wait_for_event, wait_until, stop,
and the steps that change executions (cancel_pending_actions, retry_failed_action: :mod:`.recovery`).

They run inside the caller's transaction and touch nothing outside this database: they choose
a branch, move the position, or make the execution wait (on a timer, or on a registration with
the trigger service plus a timeout timer). Which branch a step takes, and what a loop does on
each visit, is decided by :mod:`beez.workflow.branches` and :mod:`beez.workflow.loops`, which
the automation service's dry run calls too.

* Inside a ``loop`` body, ``vars.item`` is the current item (the index for ``{times}``) and
  ``vars.loop_index`` counts from 0; both are restored to their outer values when the loop
  ends. The items are fixed when the loop starts and stored with the execution.
* A goal written as ``{conditions}`` only is also checked by the engine before every step,
  against its own snapshot; one with an ``event`` is registered with the trigger service.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from beez.api.messages.v1 import lifecycle_pb2
from beez.api.workflow.v1 import workflow_pb2
from beez.executor import messages
from beez.executor.engine import state
from beez.executor.engine.recovery import cancel_pending, retry_failed
from beez.executor.engine.steplog import log_control, may_run, new_token
from beez.executor.engine.store import Unit
from beez.executor.engine.workflows import Workflows, step_context, time_zone
from beez.workflow import navigation
from beez.workflow.branches import (
    ARRIVED,
    WAIT_KINDS,
    condition_branch,
    goal_conditions,
    split_branch,
    step_conditions,
    step_conditions_path,
    switch_branch,
    wait_timeout_due,
)
from beez.workflow.intervals import wait_due
from beez.workflow.loops import loop_turn
from beez.workflow.model import struct_to_dict
from beez.workflow.status import RUNNABLE, ExecutionStatus, StepStatus
from beez.workflow.waits import WaitKind


def goal_conditions_hold(unit: Unit) -> bool:
    """Whether a goal written as conditions only holds against the execution's snapshot.

    The context is built only when the workflow has such a goal: this runs before every step.
    """
    workflow = unit.workflow
    compiled = goal_conditions(workflow) if workflow is not None else None
    return compiled is not None and compiled.evaluate(step_context(unit, None), unit.now)


class ControlSteps:
    """Runs the control step at the position of a locked execution."""

    def __init__(self, workflows: Workflows) -> None:
        self._workflows = workflows

    async def run(self, unit: Unit, action: workflow_pb2.Action) -> bool:
        """Runs the step; True when the next step may run at once."""
        execution = unit.execution
        assert execution.position is not None
        try:
            if action.type == "condition":
                held = self._holds(unit, action)
                return await self._branch_now(unit, action, condition_branch(held))
            if action.type == "wait_until" and self._holds(unit, action):
                return await self._branch_now(unit, action, ARRIVED[WaitKind.UNTIL])
            config = struct_to_dict(action.config)
            if action.type == "wait":
                due = wait_due(config, unit.now, time_zone(unit))
                await log_control(unit, action, StepStatus.WAITING, {"due_at": due.isoformat()})
                kind = "until" if isinstance(config.get("until"), str) else "delay"
                await state.wait_on_timer(unit, action, WaitKind.WAIT, kind, due)
                return False
            if action.type == "switch":
                chosen = switch_branch(action, step_context(unit, action), unit.now, execution.position)
                return await self._branch_now(unit, action, chosen)
            if action.type == "random_split":
                chosen = split_branch(action, execution.automation_id, execution.contact_id)
                return await self._branch_now(unit, action, chosen)
            if action.type == "loop":
                return await self._loop(unit, action, config)
            if action.type == "stop":
                reason = str(config.get("reason") or "")
                await log_control(unit, action, StepStatus.SUCCEEDED, {"reason": reason} if reason else {})
                await state.finish(
                    unit, ExecutionStatus.COMPLETED, reason=f"stopped: {reason}" if reason else "stopped"
                )
                return False
            if action.type in WAIT_KINDS:
                return await self._wait_for(unit, action, config, WAIT_KINDS[action.type])
            if action.type == "cancel_pending_actions":
                return await cancel_pending(unit, action, config)
            if action.type == "retry_failed_action":
                return await retry_failed(unit, action, config)
        except ValueError as exc:  # bad intervals, conditions, positions: the workflow is wrong
            await state.fail(unit, action, str(exc), "configuration")
            return False
        await state.fail(unit, action, f"the engine cannot run {action.type!r}", "configuration")
        return False

    def _holds(self, unit: Unit, action: workflow_pb2.Action) -> bool:
        """Whether the step's ``config.conditions`` hold."""
        compiled = self._workflows.step_conditions(unit, action)
        return compiled.evaluate(step_context(unit, action), unit.now)

    async def _branch_now(self, unit: Unit, action: workflow_pb2.Action, branch: str) -> bool:
        await log_control(unit, action, StepStatus.SUCCEEDED, {"branch": branch})
        await state.take_branch(unit, branch)
        return may_run(unit.execution)

    async def _loop(self, unit: Unit, action: workflow_pb2.Action, config: dict[str, Any]) -> bool:
        execution, workflow = unit.execution, unit.workflow
        position = execution.position
        assert position is not None and workflow is not None
        loop = execution.loops.get(position)
        turn = loop_turn(
            loop,
            config,
            step_context(unit, action) if loop is None else {},
            execution.vars,
            has_body=navigation.enter_branch(workflow, position, "body", 0) is not None,
        )
        if turn.iterations is not None:
            await log_control(unit, action, StepStatus.SUCCEEDED, {"iterations": turn.iterations})
        if turn.iteration is None:
            if loop is not None:  # the last iteration ended; an empty loop leaves loops and vars alone
                execution.loops = {k: v for k, v in execution.loops.items() if k != position}
                execution.vars = turn.vars
            await state.move_on(unit)
            return execution.status in RUNNABLE
        assert turn.state is not None
        execution.loops = {**execution.loops, position: turn.state}
        execution.vars = turn.vars
        entered = navigation.enter_branch(workflow, position, "body", turn.iteration)
        assert entered is not None
        state.go_to(unit, entered)
        return True

    async def _wait_for(
        self, unit: Unit, action: workflow_pb2.Action, config: dict[str, Any], kind: WaitKind
    ) -> bool:
        """wait_for_event (``event``) or wait_until (``until``): a registration plus a timeout."""
        execution = unit.execution
        assert execution.position is not None
        due = wait_timeout_due(config, unit.now)
        token = new_token()
        topology = unit.outbox.topology
        if kind == WaitKind.EVENT:
            filters = config.get("filters")
            registration = messages.wait_registration(
                topology,
                registration_id=token,
                kind=lifecycle_pb2.WAIT_KIND_EVENT,
                org_id=execution.org_id,
                execution_id=execution.id,
                contact_id=execution.contact_id,
                event_type=str(config.get("event") or ""),
                filters=filters if isinstance(filters, Mapping) else None,
                expires_at=due,
            )
        else:
            conditions = step_conditions(config, step_conditions_path(execution.position))
            registration = messages.wait_registration(
                topology,
                registration_id=token,
                kind=lifecycle_pb2.WAIT_KIND_UNTIL,
                org_id=execution.org_id,
                execution_id=execution.id,
                contact_id=execution.contact_id,
                conditions=conditions,
                expires_at=due,
            )
        await log_control(unit, action, StepStatus.WAITING, {"until": due.isoformat()})
        unit.outbox.emit(registration)
        await state.wait_on_timer(unit, action, kind, "wait_timeout", due, token=token)
        return False
