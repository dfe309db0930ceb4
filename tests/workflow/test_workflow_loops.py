"""What each visit of a loop step does to its state and to the loop variables."""

from __future__ import annotations

from typing import Any

from beez.workflow.loops import LOOP_VARS, loop_turn

CTX: dict[str, Any] = {"event": {"data": {"items": [{"sku": "a"}, {"sku": "b"}]}}, "contact": {}, "vars": {}}


def test_a_loop_over_items_sets_item_and_index_then_restores_the_outer_values() -> None:
    outer = {"item": "outer", "other": 1}
    first = loop_turn(None, {"over": "event.data.items"}, CTX, outer, has_body=True)
    assert (first.iterations, first.iteration) == (2, 0)
    assert first.vars == {"item": {"sku": "a"}, "loop_index": 0, "other": 1}
    assert first.state == {"items": [{"sku": "a"}, {"sku": "b"}], "index": 0, "saved": {"item": "outer"}}

    second = loop_turn(first.state, {}, CTX, {**first.vars, "other": 2}, has_body=True)
    assert (second.iterations, second.iteration) == (None, 1)
    assert second.vars == {"item": {"sku": "b"}, "loop_index": 1, "other": 2}

    done = loop_turn(second.state, {}, CTX, second.vars, has_body=True)
    assert (done.state, done.iteration, done.iterations) == (None, None, None)
    assert done.vars == {"item": "outer", "other": 2}


def test_loop_variables_without_outer_values_are_removed_at_the_end() -> None:
    turn = loop_turn(None, {"times": 1}, CTX, {}, has_body=True)
    assert turn.vars == {"item": 0, "loop_index": 0}
    done = loop_turn(turn.state, {}, CTX, turn.vars, has_body=True)
    assert done.vars == {}
    assert LOOP_VARS == ("item", "loop_index")


def test_no_items_or_an_empty_body_moves_past_without_state() -> None:
    empty = loop_turn(None, {"over": "event.data.missing"}, CTX, {"x": 1}, has_body=True)
    assert (empty.state, empty.iteration, empty.iterations, empty.vars) == (None, None, 0, {"x": 1})
    bodiless = loop_turn(None, {"times": 3}, CTX, {}, has_body=False)
    assert (bodiless.state, bodiless.iteration, bodiless.iterations) == (None, None, 3)


def test_whole_float_items_are_stored_as_ints() -> None:
    turn = loop_turn(None, {"over": "vars.values"}, {"vars": {"values": [1.0, 2.5]}}, {}, has_body=True)
    assert turn.state is not None and turn.state["items"] == [1, 2.5]
    assert type(turn.vars["item"]) is int
