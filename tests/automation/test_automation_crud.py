"""Create, get, update (versions), list, toggle, clone and delete automations over gRPC."""

from __future__ import annotations

from typing import Any

import grpc
import psycopg
import pytest
from google.protobuf import json_format

from beez.api.automation.v1 import automation_pb2 as pb
from beez.kit.stack import libpq_url
from beez.workflow.model import workflow_to_json
from tests.automation.conftest import AutomationEnv
from tests.automation.support import Api, onboarding, onboarding_json, violations


def without_ids(value: Any) -> Any:
    """``value`` with every ``id`` key removed, at any depth."""
    if isinstance(value, dict):
        return {key: without_ids(item) for key, item in value.items() if key != "id"}
    if isinstance(value, list):
        return [without_ids(item) for item in value]
    return value


async def create(api: Api, *, active: bool = False, **changes: object) -> pb.Automation:
    reply: pb.CreateAutomationResponse = await api.automations.CreateAutomation(
        pb.CreateAutomationRequest(automation=onboarding(**changes), active=active), metadata=api.md
    )
    return reply.automation


async def test_onboarding_round_trips_through_create_and_get_with_step_ids_assigned(api: Api) -> None:
    created = await create(api, active=True)

    assert created.id
    assert (created.version, created.active, created.created_by) == (1, True, "user_1")
    assert created.create_time == created.update_time
    got = (
        await api.automations.GetAutomation(pb.GetAutomationRequest(id=created.id), metadata=api.md)
    ).automation
    assert got.id == created.id
    assert got.workflow == created.workflow
    as_json = workflow_to_json(got.workflow)
    assert [a["id"] for a in as_json["actions"]] == [
        "welcome",
        "s1_wait",
        "s2_send_whatsapp",
        "s3_wait_for_event",
    ]
    assert [a["id"] for a in as_json["actions"][3]["branches"][1]["actions"]] == [
        "s3_timeout_0_send_email",
        "s3_timeout_1_wait",
        "s3_timeout_2_create_task",
    ]
    # Apart from the ids it was given, what comes back is the JSON that went in.
    assert without_ids(as_json) == without_ids(onboarding_json())
    assert json_format.MessageToDict(got.workflow.settings) == {"runOnce": True, "timezone": "Europe/London"}


async def test_an_automation_is_active_unless_the_request_says_active_false(api: Api) -> None:
    unsaid = await api.automations.CreateAutomation(
        pb.CreateAutomationRequest(automation=onboarding()), metadata=api.md
    )
    said_false = await api.automations.CreateAutomation(
        pb.CreateAutomationRequest(automation=onboarding(), active=False), metadata=api.md
    )
    assert unsaid.automation.active is True
    assert said_false.automation.active is False


async def test_get_without_analytics_answers_without_stats(api: Api) -> None:
    created = await create(api)
    got = (
        await api.automations.GetAutomation(pb.GetAutomationRequest(id=created.id), metadata=api.md)
    ).automation
    assert not got.HasField("stats")


async def test_update_makes_version_2_and_version_1_stays_readable(api: Api) -> None:
    created = await create(api, active=True)
    changed = onboarding(name="Onboarding v2")
    changed.actions[0].config["subject"] = "Hello {{ contact.first_name }}"

    updated = (
        await api.automations.UpdateAutomation(
            pb.UpdateAutomationRequest(id=created.id, automation=changed), metadata=api.md
        )
    ).automation

    assert (updated.version, updated.active, updated.workflow.name) == (2, True, "Onboarding v2")
    assert updated.update_time.ToDatetime() >= created.update_time.ToDatetime()
    current = (
        await api.automations.GetAutomation(pb.GetAutomationRequest(id=created.id), metadata=api.md)
    ).automation
    assert current.version == 2
    assert current.workflow.actions[0].config["subject"] == "Hello {{ contact.first_name }}"
    first = (
        await api.automations.GetAutomation(
            pb.GetAutomationRequest(id=created.id, version=1), metadata=api.md
        )
    ).automation
    assert (first.version, first.workflow.name) == (1, "New contact onboarding")
    assert first.workflow.actions[0].config["subject"] == "Welcome {{ contact.first_name }}!"
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await api.automations.GetAutomation(
            pb.GetAutomationRequest(id=created.id, version=3), metadata=api.md
        )
    assert err.value.code() == grpc.StatusCode.NOT_FOUND


async def test_toggle_sets_or_flips_the_active_state(api: Api) -> None:
    created = await create(api)

    async def toggle(active: bool | None = None) -> bool:
        request = pb.ToggleAutomationRequest(id=created.id, active=active)
        reply: pb.ToggleAutomationResponse = await api.automations.ToggleAutomation(request, metadata=api.md)
        return reply.automation.active

    assert await toggle() is True
    assert await toggle() is False
    assert await toggle(True) is True
    assert await toggle(True) is True
    assert await toggle(False) is False
    got = (
        await api.automations.GetAutomation(pb.GetAutomationRequest(id=created.id), metadata=api.md)
    ).automation
    assert (got.active, got.version) == (False, 1)


async def test_clone_is_a_new_inactive_automation_at_version_1(api: Api) -> None:
    created = await create(api, active=True)
    await api.automations.UpdateAutomation(
        pb.UpdateAutomationRequest(id=created.id, automation=onboarding(name="Onboarding v2")),
        metadata=api.md,
    )

    copy = (
        await api.automations.CloneAutomation(pb.CloneAutomationRequest(id=created.id), metadata=api.md)
    ).automation
    named = (
        await api.automations.CloneAutomation(
            pb.CloneAutomationRequest(id=created.id, name="Mine"), metadata=api.md
        )
    ).automation

    assert copy.id not in (created.id, named.id)
    assert (copy.version, copy.active, copy.workflow.name) == (1, False, "Onboarding v2 (copy)")
    assert (named.version, named.active, named.workflow.name) == (1, False, "Mine")
    assert list(copy.workflow.actions) == list(created.workflow.actions)
    source = (
        await api.automations.GetAutomation(pb.GetAutomationRequest(id=created.id), metadata=api.md)
    ).automation
    assert (source.version, source.active) == (2, True)


async def test_clone_of_a_long_name_is_cut_to_fit_and_a_blank_name_is_refused(api: Api) -> None:
    created = await create(api, name="x" * 200)
    copy = (
        await api.automations.CloneAutomation(pb.CloneAutomationRequest(id=created.id), metadata=api.md)
    ).automation
    assert copy.workflow.name == "x" * 193 + " (copy)"
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await api.automations.CloneAutomation(
            pb.CloneAutomationRequest(id=created.id, name="  "), metadata=api.md
        )
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violations(err.value) == [("name", "is required")]


async def test_deleted_automation_answers_not_found_everywhere(api: Api) -> None:
    created = await create(api, active=True)

    await api.automations.DeleteAutomation(pb.DeleteAutomationRequest(id=created.id), metadata=api.md)

    calls = {
        "get": api.automations.GetAutomation(pb.GetAutomationRequest(id=created.id), metadata=api.md),
        "get v1": api.automations.GetAutomation(
            pb.GetAutomationRequest(id=created.id, version=1), metadata=api.md
        ),
        "delete": api.automations.DeleteAutomation(
            pb.DeleteAutomationRequest(id=created.id), metadata=api.md
        ),
        "toggle": api.automations.ToggleAutomation(
            pb.ToggleAutomationRequest(id=created.id), metadata=api.md
        ),
        "clone": api.automations.CloneAutomation(pb.CloneAutomationRequest(id=created.id), metadata=api.md),
        "update": api.automations.UpdateAutomation(
            pb.UpdateAutomationRequest(id=created.id, automation=onboarding()), metadata=api.md
        ),
        "test": api.automations.TestAutomation(pb.TestAutomationRequest(id=created.id), metadata=api.md),
    }
    for name, call in calls.items():
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await call
        assert err.value.code() == grpc.StatusCode.NOT_FOUND, name
    listed = await api.automations.ListAutomations(pb.ListAutomationsRequest(), metadata=api.md)
    assert list(listed.automations) == []


async def test_list_filters_by_active_trigger_type_and_name(api: Api) -> None:
    onboarding_active = await create(api, active=True)
    onboarding_idle = await create(api, name="Second ONBOARDING")
    cart = await create(
        api,
        active=True,
        name="Cart rescue 100%",
        trigger={"type": "cart_abandoned", "config": {"within": {"value": 2, "unit": "hours"}}},
        conditions=[],
    )

    async def ids(**filters: object) -> list[str]:
        reply = await api.automations.ListAutomations(pb.ListAutomationsRequest(**filters), metadata=api.md)  # type: ignore[arg-type]
        assert reply.next_page_token == ""
        return [a.id for a in reply.automations]

    assert await ids() == [cart.id, onboarding_idle.id, onboarding_active.id]  # newest first
    assert await ids(active=True) == [cart.id, onboarding_active.id]
    assert await ids(active=False) == [onboarding_idle.id]
    assert await ids(trigger_type="list_joined") == [onboarding_idle.id, onboarding_active.id]
    assert await ids(trigger_type="cart_abandoned", active=True) == [cart.id]
    assert await ids(name="onboarding") == [onboarding_idle.id, onboarding_active.id]
    assert await ids(name="100%") == [cart.id]
    assert await ids(name="%") == [cart.id]  # a literal %, not a wildcard
    assert await ids(name="nothing like it") == []


async def test_list_pages_through_every_automation_once_with_opaque_tokens(api: Api) -> None:
    created = [(await create(api, name=f"Automation {i}")).id for i in range(5)]
    seen: list[str] = []
    token = ""
    pages = 0
    while True:
        reply = await api.automations.ListAutomations(
            pb.ListAutomationsRequest(page_size=2, page_token=token), metadata=api.md
        )
        pages += 1
        seen += [a.id for a in reply.automations]
        # An update between pages moves nothing: pages follow creation order.
        await api.automations.ToggleAutomation(pb.ToggleAutomationRequest(id=created[0]), metadata=api.md)
        token = reply.next_page_token
        if not token:
            break
    assert pages == 3
    assert seen == list(reversed(created))


async def test_list_refuses_bad_page_tokens_and_sizes(api: Api, env: AutomationEnv) -> None:
    for i in range(3):
        await create(api, name=f"Automation {i}")
    first = await api.automations.ListAutomations(pb.ListAutomationsRequest(page_size=1), metadata=api.md)
    assert first.next_page_token

    bad_requests = {
        "garbage": pb.ListAutomationsRequest(page_token="not a token!"),
        "base64 of junk": pb.ListAutomationsRequest(page_token="eyJ4IjoxfQ"),
        "other filters": pb.ListAutomationsRequest(page_token=first.next_page_token, name="Automation"),
        "negative size": pb.ListAutomationsRequest(page_size=-1),
    }
    for name, request in bad_requests.items():
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await api.automations.ListAutomations(request, metadata=api.md)
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT, name
        assert violations(err.value)[0][0] == ("page_size" if name == "negative size" else "page_token"), name
    big = await api.automations.ListAutomations(pb.ListAutomationsRequest(page_size=10_000), metadata=api.md)
    assert len(big.automations) == 3


async def test_each_audit_field_names_the_caller_of_its_change(api: Api, env: AutomationEnv) -> None:
    """``created_by`` of the automation and of each version is the ``x-user-id`` of the call that
    made it (the gateway's verified user; no request field can set it)."""
    created = await create(api)
    editor = Api(api.automations, api.catalog, api.org, user="user_2")
    await api.automations.UpdateAutomation(
        pb.UpdateAutomationRequest(id=created.id, automation=onboarding(name="v2")), metadata=editor.md
    )
    cloner = Api(api.automations, api.catalog, api.org, user="user_3")
    clone = (
        await api.automations.CloneAutomation(pb.CloneAutomationRequest(id=created.id), metadata=cloner.md)
    ).automation
    current = (
        await api.automations.GetAutomation(pb.GetAutomationRequest(id=created.id), metadata=api.md)
    ).automation

    assert (created.created_by, current.created_by, clone.created_by) == ("user_1", "user_1", "user_3")
    with psycopg.connect(libpq_url(env.database_url)) as conn:
        versions = conn.execute(
            "SELECT automation_id, version, created_by FROM automation.automation_versions"
            " WHERE automation_id = ANY(%s) ORDER BY automation_id = %s DESC, version",
            ([created.id, clone.id], created.id),
        ).fetchall()
    assert versions == [(created.id, 1, "user_1"), (created.id, 2, "user_2"), (clone.id, 1, "user_3")]
