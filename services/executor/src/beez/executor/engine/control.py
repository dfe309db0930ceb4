"""Control steps: condition, switch, random_split, loop, wait, wait_for_event, wait_until, stop.

They run inside the caller's transaction and touch nothing outside this database: they choose
a branch, move the position, or make the execution wait (on a timer, or on a registration with
the trigger service plus a timeout timer). Which branch a step takes is decided by the small
``choose_*`` functions, so the dry run can share them.

* Inside a ``loop`` body, ``vars.item`` is the current item (the index for ``{times}``) and
  ``vars.loop_index`` counts from 0; both are restored to their outer values when the loop
  ends. The items are fixed when the loop starts and stored with the execution.
* A goal written as ``{conditions}`` only is also checked by the engine before every step,
  against its own snapshot; one with an ``event`` is registered with the trigger service.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC
from typing import Any

from beez.api.messages.v1 import lifecycle_pb2
from beez.api.workflow.v1 import workflow_pb2
from beez.executor import messages
from beez.executor.engine import state
from beez.executor.engine.steplog import log_control, may_run, new_token
from beez.executor.engine.store import Unit
from beez.executor.engine.workflows import Workflows, step_context, time_zone
from beez.workflow import navigation
from beez.workflow.conditions import compile_conditions
from beez.workflow.errors import ConditionError
from beez.workflow.intervals import add_interval, wait_due
from beez.workflow.model import conditions_from_json, plain, struct_to_dict
from beez.workflow.status import RUNNABLE, ExecutionStatus, StepStatus
from beez.workflow.waits import WaitKind

LOOP_VARIABLES = ("item", "loop_index")


def choose_switch_branch(action: workflow_pb2.Action, at: str, context: dict[str, Any], unit: Unit) -> str:
    """The first switch branch whose conditions hold, else ``default``."""
    for index, branch in enumerate(action.branches):
        if branch.name == "default":
            continue
        compiled = compile_conditions(branch.conditions, f"{at}.branches[{index}].conditions")
        if compiled.evaluate(context, unit.now):
            return branch.name
    return "default"


def split_key(unit: Unit, action: workflow_pb2.Action) -> str:
    """What a random split hashes: one contact takes one branch of one split, every time."""
    execution = unit.execution
    return f"{execution.automation_id}:{action.id}:{execution.contact_id}"


def loop_variables(execution_vars: Mapping[str, Any], items: list[Any], index: int) -> dict[str, Any]:
    """The execution's variables in iteration ``index`` of a loop over ``items``."""
    return {**execution_vars, "item": items[index], "loop_index": index}


def goal_conditions_hold(unit: Unit) -> bool:
    """Whether a goal written as conditions only holds against the execution's snapshot."""
    workflow = unit.workflow
    if (
        workflow is None
        or not workflow.HasField("goal")
        or workflow.goal.event
        or not len(workflow.goal.conditions)
    ):
        return False
    try:
        compiled = compile_conditions(workflow.goal.conditions, "goal.conditions")
    except ConditionError:
        return False
    return compiled.evaluate(step_context(unit, None), unit.now)


class ControlSteps:
    """Runs the control step at the position of a locked execution."""

    def __init__(self, workflows: Workflows) -> None:
        self._workflows = workflows

    async def run(self, unit: Unit, action: workflow_pb2.Action) -> bool:
        """Runs the step; True when the next step may run at once."""
        execution = unit.execution
        assert execution.position is not None
        at = navigation.path_of(execution.position)
        try:
            if action.type == "condition":
                held = self._holds(unit, action, f"{at}.config.conditions")
                return await self._branch_now(unit, action, "yes" if held else "no")
            if action.type == "wait_until" and self._holds(unit, action, f"{at}.config.conditions"):
                return await self._branch_now(unit, action, "met")
            config = struct_to_dict(action.config)
            if action.type == "wait":
                due = wait_due(config, unit.now, time_zone(unit))
                await log_control(unit, action, StepStatus.WAITING, {"due_at": due.isoformat()})
                kind = "until" if isinstance(config.get("until"), str) else "delay"
                await state.wait_on_timer(unit, action, WaitKind.WAIT, kind, due)
                return False
            if action.type == "switch":
                chosen = choose_switch_branch(action, at, step_context(unit, action), unit)
                return await self._branch_now(unit, action, chosen)
            if action.type == "random_split":
                chosen = navigation.random_split_choice(action.branches, split_key(unit, action))
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
            if action.type == "wait_for_event":
                return await self._wait_for(unit, action, config, WaitKind.EVENT)
            if action.type == "wait_until":
                return await self._wait_for(unit, action, config, WaitKind.UNTIL)
        except ValueError as exc:  # bad intervals, conditions, positions: the workflow is wrong
            await state.fail(unit, action, str(exc), "configuration")
            return False
        await state.fail(unit, action, f"the engine cannot run {action.type!r}", "configuration")
        return False

    def _holds(self, unit: Unit, action: workflow_pb2.Action, path: str) -> bool:
        """Whether the step's ``config.conditions`` hold."""
        compiled = self._workflows.step_conditions(unit, action, path)
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
        if loop is None:
            items = navigation.loop_items(config, step_context(unit, action))
            await log_control(unit, action, StepStatus.SUCCEEDED, {"iterations": len(items)})
            if not items or navigation.enter_branch(workflow, position, "body", 0) is None:
                await state.move_on(unit)
                return execution.status in RUNNABLE
            saved = {name: execution.vars[name] for name in LOOP_VARIABLES if name in execution.vars}
            loop = {"items": plain(items), "index": 0, "saved": saved}
        else:
            loop = {**loop, "index": int(loop["index"]) + 1}
            if loop["index"] >= len(loop["items"]):
                loops = dict(execution.loops)
                loops.pop(position, None)
                execution.loops = loops
                restored = {k: v for k, v in execution.vars.items() if k not in LOOP_VARIABLES}
                execution.vars = {**restored, **loop.get("saved", {})}
                await state.move_on(unit)
                return execution.status in RUNNABLE
        index = int(loop["index"])
        execution.loops = {**execution.loops, position: loop}
        execution.vars = loop_variables(execution.vars, loop["items"], index)
        entered = navigation.enter_branch(workflow, position, "body", index)
        assert entered is not None
        state.go_to(unit, entered)
        return True

    async def _wait_for(
        self, unit: Unit, action: workflow_pb2.Action, config: dict[str, Any], kind: WaitKind
    ) -> bool:
        """wait_for_event (``event``) or wait_until (``until``): a registration plus a timeout."""
        execution = unit.execution
        assert execution.position is not None
        timeout = config.get("timeout")
        if not isinstance(timeout, Mapping):
            raise ValueError("timeout is required")
        due = add_interval(unit.now, timeout).astimezone(UTC)
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
            at = f"{navigation.path_of(execution.position)}.config.conditions"
            raw = config.get("conditions")
            conditions, issues = conditions_from_json(raw if isinstance(raw, list) else [], at)
            if issues:
                raise ConditionError(issues)
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
