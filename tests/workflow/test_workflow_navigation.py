"""How the executor walks a workflow: positions, branches, loops, and stable random splits."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from beez.api.workflow.v1.workflow_pb2 import Branch, Workflow
from beez.workflow.model import struct_to_dict, workflow_from_json
from beez.workflow.navigation import (
    PositionError,
    action_at,
    enter_branch,
    first,
    loop_items,
    loop_iteration,
    next_after,
    path_of,
    positions,
    random_split_choice,
    step_key,
)


def tag(name: str) -> dict[str, Any]:
    return {"type": "add_tag", "config": {"tag": name}}


def run(workflow: Workflow, choose: dict[str, str]) -> list[str]:
    """Walks like the executor: branching steps take the branch ``choose`` names for their tag."""
    visited: list[str] = []
    pos = first(workflow)
    iterations: dict[str, int] = {}
    while pos is not None:
        action = action_at(workflow, pos)
        visited.append(pos)
        if action.type == "loop":
            done = iterations.get(pos, 0)
            times = int(struct_to_dict(action.config)["times"])
            iterations[pos] = done + 1
            if done < times:
                pos = enter_branch(workflow, pos, "body", done) or next_after(workflow, pos)
                continue
            del iterations[pos]
        elif action.branches or action.type in ("condition", "wait_for_event"):
            name = choose[action.id]
            pos = enter_branch(workflow, pos, name) or next_after(workflow, pos)
            continue
        pos = next_after(workflow, pos)
    return visited


def test_onboarding_event_branch(onboarding: Workflow) -> None:
    onboarding.actions[3].id = "wait_click"
    assert run(onboarding, {"wait_click": "event"}) == ["0", "1", "2", "3", "3.event.0", "3.event.1"]


def test_onboarding_timeout_branch(onboarding: Workflow) -> None:
    onboarding.actions[3].id = "wait_click"
    assert run(onboarding, {"wait_click": "timeout"}) == [
        "0",
        "1",
        "2",
        "3",
        "3.timeout.0",
        "3.timeout.1",
        "3.timeout.2",
    ]
    assert action_at(onboarding, "3.timeout.2").type == "create_task"
    assert path_of("3.timeout.2") == "actions[3].branches[timeout].actions[2]"


def test_after_a_branch_ends_the_flow_continues_after_the_branching_step() -> None:
    workflow = workflow_from_json(
        {
            "actions": [
                {
                    "id": "outer",
                    "type": "condition",
                    "branches": [
                        {
                            "name": "yes",
                            "actions": [
                                tag("a"),
                                {
                                    "id": "inner",
                                    "type": "condition",
                                    "branches": [{"name": "no", "actions": [tag("b"), tag("c")]}],
                                },
                            ],
                        }
                    ],
                },
                tag("after"),
            ]
        }
    )
    assert run(workflow, {"outer": "yes", "inner": "no"}) == [
        "0",
        "0.yes.0",
        "0.yes.1",
        "0.yes.1.no.0",
        "0.yes.1.no.1",
        "1",
    ]
    # a missing or empty branch: enter_branch gives None and the flow goes on after the step
    assert run(workflow, {"outer": "yes", "inner": "yes"}) == ["0", "0.yes.0", "0.yes.1", "1"]
    assert run(workflow, {"outer": "no", "inner": "no"}) == ["0", "1"]
    assert next_after(workflow, "0.yes.1.no.1") == "1"
    assert next_after(workflow, "1") is None


def test_loops_carry_their_iteration_and_return_to_the_loop_step() -> None:
    workflow = workflow_from_json(
        {
            "actions": [
                {
                    "type": "loop",
                    "config": {"times": 2},
                    "branches": [
                        {
                            "name": "body",
                            "actions": [
                                tag("a"),
                                {
                                    "type": "loop",
                                    "config": {"times": 2},
                                    "branches": [{"name": "body", "actions": [tag("b")]}],
                                },
                            ],
                        }
                    ],
                },
                tag("done"),
            ]
        }
    )
    assert run(workflow, {}) == [
        "0",
        "0.body#0.0",
        "0.body#0.1",
        "0.body#0.1.body#0.0",
        "0.body#0.1",
        "0.body#0.1.body#1.0",
        "0.body#0.1",
        "0",
        "0.body#1.0",
        "0.body#1.1",
        "0.body#1.1.body#0.0",
        "0.body#1.1",
        "0.body#1.1.body#1.0",
        "0.body#1.1",
        "0",
        "1",
    ]
    assert loop_iteration("0.body#1.1.body#0.0") == 0
    assert loop_iteration("0.body#1.1") == 1
    assert loop_iteration("3.timeout.0") is None
    assert step_key("0.body#1.1.body#0.0") == "0.body.1.body.0"
    assert path_of("0.body#1.1.body#0.0") == "actions[0].branches[body].actions[1].branches[body].actions[0]"


def test_an_empty_loop_body_is_skipped() -> None:
    workflow = workflow_from_json({"actions": [{"type": "loop", "branches": [{"name": "body"}]}, tag("x")]})
    assert enter_branch(workflow, "0", "body", 0) is None
    assert next_after(workflow, "0") == "1"


def test_iterations_belong_only_to_loops() -> None:
    workflow = workflow_from_json(
        {"actions": [{"type": "condition", "branches": [{"name": "yes", "actions": [tag("a")]}]}]}
    )
    with pytest.raises(PositionError):
        enter_branch(workflow, "0", "yes", 3)


def test_branch_names_with_separators_are_escaped() -> None:
    workflow = workflow_from_json(
        {
            "actions": [
                {"type": "switch", "branches": [{"name": "v.i.p #1 100%", "actions": [tag("a"), tag("b")]}]},
                tag("c"),
            ]
        }
    )
    pos = enter_branch(workflow, "0", "v.i.p #1 100%")
    assert pos == "0.v%2Ei%2Ep %231 100%25.0"
    assert action_at(workflow, pos).config["tag"] == "a"
    assert next_after(workflow, pos) == "0.v%2Ei%2Ep %231 100%25.1"
    assert next_after(workflow, "0.v%2Ei%2Ep %231 100%25.1") == "1"
    assert path_of(pos) == "actions[0].branches[v.i.p #1 100%].actions[0]"


@pytest.mark.parametrize("pos", ["", "x", "0.yes", "9", "0.nope.0", "0.yes.7", "-1", "0..0"])
def test_bad_positions_are_refused(onboarding: Workflow, pos: str) -> None:
    with pytest.raises(PositionError):
        action_at(onboarding, pos)


def test_first_of_an_empty_workflow_is_none() -> None:
    assert first(Workflow()) is None


def test_positions_lists_every_step(onboarding: Workflow) -> None:
    assert [pos for pos, _ in positions(onboarding)] == [
        "0",
        "1",
        "2",
        "3",
        "3.event.0",
        "3.event.1",
        "3.timeout.0",
        "3.timeout.1",
        "3.timeout.2",
    ]


def test_random_split_is_stable_per_key() -> None:
    branches = [Branch(name="a", weight=1), Branch(name="b", weight=1)]
    for contact in range(50):
        key = f"auto_1:split:c_{contact}"
        assert random_split_choice(branches, key) == random_split_choice(list(branches), key)


def test_random_split_follows_weights_roughly() -> None:
    branches = [
        Branch(name="a", weight=70),
        Branch(name="b", weight=20),
        Branch(name="c", weight=10),
        Branch(name="off", weight=0),
    ]
    counts = Counter(random_split_choice(branches, f"auto_1:split:c_{n}") for n in range(4000))
    assert set(counts) == {"a", "b", "c"}
    assert 0.66 < counts["a"] / 4000 < 0.74
    assert 0.17 < counts["b"] / 4000 < 0.23
    assert 0.08 < counts["c"] / 4000 < 0.12


def test_random_split_needs_a_positive_weight() -> None:
    with pytest.raises(ValueError, match="positive"):
        random_split_choice([Branch(name="a")], "k")


def test_loop_items_are_bounded() -> None:
    ctx = {"event": {"data": {"items": list(range(300)), "name": "x"}}}
    assert loop_items({"times": 3}, ctx) == [0, 1, 2]
    assert loop_items({"over": "event.data.items", "max_items": 5}, ctx) == [0, 1, 2, 3, 4]
    assert len(loop_items({"over": "event.data.items"}, ctx)) == 100
    assert loop_items({"over": "event.data.name"}, ctx) == []
    assert loop_items({"over": "vars.missing.list"}, ctx) == []
