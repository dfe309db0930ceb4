"""Control steps on the in-memory store: branches, loops, splits, waits, stop and goals."""

from __future__ import annotations

from datetime import UTC, timedelta

from beez.api.messages.v1 import jobs_pb2, lifecycle_pb2
from beez.api.workflow.v1 import workflow_pb2
from beez.workflow.navigation import random_split_choice
from beez.workflow.status import ExecutionStatus, StepStatus
from tests.executor.samples import ADA, event_json
from tests.executor.unit.harness import Harness, record

WAIT_KIND_EVENT = lifecycle_pb2.WAIT_KIND_EVENT
WAIT_KIND_UNTIL = lifecycle_pb2.WAIT_KIND_UNTIL
WAIT_KIND_GOAL = lifecycle_pb2.WAIT_KIND_GOAL

VIP = {
    "actions": [
        {
            "id": "vip",
            "type": "condition",
            "config": {"conditions": [{"field": "contact.score", "operator": "greater_than", "value": 80}]},
            "branches": [
                {"name": "yes", "actions": [record("vip_gift")]},
                {"name": "no", "actions": [record("regular_note")]},
            ],
        },
        record("after"),
    ]
}


async def test_condition_takes_the_no_branch(harness: Harness) -> None:
    execution_id = await harness.start(VIP)
    assert harness.step_ids(execution_id) == ["vip", "regular_note", "after"]
    assert harness.store.steps_of(execution_id)[0].result == {"branch": "no"}


async def test_condition_takes_the_yes_branch(harness: Harness) -> None:
    execution_id = await harness.start(VIP, contact={**ADA, "score": 95})
    assert harness.step_ids(execution_id) == ["vip", "vip_gift", "after"]
    rows = harness.store.steps_of(execution_id)
    assert rows[0].result == {"branch": "yes"}
    assert rows[1].path == "actions[0].branches[yes].actions[0]"


async def test_a_condition_that_cannot_parse_fails_the_execution(harness: Harness) -> None:
    execution_id = await harness.start(
        {
            "actions": [
                {
                    "id": "bad",
                    "type": "condition",
                    "config": {"conditions": [{"field": "contact.score", "operator": "no_such_operator"}]},
                    "branches": [{"name": "yes", "actions": [record("never")]}],
                }
            ]
        }
    )
    execution = harness.execution(execution_id)
    assert execution.status == ExecutionStatus.FAILED and execution.error_category == "configuration"
    assert harness.steps(execution_id) == [("bad", StepStatus.FAILED)]


SWITCH = {
    "actions": [
        {
            "id": "plan",
            "type": "switch",
            "branches": [
                {
                    "name": "pro",
                    "conditions": [{"field": "contact.fields.plan", "operator": "equals", "value": "pro"}],
                    "actions": [record("pro_path")],
                },
                {
                    "name": "big",
                    "conditions": [{"field": "contact.score", "operator": "greater_than", "value": 1}],
                    "actions": [record("big_path")],
                },
                {"name": "default", "actions": [record("default_path")]},
            ],
        }
    ]
}


async def test_switch_takes_the_first_matching_branch(harness: Harness) -> None:
    execution_id = await harness.start(SWITCH)
    assert harness.step_ids(execution_id) == ["plan", "pro_path"]
    other = await harness.start(SWITCH, contact={**ADA, "id": "c_2", "fields": {"plan": "free"}})
    assert harness.step_ids(other) == ["plan", "big_path"]


async def test_switch_falls_back_to_default(harness: Harness) -> None:
    execution_id = await harness.start(SWITCH, contact={**ADA, "score": 0, "fields": {"plan": "free"}})
    assert harness.step_ids(execution_id) == ["plan", "default_path"]
    assert harness.store.steps_of(execution_id)[0].result == {"branch": "default"}


async def test_loop_over_items_sets_item_and_loop_index_then_restores_them(harness: Harness) -> None:
    execution_id = await harness.start(
        {
            "actions": [
                {"id": "outer", "type": "set_variable", "config": {"name": "item", "value": "mine"}},
                {
                    "id": "each",
                    "type": "loop",
                    "config": {"over": "event.data.items"},
                    "branches": [
                        {
                            "name": "body",
                            "actions": [record("line", sku="{{ vars.item.sku }}", n="{{ vars.loop_index }}")],
                        }
                    ],
                },
                record("after", item="{{ vars.item }}"),
            ]
        },
        data={"items": [{"sku": "A1"}, {"sku": "B2"}, {"sku": "C3"}]},
    )
    assert harness.step_ids(execution_id) == ["outer", "each", "line", "line", "line", "after"]
    assert harness.store.steps_of(execution_id)[1].result == {"iterations": 3}
    lines = harness.provider.calls_of(execution_id, "line")
    assert [(call.config["sku"], call.config["n"]) for call in lines] == [
        ("A1", "0"),
        ("B2", "1"),
        ("C3", "2"),
    ]
    [after] = harness.provider.calls_of(execution_id, "after")
    assert after.config["item"] == "mine"
    execution = harness.execution(execution_id)
    assert execution.loops == {} and "loop_index" not in execution.vars


async def test_loop_times_counts_with_the_index(harness: Harness) -> None:
    execution_id = await harness.start(
        {
            "actions": [
                {
                    "id": "thrice",
                    "type": "loop",
                    "config": {"times": 3},
                    "branches": [{"name": "body", "actions": [record("each", n="{{ vars.item }}")]}],
                }
            ]
        }
    )
    assert [call.config["n"] for call in harness.provider.calls_of(execution_id)] == ["0", "1", "2"]


async def test_random_split_sends_a_contact_down_the_same_branch_every_time(harness: Harness) -> None:
    workflow = {
        "actions": [
            {
                "id": "ab",
                "type": "random_split",
                "branches": [
                    {"name": "a", "weight": 50, "actions": [record("path_a")]},
                    {"name": "b", "weight": 50, "actions": [record("path_b")]},
                ],
            }
        ]
    }
    branches = [workflow_pb2.Branch(name="a", weight=50), workflow_pb2.Branch(name="b", weight=50)]
    chosen = []
    for n in range(6):
        execution_id = await harness.start(workflow, contact={**ADA, "id": f"c_{n % 3}"})
        branch = harness.store.steps_of(execution_id)[0].result["branch"]
        assert branch == random_split_choice(branches, f"auto_1:ab:c_{n % 3}")
        assert harness.step_ids(execution_id) == ["ab", f"path_{branch}"]
        chosen.append(branch)
    assert chosen[:3] == chosen[3:]


async def test_wait_step_waits_for_its_interval(harness: Harness) -> None:
    execution_id = await harness.start(
        {
            "actions": [
                {"id": "pause", "type": "wait", "config": {"value": 1, "unit": "hours"}},
                record("after"),
            ]
        }
    )
    assert harness.steps(execution_id) == [("pause", StepStatus.WAITING)]
    await harness.advance(minutes=59)
    assert harness.execution(execution_id).status == ExecutionStatus.WAITING
    await harness.advance(minutes=1)
    assert harness.steps(execution_id) == [("pause", StepStatus.SUCCEEDED), ("after", StepStatus.SUCCEEDED)]


async def test_wait_until_a_time_of_day_uses_the_contacts_time_zone(harness: Harness) -> None:
    execution_id = await harness.start(
        {"actions": [{"id": "morning", "type": "wait", "config": {"until": "09:00"}}, record("after")]}
    )
    [timer] = harness.store.timers_of(execution_id)
    assert timer["kind"] == "until"
    assert (timer["due_at"].astimezone(UTC).hour, timer["due_at"].minute) == (8, 0)  # 09:00 in Lagos


WAIT_FOR_CLICK = {
    "actions": [
        {
            "id": "click",
            "type": "wait_for_event",
            "config": {
                "event": "link.clicked",
                "filters": {"link": "onboarding"},
                "timeout": {"value": 24, "unit": "hours"},
            },
            "branches": [
                {
                    "name": "event",
                    "actions": [record("engaged", text="clicked {{ vars.last_event.data.link }}")],
                },
                {"name": "timeout", "actions": [record("reminder")]},
            ],
        },
        record("after"),
    ]
}


async def test_wait_for_event_takes_the_event_branch_on_its_signal(harness: Harness) -> None:
    execution_id = await harness.start(WAIT_FOR_CLICK)
    assert harness.execution(execution_id).status == ExecutionStatus.WAITING
    registration = harness.registration(execution_id, WAIT_KIND_EVENT)
    assert registration.event_type == "link.clicked" and dict(registration.filters) == {"link": "onboarding"}
    assert registration.expires_at.ToDatetime(tzinfo=UTC) == harness.clock.now() + timedelta(hours=24)

    await harness.signal(
        execution_id,
        registration.id,
        jobs_pb2.JOB_SIGNAL_EVENT,
        event_json("link.clicked", {"link": "onboarding"}),
    )
    assert harness.step_ids(execution_id) == ["click", "engaged", "after"]
    assert harness.store.steps_of(execution_id)[0].result["branch"] == "event"
    [engaged] = harness.provider.calls_of(execution_id, "engaged")
    assert engaged.config["text"] == "clicked onboarding"
    assert harness.store.timers_of(execution_id) == []


async def test_wait_for_event_times_out_into_the_timeout_branch(harness: Harness) -> None:
    execution_id = await harness.start(WAIT_FOR_CLICK)
    registration = harness.registration(execution_id, WAIT_KIND_EVENT)
    await harness.advance(hours=24)
    assert harness.step_ids(execution_id) == ["click", "reminder", "after"]
    assert harness.store.steps_of(execution_id)[0].result["branch"] == "timeout"
    assert [r.id for r in harness.registrations(execution_id) if r.cancel] == [registration.id]

    # the event arriving late is stale and changes nothing
    await harness.signal(execution_id, registration.id, jobs_pb2.JOB_SIGNAL_EVENT, event_json("link.clicked"))
    assert harness.step_ids(execution_id) == ["click", "reminder", "after"]


async def test_an_event_with_a_contact_refreshes_the_snapshot_keeping_assignments(harness: Harness) -> None:
    execution_id = await harness.start(
        {
            "actions": [
                {"id": "assign", "type": "assign_user", "config": {"user_id": "u_1"}},
                *WAIT_FOR_CLICK["actions"],
            ]
        }
    )
    registration = harness.registration(execution_id, WAIT_KIND_EVENT)
    fresh = {**ADA, "firstName": "Adaeze", "tags": ["customer"]}
    await harness.signal(
        execution_id, registration.id, jobs_pb2.JOB_SIGNAL_EVENT, event_json("link.clicked", contact=fresh)
    )
    contact = harness.execution(execution_id).contact
    assert contact["first_name"] == "Adaeze" and contact["tags"] == ["customer"]
    assert contact["assigned_user"] == "u_1"


WAIT_UNTIL_VIP = {
    "actions": [
        {
            "id": "until_vip",
            "type": "wait_until",
            "config": {
                "conditions": [{"field": "contact.tags", "operator": "contains", "value": "vip"}],
                "timeout": {"value": 2, "unit": "days"},
            },
            "branches": [
                {"name": "met", "actions": [record("welcome_vip")]},
                {"name": "timeout", "actions": [record("gave_up")]},
            ],
        }
    ]
}


async def test_wait_until_takes_the_met_branch_on_signal(harness: Harness) -> None:
    execution_id = await harness.start(WAIT_UNTIL_VIP)
    registration = harness.registration(execution_id, WAIT_KIND_UNTIL)
    assert registration.conditions[0].field == "contact.tags"
    await harness.signal(
        execution_id,
        registration.id,
        jobs_pb2.JOB_SIGNAL_MET,
        event_json("tag.added", contact={**ADA, "tags": ["vip"]}),
    )
    assert harness.step_ids(execution_id) == ["until_vip", "welcome_vip"]
    assert harness.store.steps_of(execution_id)[0].result["branch"] == "met"


async def test_wait_until_times_out(harness: Harness) -> None:
    execution_id = await harness.start(WAIT_UNTIL_VIP)
    await harness.advance(days=2)
    assert harness.step_ids(execution_id) == ["until_vip", "gave_up"]


async def test_wait_until_already_met_goes_on_at_once(harness: Harness) -> None:
    execution_id = await harness.start(WAIT_UNTIL_VIP, contact={**ADA, "tags": ["vip"]})
    assert harness.step_ids(execution_id) == ["until_vip", "welcome_vip"]
    assert harness.registrations(execution_id) == []


async def test_stop_ends_the_execution_with_its_reason(harness: Harness) -> None:
    execution_id = await harness.start(
        {"actions": [{"id": "halt", "type": "stop", "config": {"reason": "enough"}}, record("never")]}
    )
    execution = harness.execution(execution_id)
    assert execution.status == ExecutionStatus.COMPLETED and execution.end_reason == "stopped: enough"
    assert harness.step_ids(execution_id) == ["halt"]


async def test_reaching_the_goal_during_a_delay_ends_converted_and_skips_the_rest(harness: Harness) -> None:
    execution_id = await harness.start(
        {
            "goal": {"event": "purchase.made"},
            "actions": [
                record("first"),
                {"id": "pause", "type": "wait", "config": {"value": 1, "unit": "days"}},
                record("never"),
            ],
        }
    )
    goal = harness.registration(execution_id, WAIT_KIND_GOAL)
    assert goal.event_type == "purchase.made"
    await harness.signal(execution_id, goal.id, jobs_pb2.JOB_SIGNAL_GOAL, event_json("purchase.made"))
    execution = harness.execution(execution_id)
    assert execution.status == ExecutionStatus.COMPLETED and execution.converted
    assert execution.end_reason == "goal reached" and execution.vars["last_event"]["type"] == "purchase.made"
    assert harness.steps(execution_id) == [("first", StepStatus.SUCCEEDED), ("pause", StepStatus.SKIPPED)]
    assert harness.store.timers_of(execution_id) == []
    assert harness.lifecycle(execution_id)[-1].converted


async def test_a_goal_of_conditions_is_checked_before_each_step(harness: Harness) -> None:
    execution_id = await harness.start(
        {
            "goal": {"conditions": [{"field": "contact.tags", "operator": "contains", "value": "customer"}]},
            "actions": [
                record("first"),
                {"id": "tag", "type": "add_tag", "config": {"tag": "customer"}},
                record("never"),
            ],
        }
    )
    execution = harness.execution(execution_id)
    assert execution.converted and execution.end_reason == "goal reached"
    assert harness.step_ids(execution_id) == ["first", "tag"]
