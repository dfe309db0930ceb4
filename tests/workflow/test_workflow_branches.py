"""Which branch a branching step takes: the rules the engine and the dry run share."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from beez.workflow.branches import (
    ARRIVED,
    TIMEOUT,
    WAIT_BRANCHES,
    WAIT_KINDS,
    compile_step_conditions,
    condition_branch,
    goal_conditions,
    goal_reached,
    split_branch,
    split_key,
    step_conditions,
    step_conditions_path,
    switch_branch,
    wait_timeout_due,
)
from beez.workflow.errors import ConditionError
from beez.workflow.model import struct_to_dict
from tests.workflow.conftest import Build

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def ctx(score: int = 42, tags: list[str] | None = None) -> dict[str, Any]:
    return {"contact": {"score": score, "tags": tags or ["lead"]}, "event": {}, "vars": {}, "execution": {}}


def score_above(value: int) -> list[dict[str, Any]]:
    return [{"field": "contact.score", "operator": "greater_than", "value": value}]


def test_condition_conditions_compile_and_choose_yes_or_no() -> None:
    compiled = compile_step_conditions({"conditions": score_above(40)}, "actions[0].config.conditions")
    assert condition_branch(compiled.evaluate(ctx(42), NOW)) == "yes"
    assert condition_branch(compiled.evaluate(ctx(10), NOW)) == "no"


def test_conditions_that_do_not_parse_or_compile_raise_instead_of_counting_as_no() -> None:
    path = step_conditions_path("2.yes.0")
    assert path == "actions[2].branches[yes].actions[0].config.conditions"
    with pytest.raises(ConditionError) as parsed:
        step_conditions({"conditions": [{"field": "contact.score", "operatr": "equals"}]}, path)
    assert all(issue.field.startswith(path) for issue in parsed.value.issues)
    with pytest.raises(ConditionError):
        compile_step_conditions({"conditions": [{"field": "contact.score", "operator": "roughly"}]}, path)


def test_missing_conditions_are_an_empty_list() -> None:
    assert step_conditions({}, "p") == []
    assert step_conditions({"conditions": "nope"}, "p") == []


def test_switch_takes_the_first_branch_that_holds_else_default_even_without_such_a_branch(
    build: Build,
) -> None:
    workflow = build(
        {
            "type": "switch",
            "branches": [
                {"name": "gold", "conditions": score_above(90), "actions": []},
                {"name": "default", "actions": []},
                {"name": "silver", "conditions": score_above(40), "actions": []},
            ],
        },
        {"type": "switch", "branches": [{"name": "never", "conditions": score_above(1000), "actions": []}]},
    )
    tiers, no_default = workflow.actions
    assert switch_branch(tiers, ctx(95), NOW, "0") == "gold"
    assert switch_branch(tiers, ctx(50), NOW, "0") == "silver"
    assert switch_branch(tiers, ctx(5), NOW, "0") == "default"
    assert switch_branch(no_default, ctx(5), NOW, "1") == "default"


def test_a_switch_branch_that_does_not_compile_raises_with_its_path(build: Build) -> None:
    workflow = build(
        {
            "type": "switch",
            "branches": [
                {"name": "a", "conditions": [{"field": "contact.score", "operator": "roughly", "value": 1}]},
                {"name": "default", "actions": []},
            ],
        }
    )
    with pytest.raises(ConditionError) as err:
        switch_branch(workflow.actions[0], ctx(), NOW, "0")
    assert "actions[0].branches[0].conditions" in str(err.value)


def test_random_split_is_keyed_by_automation_step_and_contact(build: Build) -> None:
    workflow = build(
        {
            "id": "ab",
            "type": "random_split",
            "branches": [
                {"name": "a", "weight": 1, "actions": []},
                {"name": "b", "weight": 1, "actions": []},
            ],
        }
    )
    split = workflow.actions[0]
    assert split_key("auto_1", "ab", "c_1") == "auto_1:ab:c_1"
    assert split_branch(split, "auto_parity", "c_ada") == "a"
    assert split_branch(split, "auto_parity", "c_bob") == "b"
    assert {split_branch(split, "auto_parity", f"c_{i}") for i in range(20)} == {"a", "b"}


def test_wait_branches_follow_the_wait_kinds() -> None:
    assert WAIT_KINDS == {"wait_for_event": "event", "wait_until": "until"}
    assert ARRIVED == {"event": "event", "until": "met"}
    assert WAIT_BRANCHES == {"wait_for_event": ("event", TIMEOUT), "wait_until": ("met", TIMEOUT)}


def test_wait_timeout_due_needs_a_valid_timeout() -> None:
    assert wait_timeout_due({"timeout": {"value": 24, "unit": "hours"}}, NOW) == NOW + timedelta(hours=24)
    with pytest.raises(ValueError, match="timeout is required"):
        wait_timeout_due({}, NOW)
    with pytest.raises(ValueError, match="interval unit must be one of"):
        wait_timeout_due({"timeout": {"value": 1, "unit": "fortnights"}}, NOW)


def test_goal_conditions_only_goals_are_checked(build: Build) -> None:
    vip = [{"field": "contact.tags", "operator": "has_tag", "value": "vip"}]
    by_conditions = build(goal={"conditions": vip})
    by_event = build(goal={"event": "purchase.made", "conditions": vip})
    assert goal_reached(by_conditions, ctx(tags=["vip"]), NOW)
    assert not goal_reached(by_conditions, ctx(tags=["lead"]), NOW)
    assert not goal_reached(by_event, ctx(tags=["vip"]), NOW)
    assert not goal_reached(build(), ctx(tags=["vip"]), NOW)
    assert goal_conditions(by_event) is None and goal_conditions(build()) is None
    assert goal_conditions(by_conditions) is not None


def test_goal_conditions_that_do_not_compile_never_hold(build: Build) -> None:
    broken = build(goal={"conditions": [{"field": "contact.score", "operator": "roughly", "value": 1}]})
    assert not goal_reached(broken, ctx(), NOW)


def test_step_config_read_from_the_workflow(build: Build) -> None:
    workflow = build({"type": "condition", "config": {"conditions": score_above(1)}})
    config = struct_to_dict(workflow.actions[0].config)
    assert compile_step_conditions(config, step_conditions_path("0")).evaluate(ctx(), NOW)
