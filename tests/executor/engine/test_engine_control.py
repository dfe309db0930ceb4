"""Every control type of workflow-format.md, per-action delays, quiet hours and goals."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from beez.api.executor.v1 import executor_pb2
from beez.api.messages.v1 import jobs_pb2, lifecycle_pb2
from beez.api.workflow.v1 import workflow_pb2
from beez.workflow.navigation import random_split_choice
from tests.executor.engine import fakes
from tests.executor.engine.conftest import Flow, step_ids
from tests.executor.samples import ADA, event_json


def record(step_id: str, **config: Any) -> dict[str, Any]:
    return {"id": step_id, "type": "test_record", "config": config}


async def test_wait_step_waits_for_its_interval_then_continues(flow: Flow) -> None:
    execution_id = await flow.start(
        {
            "actions": [
                {"id": "pause", "type": "wait", "config": {"value": 1, "unit": "hours"}},
                record("after"),
            ]
        }
    )
    waiting = await flow.settled(execution_id, "waiting")
    assert [(s.step_id, s.status) for s in waiting.steps] == [("pause", executor_pb2.STEP_STATUS_WAITING)]
    [work] = await flow.scheduled(execution_id)
    assert work.kind == "delay" and work.step_id == "pause"
    assert work.due_at.ToDatetime(tzinfo=UTC) == flow.clock.now() + timedelta(hours=1)

    await flow.advance(minutes=59)
    await asyncio.sleep(0.2)
    assert (await flow.get(execution_id)).status == executor_pb2.EXECUTION_STATUS_WAITING

    await flow.advance(minutes=1)
    done = await flow.settled(execution_id, "completed")
    assert [(s.step_id, s.status) for s in done.steps] == [
        ("pause", executor_pb2.STEP_STATUS_SUCCEEDED),
        ("after", executor_pb2.STEP_STATUS_SUCCEEDED),
    ]
    assert await flow.scheduled(execution_id) == []


async def test_wait_until_a_time_of_day_uses_the_contacts_time_zone(flow: Flow) -> None:
    execution_id = await flow.start(
        {"actions": [{"id": "morning", "type": "wait", "config": {"until": "09:00"}}, record("after")]}
    )
    await flow.settled(execution_id, "waiting")
    [work] = await flow.scheduled(execution_id)
    now = flow.clock.now()
    due = work.due_at.ToDatetime(tzinfo=UTC)
    assert work.kind == "until"
    assert due.hour == 8 and due.minute == 0  # 09:00 in Lagos (UTC+1)
    assert timedelta(0) < due - now <= timedelta(days=1)

    await flow.advance(seconds=(due - now).total_seconds())
    done = await flow.settled(execution_id, "completed")
    assert step_ids(done) == ["morning", "after"]


async def test_condition_takes_the_yes_or_the_no_branch(flow: Flow) -> None:
    workflow = {
        "actions": [
            {
                "id": "vip",
                "type": "condition",
                "config": {
                    "conditions": [{"field": "contact.score", "operator": "greater_than", "value": 80}]
                },
                "branches": [
                    {"name": "yes", "actions": [record("vip_gift")]},
                    {"name": "no", "actions": [record("regular_note")]},
                ],
            },
            record("after"),
        ]
    }
    low = await flow.start(workflow)
    high = await flow.start(workflow, contact={**ADA, "id": "c_high", "score": 95})

    low_done = await flow.settled(low, "completed")
    high_done = await flow.settled(high, "completed")
    assert step_ids(low_done) == ["vip", "regular_note", "after"]
    assert step_ids(high_done) == ["vip", "vip_gift", "after"]
    assert dict(high_done.steps[0].result) == {"branch": "yes"}
    assert high_done.steps[1].path == "actions[0].branches[yes].actions[0]"


async def test_condition_with_an_empty_branch_goes_on_after_it(flow: Flow) -> None:
    execution_id = await flow.start(
        {
            "actions": [
                {
                    "id": "check",
                    "type": "condition",
                    "config": {
                        "conditions": [{"field": "contact.score", "operator": "less_than", "value": 10}]
                    },
                    "branches": [{"name": "yes", "actions": [record("never")]}],
                },
                record("after"),
            ]
        }
    )
    assert step_ids(await flow.settled(execution_id, "completed")) == ["check", "after"]


async def test_switch_takes_the_first_matching_branch_else_default(flow: Flow) -> None:
    workflow = {
        "actions": [
            {
                "id": "plan",
                "type": "switch",
                "branches": [
                    {
                        "name": "pro",
                        "conditions": [
                            {"field": "contact.fields.plan", "operator": "equals", "value": "pro"}
                        ],
                        "actions": [record("pro_path")],
                    },
                    {
                        "name": "also_pro",
                        "conditions": [{"field": "contact.score", "operator": "greater_than", "value": 1}],
                        "actions": [record("second_path")],
                    },
                    {"name": "default", "actions": [record("default_path")]},
                ],
            }
        ]
    }
    pro = await flow.start(workflow)
    other = await flow.start(
        workflow, contact={**ADA, "id": "c_free", "score": 0, "fields": {"plan": "free"}}
    )
    assert step_ids(await flow.settled(pro, "completed")) == ["plan", "pro_path"]
    assert step_ids(await flow.settled(other, "completed")) == ["plan", "default_path"]


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


async def test_wait_for_event_takes_the_event_branch_when_the_signal_arrives(
    flow: Flow, provider: fakes.Provider
) -> None:
    execution_id = await flow.start(WAIT_FOR_CLICK)
    await flow.settled(execution_id, "waiting")
    registration = await flow.registration(execution_id, lifecycle_pb2.WAIT_KIND_EVENT)
    assert registration.event_type == "link.clicked"
    assert dict(registration.filters) == {"link": "onboarding"}
    assert registration.contact_id == "c_ada" and registration.organization_id == flow.org
    assert registration.expires_at.ToDatetime(tzinfo=UTC) == flow.clock.now() + timedelta(hours=24)
    [work] = await flow.scheduled(execution_id)
    assert work.kind == "wait_timeout"

    await flow.signal(
        execution_id,
        registration.id,
        jobs_pb2.JOB_SIGNAL_EVENT,
        event_json("link.clicked", {"link": "onboarding"}),
    )
    done = await flow.settled(execution_id, "completed")
    assert step_ids(done) == ["click", "engaged", "after"]
    assert done.steps[0].result["branch"] == "event"
    assert provider.calls_of(execution_id, "engaged")[0].config["text"] == "clicked onboarding"
    assert await flow.scheduled(execution_id) == []


async def test_wait_for_event_times_out_into_the_timeout_branch(flow: Flow) -> None:
    execution_id = await flow.start(WAIT_FOR_CLICK)
    await flow.settled(execution_id, "waiting")
    registration = await flow.registration(execution_id, lifecycle_pb2.WAIT_KIND_EVENT)

    await flow.advance(hours=24)
    done = await flow.settled(execution_id, "completed")
    assert step_ids(done) == ["click", "reminder", "after"]
    assert done.steps[0].result["branch"] == "timeout"
    cancelled = [r for r in await flow.registrations(execution_id) if r.cancel]
    assert [r.id for r in cancelled] == [registration.id]

    # the event arriving late is stale and changes nothing
    await flow.signal(execution_id, registration.id, jobs_pb2.JOB_SIGNAL_EVENT, event_json("link.clicked"))
    await asyncio.sleep(0.2)
    assert step_ids(await flow.get(execution_id)) == ["click", "reminder", "after"]


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


async def test_wait_until_takes_the_met_branch_on_signal(flow: Flow) -> None:
    execution_id = await flow.start(WAIT_UNTIL_VIP)
    await flow.settled(execution_id, "waiting")
    registration = await flow.registration(execution_id, lifecycle_pb2.WAIT_KIND_UNTIL)
    assert registration.conditions[0].field == "contact.tags"

    vip = {**ADA, "tags": ["lead", "vip"]}
    await flow.signal(
        execution_id,
        registration.id,
        jobs_pb2.JOB_SIGNAL_MET,
        event_json("tag.added", {"tag": "vip"}, contact=vip),
    )
    done = await flow.settled(execution_id, "completed")
    assert step_ids(done) == ["until_vip", "welcome_vip"]
    assert done.steps[0].result["branch"] == "met"


async def test_wait_until_times_out(flow: Flow) -> None:
    execution_id = await flow.start(WAIT_UNTIL_VIP)
    await flow.settled(execution_id, "waiting")
    await flow.advance(days=2)
    assert step_ids(await flow.settled(execution_id, "completed")) == ["until_vip", "gave_up"]


async def test_wait_until_already_met_goes_on_at_once(flow: Flow) -> None:
    execution_id = await flow.start(WAIT_UNTIL_VIP, contact={**ADA, "tags": ["vip"]})
    assert step_ids(await flow.settled(execution_id, "completed")) == ["until_vip", "welcome_vip"]
    assert await flow.registrations(execution_id) == []


async def test_random_split_sends_a_contact_down_the_same_branch_every_time(flow: Flow) -> None:
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
    runs = [await flow.start(workflow, contact={**ADA, "id": f"c_{n % 3}"}) for n in range(6)]
    chosen = [(await flow.settled(run, "completed")).steps[0].result["branch"] for run in runs]
    branches = [workflow_pb2.Branch(name="a", weight=50), workflow_pb2.Branch(name="b", weight=50)]
    expected = [random_split_choice(branches, f"auto_1:ab:c_{n % 3}") for n in range(6)]
    assert chosen == expected
    assert chosen[:3] == chosen[3:]


async def test_loop_times_runs_the_body_once_per_iteration(flow: Flow, provider: fakes.Provider) -> None:
    execution_id = await flow.start(
        {
            "actions": [
                {
                    "id": "thrice",
                    "type": "loop",
                    "config": {"times": 3},
                    "branches": [{"name": "body", "actions": [record("each", n="{{ vars.loop_index }}")]}],
                },
                record("after", item="{{ vars.item is defined }}"),
            ]
        }
    )
    done = await flow.settled(execution_id, "completed")
    assert step_ids(done) == ["thrice", "each", "each", "each", "after"]
    assert [s.path for s in done.steps[1:4]] == ["actions[0].branches[body].actions[0]"] * 3
    assert len({s.idempotency_key for s in done.steps}) == 5
    assert [c.config["n"] for c in provider.calls_of(execution_id, "each")] == ["0", "1", "2"]
    assert provider.calls_of(execution_id, "after")[0].config["item"] == "False"


async def test_loop_over_visits_each_item(flow: Flow, provider: fakes.Provider) -> None:
    execution_id = await flow.start(
        {
            "actions": [
                {
                    "id": "each_item",
                    "type": "loop",
                    "config": {"over": "event.data.items"},
                    "branches": [{"name": "body", "actions": [record("line", sku="{{ vars.item.sku }}")]}],
                }
            ]
        },
        data={"items": [{"sku": "A1"}, {"sku": "B2"}]},
    )
    done = await flow.settled(execution_id, "completed")
    assert step_ids(done) == ["each_item", "line", "line"]
    assert done.steps[0].result["iterations"] == 2
    assert [c.config["sku"] for c in provider.calls_of(execution_id)] == ["A1", "B2"]


async def test_a_long_execution_hands_over_to_resume_jobs(flow: Flow) -> None:
    execution_id = await flow.start(
        {
            "actions": [
                {
                    "id": "many",
                    "type": "loop",
                    "config": {"times": 40},
                    "branches": [
                        {
                            "name": "body",
                            "actions": [{"type": "set_variable", "config": {"name": "n", "value": 1}}],
                        }
                    ],
                }
            ]
        }
    )
    done = await flow.settled(execution_id, "completed", timeout=10)
    assert len(done.steps) == 41
    resumes = [msg_id for _, msg_id, _ in await flow.outbox(".jobs.")]
    assert resumes and all(msg_id.startswith("resume:") for msg_id in resumes)  # max_steps_per_job is 50


async def test_stop_ends_the_execution_with_its_reason(flow: Flow) -> None:
    execution_id = await flow.start(
        {
            "actions": [
                record("first"),
                {"id": "halt", "type": "stop", "config": {"reason": "not eligible"}},
                record("never"),
            ]
        }
    )
    done = await flow.settled(execution_id, "completed")
    assert step_ids(done) == ["first", "halt"]
    assert done.steps[1].result["reason"] == "not eligible"


async def test_an_action_delay_holds_the_step_until_it_is_due(flow: Flow, provider: fakes.Provider) -> None:
    execution_id = await flow.start(
        {"actions": [record("now"), {**record("later"), "delay": {"value": 2, "unit": "days"}}]}
    )
    waiting = await flow.settled(execution_id, "waiting")
    assert step_ids(waiting) == ["now"]
    assert waiting.current_step == "1"
    [work] = await flow.scheduled(execution_id)
    assert (work.kind, work.step_id) == ("delay", "later")

    await flow.advance(days=1)
    await asyncio.sleep(0.2)
    assert provider.calls_of(execution_id, "later") == []
    await flow.advance(days=1)
    assert step_ids(await flow.settled(execution_id, "completed")) == ["now", "later"]


async def test_quiet_hours_hold_a_message_until_they_end(flow: Flow, provider: fakes.Provider) -> None:
    # Lagos is UTC+1; the window 21:00-08:00 Lagos is 20:00-07:00 UTC
    now = flow.clock.now()
    to_night = (datetime(now.year, now.month, now.day, 22, 30, tzinfo=UTC) - now) % timedelta(days=1)
    await flow.advance(seconds=to_night.total_seconds())
    execution_id = await flow.start(
        {
            "actions": [
                {"id": "tag", "type": "add_tag", "config": {"tag": "night"}},
                {"id": "mail", "type": "send_email", "config": {"subject": "Hi", "body": "Hello"}},
            ],
            "settings": {"quietHours": {"start": "21:00", "end": "08:00"}, "timezone": "Europe/London"},
        }
    )
    waiting = await flow.settled(execution_id, "waiting")
    assert step_ids(waiting) == ["tag"]  # a CRM step is not held back
    [work] = await flow.scheduled(execution_id)
    assert work.kind == "quiet_hours"
    due = work.due_at.ToDatetime(tzinfo=UTC)
    assert (due.hour, due.minute) == (7, 0)

    await flow.advance(seconds=(due - flow.clock.now()).total_seconds())
    done = await flow.settled(execution_id, "completed")
    assert step_ids(done) == ["tag", "mail"]
    assert len(provider.calls_of(execution_id, "mail")) == 1


async def test_reaching_the_goal_during_a_delay_ends_converted_and_skips_the_rest(
    flow: Flow, provider: fakes.Provider
) -> None:
    execution_id = await flow.start(
        {
            "actions": [record("first"), {**record("nudge"), "delay": {"value": 3, "unit": "days"}}],
            "goal": {"event": "purchase.made", "filters": {"plan": "pro"}},
        }
    )
    await flow.settled(execution_id, "waiting")
    goal = await flow.registration(execution_id, lifecycle_pb2.WAIT_KIND_GOAL)
    assert goal.event_type == "purchase.made" and dict(goal.filters) == {"plan": "pro"}

    await flow.signal(
        execution_id, goal.id, jobs_pb2.JOB_SIGNAL_GOAL, event_json("purchase.made", {"plan": "pro"})
    )
    done = await flow.settled(execution_id, "completed")
    assert done.converted
    assert await flow.scheduled(execution_id) == []

    await flow.advance(days=3)
    await asyncio.sleep(0.3)
    assert provider.calls_of(execution_id, "nudge") == []
    assert step_ids(await flow.get(execution_id)) == ["first"]
    completed = [
        e
        for e in await flow.lifecycle(execution_id)
        if e.kind == lifecycle_pb2.EXECUTION_EVENT_KIND_COMPLETED
    ]
    assert len(completed) == 1 and completed[0].converted


async def test_a_goal_of_conditions_is_checked_before_each_step(flow: Flow) -> None:
    execution_id = await flow.start(
        {
            "actions": [
                {"id": "tag", "type": "add_tag", "config": {"tag": "customer"}},
                record("never"),
            ],
            "goal": {"conditions": [{"field": "contact.tags", "operator": "contains", "value": "customer"}]},
        }
    )
    done = await flow.settled(execution_id, "completed")
    assert done.converted
    assert step_ids(done) == ["tag"]
