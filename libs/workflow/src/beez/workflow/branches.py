"""Which branch a branching step takes: condition, switch, wait outcomes, random split, goals.

The executor's engine and the automation service's dry run both call these, so a workflow
takes the same path in a real run and in a preview. Conditions are compiled strictly: a list
that does not parse or compile raises :class:`~beez.workflow.errors.ConditionError` (the step
fails with a configuration error) rather than counting as "does not hold".

- ``condition``: branch ``yes`` when ``config.conditions`` hold, else ``no``.
- ``switch``: the first branch (other than ``default``) whose conditions hold, else
  ``default`` (even when the step has no such branch: the flow then moves past it).
- ``wait_for_event`` / ``wait_until``: the branch an arrival takes (:data:`ARRIVED`: ``event``,
  ``met``) or :data:`TIMEOUT`; a ``wait_until`` whose conditions already hold when it is
  reached takes ``met`` at once and waits for nothing.
- ``random_split``: a stable choice keyed by :func:`split_key`.
- a goal written as ``{conditions}`` only is checked before every step (:func:`goal_reached`);
  a goal with an ``event`` is the trigger service's to report.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from beez.api.workflow.v1.workflow_pb2 import Action, Condition, Workflow
from beez.workflow import catalog
from beez.workflow.conditions import CompiledCondition, compile_conditions
from beez.workflow.errors import ConditionError
from beez.workflow.intervals import add_interval
from beez.workflow.model import conditions_from_json
from beez.workflow.navigation import parent, path_of, random_split_choice
from beez.workflow.waits import TIMEOUT, WaitKind

__all__ = [
    "ARRIVED",
    "DEFAULT",
    "TIMEOUT",
    "WAIT_BRANCHES",
    "WAIT_KINDS",
    "compile_step_conditions",
    "condition_branch",
    "failed_step",
    "goal_conditions",
    "goal_reached",
    "recovers",
    "retry_refusal",
    "split_branch",
    "split_key",
    "step_conditions",
    "step_conditions_path",
    "switch_branch",
    "wait_timeout_due",
]

DEFAULT = "default"
"""The switch branch taken when no other branch's conditions hold."""

WAIT_KINDS: dict[str, WaitKind] = {"wait_for_event": WaitKind.EVENT, "wait_until": WaitKind.UNTIL}
"""The wait kind (as stored with a waiting execution) of each waiting step type."""

ARRIVED: dict[str, str] = {WaitKind.EVENT: "event", WaitKind.UNTIL: "met"}
"""The branch a wait kind takes when what it waits for arrives (its SIGNAL job,
:data:`~beez.workflow.waits.SIGNALS`); :data:`~beez.workflow.waits.TIMEOUT` is the branch when its
time runs out first."""

WAIT_BRANCHES: dict[str, tuple[str, ...]] = {
    type_: (ARRIVED[kind], TIMEOUT) for type_, kind in WAIT_KINDS.items()
}
"""Every outcome of each waiting type: ``wait_for_event`` event/timeout, ``wait_until`` met/timeout."""


def step_conditions_path(position: str) -> str:
    """The API path of the ``config.conditions`` of the step at ``position`` (for issues)."""
    return f"{path_of(position)}.config.conditions"


def step_conditions(config: Mapping[str, Any], path: str) -> list[Condition]:
    """A step's ``config.conditions`` as protos (a missing or non-list value is an empty list).

    Raises:
        ConditionError: with the issues of conditions that do not parse, under ``path``.
    """
    raw = config.get("conditions")
    conditions, issues = conditions_from_json(raw if isinstance(raw, list) else [], path)
    if issues:
        raise ConditionError(issues)
    return conditions


def compile_step_conditions(config: Mapping[str, Any], path: str) -> CompiledCondition:
    """A ``condition`` or ``wait_until`` step's ``config.conditions``, compiled.

    The caller may cache the result per workflow version and ``path``: a version never changes.

    Raises:
        ConditionError: the conditions do not parse or do not compile.
    """
    return compile_conditions(step_conditions(config, path), path)


def recovers(action: Action) -> bool:
    """Whether the step carries a ``failed`` branch: its failure runs the branch instead of failing
    the execution (decision 0047). An empty branch means: carry on after the step."""
    entry = catalog.action_type(action.type)
    return (
        entry is not None
        and entry.recoverable
        and any(branch.name == catalog.FAILED_BRANCH for branch in action.branches)
    )


def failed_step(position: str) -> str | None:
    """The position of the step whose ``failed`` branch directly holds ``position``, or None."""
    found = parent(position)
    return found[0] if found is not None and found[1] == catalog.FAILED_BRANCH else None


def retry_refusal(config: Mapping[str, Any], done: int) -> str | None:
    """Why a ``retry_failed_action`` step that already re-ran its step ``done`` times does not run
    it again (its ``times`` are spent), or None when it does."""
    times = config.get("times", 1)
    times = int(times) if isinstance(times, int | float) and not isinstance(times, bool) else 1
    if done < times:
        return None
    return f"the step was run again {times} time{'s' if times != 1 else ''} already"


def condition_branch(held: bool) -> str:
    """The branch of a ``condition`` step: ``yes`` when its conditions held, else ``no``."""
    return "yes" if held else "no"


def switch_branch(action: Action, ctx: Mapping[str, Any], now: datetime, position: str) -> str:
    """The branch a ``switch`` step at ``position`` takes in ``ctx``.

    Raises:
        ConditionError: a branch's conditions (tried in order) do not compile.
    """
    at = path_of(position)
    for index, branch in enumerate(action.branches):
        if branch.name == DEFAULT:
            continue
        compiled = compile_conditions(branch.conditions, f"{at}.branches[{index}].conditions")
        if compiled.evaluate(ctx, now):
            return str(branch.name)
    return DEFAULT


def split_key(automation_id: str, step_id: str, contact_id: str) -> str:
    """The key a ``random_split`` choice is a function of: one per automation, step and contact."""
    return f"{automation_id}:{step_id}:{contact_id}"


def split_branch(action: Action, automation_id: str, contact_id: str) -> str:
    """The branch a ``random_split`` step sends this contact down (stable across runs).

    Raises:
        ValueError: no branch has a positive weight.
    """
    return random_split_choice(action.branches, split_key(automation_id, action.id, contact_id))


def wait_timeout_due(config: Mapping[str, Any], now: datetime) -> datetime:
    """When a ``wait_for_event`` or ``wait_until`` reached at ``now`` times out, as UTC.

    Raises:
        ValueError: ``config.timeout`` is missing or not a valid interval.
    """
    timeout = config.get("timeout")
    if not isinstance(timeout, Mapping):
        raise ValueError("timeout is required")
    return add_interval(now, timeout).astimezone(UTC)


def goal_conditions(workflow: Workflow) -> CompiledCondition | None:
    """A goal written as ``{conditions}`` only, compiled; None for other goals, no goal, or goal
    conditions that do not compile (they never hold).

    Cheap to call before every step: compiled conditions are cached by content, and the context
    is only needed when this is not None.
    """
    if not workflow.HasField("goal") or workflow.goal.event or not len(workflow.goal.conditions):
        return None
    try:
        return compile_conditions(workflow.goal.conditions, "goal.conditions")
    except ConditionError:
        return None


def goal_reached(workflow: Workflow, ctx: Mapping[str, Any], now: datetime) -> bool:
    """Whether the workflow's ``{conditions}`` goal holds in ``ctx`` (see :func:`goal_conditions`)."""
    compiled = goal_conditions(workflow)
    return compiled is not None and compiled.evaluate(ctx, now)
