"""set_variable, send_internal_notification and trigger_automation."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from google.protobuf import json_format

from beez.executor.actions import ActionRegistry, ActionSettings, PermanentError, build_registry, command_verb
from beez.executor.actions.internal import triggered_event_id
from tests.executor.actions.conftest import NOW, make_ctx


@pytest.fixture
async def actions() -> AsyncIterator[ActionRegistry]:
    registry = build_registry(ActionSettings(max_trigger_depth=3))
    yield registry
    await registry.aclose()


async def test_set_variable_returns_the_variable(actions: ActionRegistry) -> None:
    result = await actions["set_variable"].run(
        make_ctx({"name": "coupon", "value": {"code": "WELCOME10", "pct": 10}})
    )
    assert result.vars == {"coupon": {"code": "WELCOME10", "pct": 10}}
    assert result.commands == [] and result.events == []


async def test_internal_notification_is_a_send_notification_command(actions: ActionRegistry) -> None:
    config = {"message": "Ada clicked onboarding", "user_id": "u_1", "channel": "sales"}
    result = await actions["send_internal_notification"].run(make_ctx(config))
    [cmd] = result.commands
    assert command_verb(cmd) == "send_notification"
    assert (cmd.send_notification.message, cmd.send_notification.user_id, cmd.send_notification.channel) == (
        "Ada clicked onboarding",
        "u_1",
        "sales",
    )
    assert (cmd.organization_id, cmd.contact_id, cmd.idempotency_key) == (
        "org_1",
        "c_123",
        "exec:ex_1:step:0:attempt:1",
    )


async def test_trigger_automation_emits_an_event_for_the_same_contact(actions: ActionRegistry) -> None:
    result = await actions["trigger_automation"].run(make_ctx({"automation_id": "auto_2"}, step_path="4"))

    [event] = result.events
    assert event.type == "automation.triggered"
    assert event.organization_id == "org_1"
    assert event.contact_id == "c_123"
    assert event.occurred_at.ToDatetime().replace(tzinfo=NOW.tzinfo) == NOW
    assert json_format.MessageToDict(event.data) == {
        "automation_id": "auto_2",
        "source_execution_id": "ex_1",
        "source_automation_id": "auto_1",
        "depth": 1.0,
    }
    assert event.contact.email == "ada@example.com"
    assert list(event.contact.tags) == ["lead"]
    assert event.contact.consent.whatsapp is True
    assert event.contact.score == 42
    assert json_format.MessageToDict(event.contact.fields) == {"plan": "pro"}
    assert result.output == {"automation_id": "auto_2", "event_id": event.id, "depth": 1}


async def test_trigger_automation_event_id_is_stable_for_the_step_across_attempts(
    actions: ActionRegistry,
) -> None:
    first = await actions["trigger_automation"].run(
        make_ctx({"automation_id": "auto_2"}, step_path="4", attempt=1)
    )
    again = await actions["trigger_automation"].run(
        make_ctx({"automation_id": "auto_2"}, step_path="4", attempt=1)
    )
    retry = await actions["trigger_automation"].run(
        make_ctx({"automation_id": "auto_2"}, step_path="4", attempt=3)
    )
    other_step = await actions["trigger_automation"].run(make_ctx({"automation_id": "auto_2"}, step_path="5"))
    other_run = await actions["trigger_automation"].run(
        make_ctx({"automation_id": "auto_2"}, step_path="4", execution_id="ex_2")
    )
    ids = [r.events[0].id for r in (first, again, retry, other_step, other_run)]
    assert ids[0] == ids[1] == ids[2] == triggered_event_id("exec:ex_1:step:4:attempt:7")
    assert len({ids[0], ids[3], ids[4]}) == 3


async def test_chains_of_triggered_automations_stop_at_the_depth_limit(actions: ActionRegistry) -> None:
    def from_chain(depth: int) -> dict[str, object]:
        return {
            "id": "evt_x",
            "type": "automation.triggered",
            "data": {"automation_id": "auto_1", "depth": depth},
        }

    second = await actions["trigger_automation"].run(
        make_ctx({"automation_id": "auto_2"}, event=from_chain(1))
    )
    assert second.output["depth"] == 2
    third = await actions["trigger_automation"].run(
        make_ctx({"automation_id": "auto_2"}, event=from_chain(2))
    )
    assert third.output["depth"] == 3
    with pytest.raises(PermanentError) as failure:
        await actions["trigger_automation"].run(make_ctx({"automation_id": "auto_2"}, event=from_chain(3)))
    assert failure.value.category == "trigger_depth_exceeded"


async def test_trigger_automation_without_a_contact_has_none(actions: ActionRegistry) -> None:
    result = await actions["trigger_automation"].run(
        make_ctx({"automation_id": "auto_2"}, contact={}, event={"type": "schedule", "data": {}})
    )
    [event] = result.events
    assert event.contact_id == ""
    assert not event.HasField("contact")
