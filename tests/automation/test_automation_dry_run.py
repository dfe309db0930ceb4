"""TestAutomation: the path a sample event would take and the rendered messages, with no side effects."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import grpc
import pytest
from google.protobuf import json_format

from beez.api.automation.v1 import automation_pb2 as pb
from beez.api.messages.v1.events_pb2 import Event
from beez.workflow.effects import StepScope
from beez.workflow.effects_tasks import derived_id
from beez.workflow.model import workflow_from_json
from beez.workflow.triggering import CART_CHECKED_OUT_ID, CART_WAIT_ID
from tests.automation.conftest import AutomationEnv
from tests.automation.support import Api, count_rows, onboarding, onboarding_json, sample_event, violations


async def create(api: Api, workflow: Any = None) -> pb.Automation:
    request = pb.CreateAutomationRequest(automation=workflow or onboarding(), active=True)
    reply: pb.CreateAutomationResponse = await api.automations.CreateAutomation(request, metadata=api.md)
    return reply.automation


async def dry_run(
    api: Api, automation_id: str, event: Event | None = None, **wait_outcomes: str
) -> pb.TestAutomationResponse:
    request = pb.TestAutomationRequest(
        id=automation_id, event=event or sample_event(), wait_outcomes=wait_outcomes
    )
    reply: pb.TestAutomationResponse = await api.automations.TestAutomation(request, metadata=api.md)
    return reply


def steps(reply: pb.TestAutomationResponse) -> list[tuple[str, str, str, str]]:
    return [(s.path, s.step_id, s.type, s.outcome) for s in reply.steps]


def detail(reply: pb.TestAutomationResponse, path: str) -> dict[str, Any]:
    [step] = [s for s in reply.steps if s.path == path]
    found: dict[str, Any] = json_format.MessageToDict(step.detail)
    return found


async def test_onboarding_takes_the_timeout_branch_by_default_with_rendered_messages(
    api: Api, env: AutomationEnv
) -> None:
    created = await create(api)

    reply = await dry_run(api, created.id)

    assert reply.would_start
    assert steps(reply) == [
        ("0", "welcome", "send_email", "would_send"),
        ("1", "s1_wait", "wait", "wait"),
        ("2", "s2_send_whatsapp", "send_whatsapp", "would_send"),
        ("3", "s3_wait_for_event", "wait_for_event", "wait"),
        ("3.timeout.0", "s3_timeout_0_send_email", "send_email", "would_send"),
        ("3.timeout.1", "s3_timeout_1_wait", "wait", "wait"),
        ("3.timeout.2", "s3_timeout_2_create_task", "create_task", "would_run"),
    ]
    assert detail(reply, "0") == {
        "config": {"template": "welcome", "subject": "Welcome Ada!"},
        "to": "ada@example.com",
    }
    assert detail(reply, "2") == {
        "config": {"body": "Your onboarding starts here: https://app.example.com/start?c=c_123"},
        "to": "+2348012345678",
    }
    assert detail(reply, "3")["branch"] == "timeout"
    assert detail(reply, "3.timeout.1") == {"value": 48.0, "unit": "hours"}
    task = detail(reply, "3.timeout.2")
    assert task["config"] == {"title": "Follow up with Ada"}
    # the command the executor would send, with the task id it derives for that position
    assert task["command"]["verb"] == "create_task"
    assert task["command"]["fields"]["title"] == "Follow up with Ada"
    scope = StepScope("exec:dry-run:step:3.timeout.2", datetime.now(UTC))
    assert task["command"]["fields"]["task_id"] == derived_id("task", scope)
    # Nothing was written: the create's row and message are all there is.
    assert (
        count_rows(env.database_url, "SELECT count(*) FROM automation.outbox WHERE org_id = %s", api.org) == 1
    )
    got = (
        await api.automations.GetAutomation(pb.GetAutomationRequest(id=created.id), metadata=api.md)
    ).automation
    assert got.update_time == created.update_time


async def test_onboarding_takes_the_event_branch_when_told_the_event_arrives(api: Api) -> None:
    created = await create(api)

    by_id = await dry_run(api, created.id, s3_wait_for_event="event")
    by_position = await dry_run(api, created.id, None, **{"3": "event"})

    for reply in (by_id, by_position):
        assert steps(reply)[3:] == [
            ("3", "s3_wait_for_event", "wait_for_event", "wait"),
            ("3.event.0", "s3_event_0_add_tag", "add_tag", "would_run"),
            ("3.event.1", "s3_event_1_assign_user", "assign_user", "would_run"),
        ]
        assert detail(reply, "3")["branch"] == "event"
        assert detail(reply, "3.event.1") == {"config": {"team": "Success Team"}}


async def test_a_sample_that_fails_the_filters_or_conditions_would_not_start(api: Api) -> None:
    created = await create(api)

    other_list = await dry_run(api, created.id, sample_event(data={"list": "Old Customers"}))
    other_type = await dry_run(api, created.id, sample_event(type="tag.added"))
    no_consent = sample_event()
    no_consent.contact.consent.email = False
    without_consent = await dry_run(api, created.id, no_consent)

    assert (other_list.would_start, other_list.reason) == (
        False,
        "the trigger does not match the event data: "
        "trigger.filters.list: event.data.list is 'Old Customers', not 'New Customers'",
    )
    assert (other_type.would_start, other_type.reason) == (
        False,
        "the automation listens to list.joined, not tag.added",
    )
    assert (without_consent.would_start, without_consent.reason) == (
        False,
        "the entry conditions do not hold",
    )
    # The walk still previews the steps; the email is skipped for want of consent.
    assert steps(without_consent)[0] == ("0", "welcome", "send_email", "skipped")
    assert detail(without_consent, "0") == {
        "config": {"template": "welcome", "subject": "Welcome Ada!"},
        "reason": "no email consent",
    }


async def test_control_steps_follow_the_sample_and_effects_on_the_contact(api: Api) -> None:
    workflow = workflow_from_json(
        {
            "name": "Controls",
            "trigger": {"type": "tag_added"},
            "actions": [
                {"id": "tag", "type": "add_tag", "config": {"tag": "vip"}},
                {"id": "score", "type": "update_score", "config": {"delta": 10}},
                {"id": "note", "type": "set_variable", "config": {"name": "greeting", "value": "Hi"}},
                {
                    "id": "is_vip",
                    "type": "condition",
                    "config": {
                        "conditions": [{"field": "contact.tags", "operator": "has_tag", "value": "vip"}]
                    },
                    "branches": [
                        {
                            "name": "yes",
                            "actions": [
                                {
                                    "id": "vip_sms",
                                    "type": "send_sms",
                                    "config": {"body": "{{ vars.greeting }} VIP {{ contact.score }}"},
                                }
                            ],
                        },
                        {"name": "no", "actions": [{"id": "never", "type": "stop"}]},
                    ],
                },
                {
                    "id": "route",
                    "type": "switch",
                    "branches": [
                        {
                            "name": "big",
                            "conditions": [
                                {"field": "contact.score", "operator": "greater_than", "value": 100}
                            ],
                            "actions": [{"type": "stop"}],
                        },
                        {
                            "name": "default",
                            "actions": [
                                {
                                    "id": "slack",
                                    "type": "send_slack",
                                    "config": {"text": "{{ contact.first_name }} is in"},
                                }
                            ],
                        },
                    ],
                },
                {
                    "id": "twice",
                    "type": "loop",
                    "config": {"times": 2},
                    "branches": [
                        {
                            "name": "body",
                            "actions": [
                                {
                                    "id": "ping",
                                    "type": "send_internal_notification",
                                    "config": {"message": "ping {{ vars.loop_index }} of {{ vars.item }}"},
                                }
                            ],
                        }
                    ],
                },
                {
                    "id": "split",
                    "type": "random_split",
                    "branches": [
                        {"name": "a", "weight": 1, "actions": []},
                        {"name": "b", "weight": 1, "actions": []},
                    ],
                },
                {"id": "end", "type": "stop", "config": {"reason": "done for {{ contact.first_name }}"}},
                {"id": "after", "type": "add_tag", "config": {"tag": "unreachable"}},
            ],
        }
    )
    created = await create(api, workflow)

    reply = await dry_run(api, created.id, sample_event(type="tag.added", data={"tag": "x"}))

    assert reply.would_start
    assert [(s.path, s.outcome) for s in reply.steps] == [
        ("0", "would_run"),
        ("1", "would_run"),
        ("2", "would_run"),
        ("3", "branch"),
        ("3.yes.0", "skipped"),  # no SMS consent
        ("4", "branch"),
        ("4.default.0", "would_send"),
        ("5", "loop"),
        ("5.body#0.0", "would_run"),
        ("5.body#1.0", "would_run"),
        ("6", "branch"),
        ("7", "stop"),
    ]
    assert detail(reply, "3.yes.0")["config"] == {"body": "Hi VIP 52"}
    assert detail(reply, "4") == {"branch": "default"}
    assert detail(reply, "4.default.0") == {"config": {"text": "Ada is in"}}
    assert detail(reply, "5") == {"iterations": 2.0}
    assert detail(reply, "5.body#1.0") == {"config": {"message": "ping 1 of 1"}}
    assert detail(reply, "6")["branch"] in ("a", "b")
    again = await dry_run(api, created.id, sample_event(type="tag.added", data={"tag": "x"}))
    assert detail(again, "6") == detail(reply, "6"), "a contact's split is stable"
    assert detail(reply, "7") == {"reason": "done for Ada"}


async def test_wait_outcomes_must_name_a_wait_step_and_one_of_its_branches(api: Api) -> None:
    created = await create(api)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await dry_run(api, created.id, nope="event", s3_wait_for_event="met")
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violations(err.value) == [
        ("wait_outcomes[nope]", "names no wait_for_event or wait_until step (use a step id or position)"),
        ("wait_outcomes[s3_wait_for_event]", "must be one of event, timeout"),
    ]


async def test_an_empty_sample_type_means_the_trigger_event(api: Api) -> None:
    created = await create(api, workflow_from_json(onboarding_json(conditions=[])))
    reply = await dry_run(api, created.id, sample_event(type=""))
    assert reply.would_start


async def test_the_dry_run_applies_assignments_and_fields_and_checks_addresses_as_the_executor(
    api: Api,
) -> None:
    workflow = workflow_from_json(
        {
            "name": "Drifts",
            "trigger": {"type": "list_joined"},
            "actions": [
                {"id": "assign", "type": "assign_user", "config": {"user_id": "u_grace", "team": "Success"}},
                {"id": "plan", "type": "update_field", "config": {"field": "contact.plan", "value": "gold"}},
                {
                    "id": "ready",
                    "type": "wait_until",
                    "config": {
                        "conditions": [{"field": "contact.score", "operator": "greater_than", "value": 1}],
                        "timeout": {"value": 1, "unit": "days"},
                    },
                },
                {
                    "id": "owner",
                    "type": "send_whatsapp",
                    "config": {
                        "body": "{{ contact.assigned_user }} of {{ contact.assigned_team }}, "
                        "{{ contact.fields['contact.plan'] }} / {{ contact.fields.plan }}"
                    },
                },
                {
                    "id": "bad",
                    "type": "send_email",
                    "config": {"subject": "Hi", "body": "x", "to": "{{ 'nobody' }}"},
                },
                {"id": "never", "type": "add_tag", "config": {"tag": "never"}},
            ],
        }
    )
    created = await create(api, workflow)

    reply = await dry_run(api, created.id, ready="timeout")

    assert [(s.step_id, s.outcome) for s in reply.steps] == [
        ("assign", "would_run"),
        ("plan", "would_run"),
        ("ready", "wait"),
        ("owner", "would_send"),
        ("bad", "error"),
    ]
    assert detail(reply, "2")["branch"] == "met", "conditions that hold already are met, whatever the outcome"
    assert detail(reply, "3")["config"] == {"body": "u_grace of Success, gold / pro"}
    assert detail(reply, "4") == {
        "error": "`to` is not an email address: 'nobody'",
        "category": "invalid_recipient",
    }


async def test_the_dry_run_matches_the_trigger_as_the_trigger_service_and_runs_the_cart_wait(
    api: Api,
) -> None:
    cart = onboarding(
        trigger={"type": "cart_abandoned", "config": {"within": {"value": 3, "unit": "hours"}}},
        conditions=[],
    )
    created = await create(api, cart)
    cart_event = sample_event(type="cart.updated", data={"cart_id": "c-1"})

    checked_out = await dry_run(api, created.id, cart_event, **{CART_WAIT_ID: "event"})
    assert checked_out.would_start
    assert steps(checked_out) == [
        ("0", CART_WAIT_ID, "wait_for_event", "wait"),
        ("0.event.0", CART_CHECKED_OUT_ID, "stop", "stop"),
    ]
    abandoned = await dry_run(api, created.id, cart_event)
    assert [step[1] for step in steps(abandoned)][:2] == [CART_WAIT_ID, "welcome"]

    score = await create(
        api, onboarding(trigger={"type": "score_changed", "config": {"threshold": 80}}, conditions=[])
    )
    stays = await dry_run(
        api, score.id, sample_event(type="score.changed", data={"old_score": 85, "new_score": 90})
    )
    assert (stays.would_start, stays.reason) == (
        False,
        "the trigger does not match the event data: trigger.config.threshold: "
        "the score went from 85 to 90, which does not cross 80 up",
    )
