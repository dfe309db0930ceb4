"""Where an execution is in a workflow, and where it goes next.

A position is a string, stored in the execution row and in idempotency keys, and stable across
restarts because versions are immutable. It lists the index of the step in its list, and for
nested steps the branch that leads there:

- ``"3"``: top-level action 3;
- ``"3.timeout.0"``: action 0 of branch ``timeout`` of action 3;
- ``"5.body#2.0"``: action 0 of the body of loop 5, in iteration 2 (iterations count from 0).

Branch names are escaped (``%`` → ``%25``, ``.`` → ``%2E``, ``#`` → ``%23``), so any switch
or split branch name is safe. The executor walks a workflow with :func:`first`,
:func:`enter_branch` (when a branching step picks a branch) and :func:`next_after` (when a step
is done). When a branch's list ends the flow continues after the branching step; when a loop's
body ends, :func:`next_after` returns the loop step itself so the executor can run the next
iteration (``enter_branch(wf, loop_pos, "body", iteration + 1)``) or move past it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from beez.api.workflow.v1.workflow_pb2 import Action, Branch, Workflow
from beez.workflow.catalog import LOOP_DEFAULT_MAX_ITEMS, LOOP_MAX_TIMES

__all__ = [
    "Position",
    "PositionError",
    "action_at",
    "enter_branch",
    "first",
    "loop_items",
    "loop_iteration",
    "next_after",
    "parent",
    "path_of",
    "positions",
    "random_split_choice",
    "step_key",
]

Position = str
"""A step's place in a workflow, e.g. ``"3.timeout.0"``."""

_Hop = tuple[str, int | None, int]
"""One level below the top: (branch name, loop iteration or None, index in the branch)."""


class PositionError(ValueError):
    """A position that is malformed or does not exist in the workflow."""


def _escape(name: str) -> str:
    return name.replace("%", "%25").replace(".", "%2E").replace("#", "%23")


def _unescape(text: str) -> str:
    return text.replace("%23", "#").replace("%2E", ".").replace("%25", "%")


def _index(text: str, pos: str) -> int:
    if not text.isdigit():
        raise PositionError(f"malformed position {pos!r}")
    return int(text)


def _parse(pos: Position) -> tuple[int, list[_Hop]]:
    parts = pos.split(".")
    if len(parts) % 2 == 0:
        raise PositionError(f"malformed position {pos!r}")
    top = _index(parts[0], pos)
    hops: list[_Hop] = []
    for branch_part, index_part in zip(parts[1::2], parts[2::2], strict=True):
        name, _, iteration = branch_part.partition("#")
        if not name:
            raise PositionError(f"malformed position {pos!r}")
        hops.append((_unescape(name), _index(iteration, pos) if iteration else None, _index(index_part, pos)))
    return top, hops


def _format(top: int, hops: Sequence[_Hop]) -> Position:
    text = str(top)
    for name, iteration, index in hops:
        text += f".{_escape(name)}" + (f"#{iteration}" if iteration is not None else "") + f".{index}"
    return text


def _branch(action: Action, name: str) -> Branch | None:
    for branch in action.branches:
        if branch.name == name:
            return branch
    return None


def _resolve(workflow: Workflow, pos: Position) -> tuple[Action, Sequence[Action]]:
    """The action at ``pos`` and the list it belongs to."""
    top, hops = _parse(pos)
    actions: Sequence[Action] = workflow.actions
    index = top
    for name, _, next_index in hops:
        if index >= len(actions):
            raise PositionError(f"no step at {pos!r}")
        branch = _branch(actions[index], name)
        if branch is None:
            raise PositionError(f"no branch {name!r} at {pos!r}")
        actions, index = branch.actions, next_index
    if index >= len(actions):
        raise PositionError(f"no step at {pos!r}")
    return actions[index], actions


def first(workflow: Workflow) -> Position | None:
    """The first step, or None for a workflow without actions."""
    return "0" if len(workflow.actions) else None


def action_at(workflow: Workflow, pos: Position) -> Action:
    """The action at ``pos``.

    Raises:
        PositionError: when ``pos`` is malformed or names no step of this workflow.
    """
    return _resolve(workflow, pos)[0]


def enter_branch(
    workflow: Workflow,
    pos: Position,
    branch_name: str,
    iteration: int | None = None,
) -> Position | None:
    """The first step of branch ``branch_name`` of the step at ``pos``.

    Returns None when the step has no such branch or the branch is empty; the executor then
    goes on with ``next_after(workflow, pos)``. A loop's body carries the ``iteration``
    (0 when not given); other branches take none.

    Raises:
        PositionError: for a bad ``pos``, or an iteration on a branch that is not a loop body.
    """
    action = action_at(workflow, pos)
    if action.type == "loop":
        iteration = 0 if iteration is None else iteration
        if iteration < 0:
            raise PositionError("a loop iteration cannot be negative")
    elif iteration is not None:
        raise PositionError(f"only a loop's body has iterations, not {action.type!r}")
    branch = _branch(action, branch_name)
    if branch is None or not len(branch.actions):
        return None
    top, hops = _parse(pos)
    return _format(top, [*hops, (branch_name, iteration, 0)])


def next_after(workflow: Workflow, pos: Position) -> Position | None:
    """The step after the one at ``pos`` is done (not entering its branches).

    That is the next step of the same list; at the end of a branch, the step after the
    branching step (recursively); at the end of a loop's body, the loop step itself; None at
    the end of the workflow.

    Raises:
        PositionError: when ``pos`` names no step of this workflow.
    """
    _, actions = _resolve(workflow, pos)
    top, hops = _parse(pos)
    if not hops:
        return str(top + 1) if top + 1 < len(actions) else None
    name, iteration, index = hops[-1]
    if index + 1 < len(actions):
        return _format(top, [*hops[:-1], (name, iteration, index + 1)])
    parent = _format(top, hops[:-1])
    if action_at(workflow, parent).type == "loop":
        return parent
    return next_after(workflow, parent)


def parent(pos: Position) -> tuple[Position, str] | None:
    """The branching step ``pos`` is in and the name of the branch, or None at the top level."""
    top, hops = _parse(pos)
    if not hops:
        return None
    return _format(top, hops[:-1]), hops[-1][0]


def loop_iteration(pos: Position) -> int | None:
    """The iteration of the innermost loop body ``pos`` is in, or None outside loops."""
    _, hops = _parse(pos)
    for _, iteration, _ in reversed(hops):
        if iteration is not None:
            return iteration
    return None


def loop_items(config: Mapping[str, Any], ctx: Mapping[str, Any]) -> list[Any]:
    """What a ``loop`` step iterates over, fixed when the loop starts.

    ``{times: N}`` gives ``[0, 1, ..., N-1]``; ``{over: "event.data.items", max_items: M}``
    gives the list found at that path of the context (nothing when it is missing or not a
    list), cut to ``max_items`` (default 100). Never more than 1000 items. The executor should
    store the result with the execution, so a resumed loop sees the same items.
    """
    over = config.get("over")
    if isinstance(over, str):
        found: Any = ctx
        for part in over.split("."):
            found = found.get(part) if isinstance(found, Mapping) else None
        limit = config.get("max_items", LOOP_DEFAULT_MAX_ITEMS)
        limit = min(int(limit), LOOP_MAX_TIMES) if isinstance(limit, int | float) else LOOP_DEFAULT_MAX_ITEMS
        return list(found[:limit]) if isinstance(found, list) else []
    times = config.get("times", 0)
    count = min(int(times), LOOP_MAX_TIMES) if isinstance(times, int | float) else 0
    return list(range(max(0, count)))


def step_key(pos: Position) -> Position:
    """``pos`` without loop iterations: the same for every visit of a step (for per-step stats)."""
    top, hops = _parse(pos)
    return _format(top, [(name, None, index) for name, _, index in hops])


def path_of(pos: Position) -> str:
    """The human path of a position: ``actions[3].branches[timeout].actions[0]``."""
    top, hops = _parse(pos)
    text = f"actions[{top}]"
    for name, _, index in hops:
        text += f".branches[{name}].actions[{index}]"
    return text


def positions(workflow: Workflow) -> Iterator[tuple[Position, Action]]:
    """Every step with its position (without iterations), depth first in document order."""

    def walk(
        actions: Sequence[Action], top: int | None, hops: list[_Hop], branch: str
    ) -> Iterator[tuple[Position, Action]]:
        for index, action in enumerate(actions):
            here_top, here_hops = (index, []) if top is None else (top, [*hops, (branch, None, index)])
            yield _format(here_top, here_hops), action
            for child in action.branches:
                yield from walk(child.actions, here_top, here_hops, child.name)

    yield from walk(workflow.actions, None, [], "")


def random_split_choice(branches: Sequence[Branch], key: str) -> str:
    """The branch a ``random_split`` sends ``key`` down, with chances proportional to weights.

    The choice is a pure function of ``key`` and the branches (SHA-256 of the key), so the same
    contact always takes the same path. Use a key naming the split and the contact, e.g.
    ``f"{automation_id}:{step_id}:{contact_id}"``, so different splits are independent.

    Raises:
        ValueError: when no branch has a positive weight.
    """
    weighted = [(branch.name, branch.weight) for branch in branches if branch.weight > 0]
    total = sum(weight for _, weight in weighted)
    if total <= 0:
        raise ValueError("a random split needs a branch with a positive weight")
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    point = (int.from_bytes(digest[:8], "big") * total) >> 64
    for name, weight in weighted:
        if point < weight:
            return name
        point -= weight
    raise AssertionError("unreachable: point < total")  # pragma: no cover
