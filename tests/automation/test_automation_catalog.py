"""The catalog RPCs publish exactly what beez.workflow.catalog holds."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf import json_format

from beez.api.automation.v1 import catalog_pb2 as pb
from beez.workflow import catalog
from tests.automation.support import Api, violations


async def test_trigger_types_are_listed_with_their_default_event(api: Api) -> None:
    reply = await api.catalog.ListTriggerTypes(pb.ListTriggerTypesRequest(), metadata=api.md)
    by_type = {t.type: t for t in reply.trigger_types}

    assert list(by_type) == [t.type for t in catalog.trigger_types()]
    assert (by_type["list_joined"].event, by_type["list_joined"].category) == ("list.joined", "event")
    assert by_type["custom_event"].event == ""
    events = await api.catalog.ListTriggerTypes(pb.ListTriggerTypesRequest(category="event"), metadata=api.md)
    assert {t.category for t in events.trigger_types} == {"event"}
    assert len(events.trigger_types) == len([t for t in catalog.trigger_types() if t.category == "event"])
    conditions = await api.catalog.ListTriggerTypes(
        pb.ListTriggerTypesRequest(category="condition"), metadata=api.md
    )
    assert len(conditions.trigger_types) == 16
    assert by_type["score_threshold"].category == "condition"
    timed = await api.catalog.ListTriggerTypes(pb.ListTriggerTypesRequest(category="time"), metadata=api.md)
    assert len(timed.trigger_types) == 12
    assert by_type["cron"].category == "time" and by_type["cron"].event == ""
    assert len(events.trigger_types) + len(timed.trigger_types) + len(conditions.trigger_types) == len(
        reply.trigger_types
    )


async def test_action_types_are_listed_with_branches_and_filtered_by_category(api: Api) -> None:
    reply = await api.catalog.ListActionTypes(pb.ListActionTypesRequest(), metadata=api.md)
    by_type = {a.type: a for a in reply.action_types}
    assert list(by_type) == [a.type for a in catalog.action_types()]
    assert list(by_type["wait_for_event"].branches) == ["event", "timeout"]
    assert by_type["send_email"].category == "communication"

    control = await api.catalog.ListActionTypes(
        pb.ListActionTypesRequest(category="control"), metadata=api.md
    )
    assert {a.type for a in control.action_types} == {
        "wait",
        "condition",
        "switch",
        "wait_for_event",
        "wait_until",
        "random_split",
        "loop",
        "stop",
        "set_variable",
        "trigger_automation",
        "cancel_pending_actions",
        "calculate_value",
        "send_error_alert",
        "retry_failed_action",
    }


async def test_schemas_are_served_and_unknown_types_are_not_found(api: Api) -> None:
    action = await api.catalog.GetActionTypeSchema(
        pb.GetActionTypeSchemaRequest(type="send_email"), metadata=api.md
    )
    assert json_format.MessageToDict(action.schema) == json_format.MessageToDict(
        json_format.ParseDict(catalog.action_schema("send_email"), action.schema.__class__())
    )
    assert action.schema["title"] == "send_email"
    trigger = await api.catalog.GetTriggerTypeSchema(
        pb.GetTriggerTypeSchemaRequest(type="list_joined"), metadata=api.md
    )
    assert trigger.schema["properties"]["event"]["default"] == "list.joined"

    for call in (
        api.catalog.GetActionTypeSchema(pb.GetActionTypeSchemaRequest(type="teleport"), metadata=api.md),
        api.catalog.GetTriggerTypeSchema(
            pb.GetTriggerTypeSchemaRequest(type="moon_landing"), metadata=api.md
        ),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await call
        assert err.value.code() == grpc.StatusCode.NOT_FOUND


async def test_an_unknown_category_is_invalid_argument(api: Api) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await api.catalog.ListActionTypes(pb.ListActionTypesRequest(category="magic"), metadata=api.md)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    [(field, _)] = violations(err.value)
    assert field == "category"


async def test_condition_operators_are_listed_with_their_value_types(api: Api) -> None:
    reply = await api.catalog.ListConditionOperators(pb.ListConditionOperatorsRequest(), metadata=api.md)
    by_name = {o.operator: o for o in reply.operators}
    assert list(by_name) == [o.name for o in catalog.operators()]
    assert list(by_name["between"].value_types) == ["range"]
    assert by_name["has_tag"].description
