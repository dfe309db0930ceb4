"""CRM and task actions: the platform command for the owner, and the change to the snapshot."""

from __future__ import annotations

from typing import Any

import pytest
from google.protobuf import json_format

from beez.api.messages.v1 import commands_pb2
from beez.executor.actions import ActionRegistry, ActionSettings, PermanentError, build_registry, command_verb
from tests.executor.actions.conftest import ada, make_ctx


@pytest.fixture
async def actions() -> Any:
    registry = build_registry(ActionSettings())
    yield registry
    await registry.aclose()


def envelope(cmd: commands_pb2.PlatformCommand) -> tuple[str, str, str, str, str]:
    return (cmd.idempotency_key, cmd.organization_id, cmd.contact_id, cmd.execution_id, cmd.automation_id)


@pytest.mark.parametrize(
    ("type_", "config", "body", "changes"),
    [
        ("add_tag", {"tag": "Engaged"}, {"tag": "Engaged"}, {"add_tags": ["Engaged"]}),
        ("remove_tag", {"tag": "lead"}, {"tag": "lead"}, {"remove_tags": ["lead"]}),
        ("add_to_list", {"list": "VIP"}, {"list": "VIP"}, {"add_lists": ["VIP"]}),
        (
            "remove_from_list",
            {"list": "New Customers"},
            {"list": "New Customers"},
            {"remove_lists": ["New Customers"]},
        ),
        ("update_score", {"delta": 10}, {"delta": 10}, {"score_delta": 10}),
        ("update_score", {"delta": -50}, {"delta": -50}, {"score_delta": -50}),
        ("update_score", {"value": 100}, {"delta": 58}, {"score_delta": 58}),  # ada has 42
        (
            "assign_user",
            {"team": "Success Team"},
            {"team": "Success Team"},
            {"assigned_team": "Success Team"},
        ),
        ("assign_user", {"user_id": "u_7"}, {"userId": "u_7"}, {"assigned_user": "u_7"}),
        (
            "assign_user",
            {"user_id": "u_7", "team": "Sales"},
            {"userId": "u_7", "team": "Sales"},
            {"assigned_user": "u_7", "assigned_team": "Sales"},
        ),
        (
            "update_field",
            {"field": "plan", "value": "enterprise"},
            {"field": "plan", "value": "enterprise"},
            {"fields": {"plan": "enterprise"}},
        ),
        (
            "update_field",
            {"field": "contact.fields.seats", "value": 12},
            {"field": "seats", "value": 12.0},
            {"fields": {"seats": 12}},
        ),
        (
            "update_field",
            {"field": "prefs", "value": {"news": True, "topics": ["ai"]}},
            {"field": "prefs", "value": {"news": True, "topics": ["ai"]}},
            {"fields": {"prefs": {"news": True, "topics": ["ai"]}}},
        ),
    ],
)
async def test_contact_actions_produce_the_command_and_the_contact_change(
    actions: ActionRegistry, type_: str, config: dict[str, Any], body: dict[str, Any], changes: dict[str, Any]
) -> None:
    result = await actions[type_].run(make_ctx(config, step_path="3.event.0", attempt=2))

    assert result.status == "succeeded"
    [cmd] = result.commands
    assert command_verb(cmd) == type_
    assert envelope(cmd) == ("exec:ex_1:step:3.event.0:attempt:2", "org_1", "c_123", "ex_1", "auto_1")
    assert json_format.MessageToDict(getattr(cmd, type_)) == body
    assert result.contact_changes == changes
    assert result.output["command"] == type_


async def test_create_task_carries_its_details_and_changes_no_contact(actions: ActionRegistry) -> None:
    config = {"title": "Follow up with Ada", "description": "Call her", "assignee": "u_1", "due_in_hours": 24}
    result = await actions["create_task"].run(make_ctx(config))
    [cmd] = result.commands
    assert command_verb(cmd) == "create_task"
    assert (cmd.create_task.title, cmd.create_task.description) == ("Follow up with Ada", "Call her")
    assert (cmd.create_task.assignee, cmd.create_task.due_in_hours) == ("u_1", 24)
    assert cmd.contact_id == "c_123"
    assert result.contact_changes == {}


async def test_create_task_needs_no_contact_but_tagging_does(actions: ActionRegistry) -> None:
    no_contact = make_ctx({"title": "Weekly review"}, contact={}, event={"type": "schedule", "data": {}})
    assert (await actions["create_task"].run(no_contact)).commands[0].contact_id == ""
    with pytest.raises(PermanentError) as failure:
        await actions["add_tag"].run(make_ctx({"tag": "x"}, contact={}, event={}))
    assert failure.value.category == "no_contact"


async def test_the_contact_id_falls_back_to_the_event(actions: ActionRegistry) -> None:
    ctx = make_ctx({"tag": "x"}, contact={"id": ""}, event={"contact_id": "c_evt", "data": {}})
    assert (await actions["add_tag"].run(ctx)).commands[0].contact_id == "c_evt"


@pytest.mark.parametrize(
    ("type_", "config"),
    [
        ("add_tag", {"tag": "  "}),  # a template that rendered empty
        ("add_to_list", {"list": ""}),
        ("assign_user", {"user_id": "", "team": ""}),
        ("update_score", {"delta": 2**31}),
        ("update_score", {"delta": "lots"}),
        ("update_field", {"field": "contact.fields.", "value": 1}),
    ],
)
async def test_configs_that_rendered_unusable_are_permanent(
    actions: ActionRegistry, type_: str, config: dict[str, Any]
) -> None:
    with pytest.raises(PermanentError) as failure:
        await actions[type_].run(make_ctx(config))
    assert failure.value.category == "invalid_config"


async def test_update_score_value_starts_from_zero_without_a_score(actions: ActionRegistry) -> None:
    result = await actions["update_score"].run(make_ctx({"value": 5}, contact=ada(score=0)))
    assert result.contact_changes == {"score_delta": 5}
    assert result.output["score"] == 5


def test_command_verb_needs_a_command() -> None:
    with pytest.raises(ValueError, match="no command"):
        command_verb(commands_pb2.PlatformCommand(idempotency_key="k"))
