"""The builder's trigger and condition tools (frame 4), through the automation service's gRPC API."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from google.protobuf import json_format

from beez.api.automation.v1 import automation_pb2
from beez.api.automation.v1 import catalog_pb2 as pb
from beez.api.messages.v1.events_pb2 import Event
from beez.api.workflow.v1.workflow_pb2 import Trigger
from beez.workflow import catalog
from tests.automation.support import Api, onboarding, violations


def trigger(body: dict[str, Any]) -> Trigger:
    return json_format.ParseDict(body, Trigger())


def sample(type_: str, data: dict[str, Any] | None = None, contact: dict[str, Any] | None = None) -> Event:
    body: dict[str, Any] = {"type": type_, "data": data or {}}
    if contact is not None:
        body["contact"] = contact
    return json_format.ParseDict(body, Event())


async def test_categories_count_the_trigger_types_of_each(api: Api) -> None:
    reply = await api.catalog.ListTriggerCategories(pb.ListTriggerCategoriesRequest(), metadata=api.md)
    counts = {item.category: item.count for item in reply.categories}
    assert list(counts) == ["time", "event", "condition"]
    for category in counts:
        assert counts[category] == sum(1 for t in catalog.trigger_types() if t.category == category)
    assert counts["event"] >= 22
    assert {item.category: item.name for item in reply.categories}["event"] == "Event-based"


async def test_validate_trigger_lists_each_problem_by_path(api: Api) -> None:
    good = await api.catalog.ValidateTrigger(
        pb.ValidateTriggerRequest(trigger=trigger({"type": "score_changed", "config": {"threshold": 80}})),
        metadata=api.md,
    )
    assert good.valid and list(good.issues) == []

    bad = await api.catalog.ValidateTrigger(
        pb.ValidateTriggerRequest(
            trigger=trigger(
                {
                    "type": "email_opened",
                    "filters": {"campaign": "x" * 1001},
                    "config": {"threshold": 1},
                }
            )
        ),
        metadata=api.md,
    )
    assert bad.HasField("valid") and not bad.valid
    assert [(i.field, i.description) for i in bad.issues] == [
        ("trigger.filters.campaign", "must have at most 1000 characters"),
        ("trigger.config.threshold", "unknown field"),
    ]
    unknown = await api.catalog.ValidateTrigger(
        pb.ValidateTriggerRequest(trigger=trigger({"type": "telepathy"})), metadata=api.md
    )
    assert [i.field for i in unknown.issues] == ["trigger.type"]


async def test_test_trigger_says_whether_it_fires_and_which_filter_failed(api: Api) -> None:
    score = trigger({"type": "score_changed", "config": {"threshold": 80}})
    fires = await api.catalog.TestTrigger(
        pb.TestTriggerRequest(
            trigger=score, event=sample("score.changed", {"old_score": 60, "new_score": 81})
        ),
        metadata=api.md,
    )
    assert fires.fires and fires.event_type == "score.changed" and list(fires.reasons) == []

    stays = await api.catalog.TestTrigger(
        pb.TestTriggerRequest(
            trigger=score, event=sample("score.changed", {"old_score": 81, "new_score": 90})
        ),
        metadata=api.md,
    )
    assert stays.HasField("fires") and not stays.fires
    assert [(r.field, r.description) for r in stays.reasons] == [
        ("trigger.config.threshold", "the score went from 81 to 90, which does not cross 80 up")
    ]

    email = trigger({"type": "email_opened", "filters": {"campaign": "spring"}})
    other_type = await api.catalog.TestTrigger(
        pb.TestTriggerRequest(trigger=email, event=sample("email.clicked", {"campaign": "fall"})),
        metadata=api.md,
    )
    assert [r.field for r in other_type.reasons] == ["trigger.event", "trigger.filters.campaign"]


async def test_test_trigger_of_an_automation_checks_its_entry_conditions_too(api: Api) -> None:
    created = await api.automations.CreateAutomation(
        automation_pb2.CreateAutomationRequest(automation=onboarding()), metadata=api.md
    )
    wf = created.automation.workflow
    entry = catalog.trigger_type(wf.trigger.type)
    assert entry is not None and entry.event
    event_type = wf.trigger.event or entry.event
    data = json_format.MessageToDict(wf.trigger.filters)
    consenting = {"id": "c_1", "consent": {"email": True}}
    fires = await api.catalog.TestTrigger(
        pb.TestTriggerRequest(
            automation_id=created.automation.id, event=sample(event_type, data, consenting)
        ),
        metadata=api.md,
    )
    assert fires.fires, list(fires.reasons)
    refused = await api.catalog.TestTrigger(
        pb.TestTriggerRequest(
            automation_id=created.automation.id,
            event=sample(event_type, data, {"id": "c_1", "consent": {"email": False}}),
        ),
        metadata=api.md,
    )
    assert [r.field for r in refused.reasons] == ["conditions"]


async def test_test_trigger_refuses_bad_input_with_field_violations(api: Api) -> None:
    cases: list[tuple[pb.TestTriggerRequest, list[str]]] = [
        (pb.TestTriggerRequest(event=sample("x.y")), ["trigger"]),
        (pb.TestTriggerRequest(trigger=trigger({"type": "tag_added"})), ["event.type"]),
        (
            pb.TestTriggerRequest(trigger=trigger({"type": "score_changed"}), event=sample("score.changed")),
            ["trigger.config.threshold"],
        ),
    ]
    for request, fields in cases:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await api.catalog.TestTrigger(request, metadata=api.md)
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert [field for field, _ in violations(caught.value)] == fields


async def test_another_organizations_automation_cannot_be_tested(api: Api, other: Api) -> None:
    created = await api.automations.CreateAutomation(
        automation_pb2.CreateAutomationRequest(automation=onboarding()), metadata=api.md
    )
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await other.catalog.TestTrigger(
            pb.TestTriggerRequest(automation_id=created.automation.id, event=sample("list.joined")),
            metadata=other.md,
        )
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


async def test_evaluate_conditions_gives_the_result_and_each_part(api: Api) -> None:
    request = json_format.ParseDict(
        {
            "conditions": [
                {"field": "contact.score", "operator": "greater_than", "value": 50},
                {
                    "any": [
                        {"field": "contact.tags", "operator": "has_tag", "value": "vip"},
                        {"expression": "vars.n > 2.0"},
                    ]
                },
            ],
            "data": {"contact": {"score": 70, "tags": ["lead"]}, "vars": {"n": 3}},
        },
        pb.EvaluateConditionsRequest(),
    )
    reply = await api.catalog.EvaluateConditions(request, metadata=api.md)
    assert reply.HasField("result") and reply.result
    assert reply.source
    assert [(r.field, r.result) for r in reply.results] == [
        ("conditions[0]", True),
        ("conditions[1]", True),
        ("conditions[1].any[0]", False),
        ("conditions[1].any[1]", True),
    ]


async def test_evaluate_conditions_refuses_bad_conditions_and_reports_evaluation_errors(api: Api) -> None:
    bad = json_format.ParseDict(
        {
            "conditions": [{"field": "contact.score", "operator": "resembles", "value": 1}],
            "data": {"people": {}},
        },
        pb.EvaluateConditionsRequest(),
    )
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await api.catalog.EvaluateConditions(bad, metadata=api.md)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert [field for field, _ in violations(caught.value)] == ["conditions[0].operator", "data.people"]

    failing = json_format.ParseDict(
        {"conditions": [{"expression": "vars.text + 1.0 > 2.0"}], "data": {"vars": {"text": "a"}}},
        pb.EvaluateConditionsRequest(),
    )
    reply = await api.catalog.EvaluateConditions(failing, metadata=api.md)
    assert not reply.HasField("result")
    assert reply.error
    assert not reply.results[0].HasField("result") and reply.results[0].error
