"""What one visit of a ``loop`` step does: its items, the iteration, and the loop variables.

A loop step is visited once on entry and once more each time its body ends
(:func:`beez.workflow.navigation.next_after` returns the loop step). Each visit is a
:func:`loop_turn`:

- on entry the items are fixed (:func:`~beez.workflow.navigation.loop_items`) and stored in
  the loop's state ``{items, index, saved}``; ``saved`` keeps the outer values of the loop
  variables. With no items, or an empty body, the flow moves past the loop and no state is kept;
- each iteration sets ``vars.item`` (the item; the index for ``{times}``) and
  ``vars.loop_index`` (from 0) and enters the body at that iteration;
- after the last iteration the state is dropped, the loop variables get their outer values
  back (or are removed when they had none), and the flow moves past the loop.

The state is plain JSON, so the engine stores it with the execution and a resumed loop sees
the same items.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from beez.workflow.model import plain
from beez.workflow.navigation import loop_items

__all__ = ["LOOP_VARS", "LoopTurn", "loop_turn"]

LOOP_VARS: tuple[str, ...] = ("item", "loop_index")
"""The variables a loop sets for its body, restored when it ends."""


@dataclass(frozen=True)
class LoopTurn:
    """What one visit of a loop step decided."""

    state: dict[str, Any] | None
    """The loop's state to keep for the next visit; None: the loop is over (drop any state)."""
    vars: dict[str, Any]
    """The execution's variables after this visit."""
    iteration: int | None
    """The iteration whose body to enter; None: move past the loop."""
    iterations: int | None = None
    """On entry (the first visit), how many items the loop has; None on later visits."""


def loop_turn(
    state: Mapping[str, Any] | None,
    config: Mapping[str, Any],
    ctx: Mapping[str, Any],
    variables: Mapping[str, Any],
    *,
    has_body: bool,
) -> LoopTurn:
    """One visit of a loop step.

    ``state`` is what the previous visit kept (None on entry); ``config`` the step's raw config;
    ``ctx`` the context the items are read from (on entry); ``variables`` the execution's
    variables; ``has_body`` whether the loop's body has steps.
    """
    if state is None:
        items = loop_items(config, ctx)
        if not items or not has_body:
            return LoopTurn(None, dict(variables), None, len(items))
        saved = {name: variables[name] for name in LOOP_VARS if name in variables}
        fresh = {"items": plain(items), "index": 0, "saved": saved}
        return LoopTurn(fresh, _enter(variables, fresh), 0, len(items))
    following = {**state, "index": int(state["index"]) + 1}
    if following["index"] >= len(following["items"]):
        restored = {k: v for k, v in variables.items() if k not in LOOP_VARS}
        return LoopTurn(None, {**restored, **following.get("saved", {})}, None)
    return LoopTurn(following, _enter(variables, following), int(following["index"]))


def _enter(variables: Mapping[str, Any], state: Mapping[str, Any]) -> dict[str, Any]:
    index = int(state["index"])
    return {**variables, "item": state["items"][index], "loop_index": index}
