"""Create and update refuse a workflow that could amplify past its organization's caps, or that
sends email as a sender the organization has not verified (issue #12, decision 0023).

The caps are the executor's (a real one, whose ``SetOrganizationLimits`` an admin calls); when it
cannot answer, the automation service's own settings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import grpc
import pytest

from beez.api.automation.v1 import automation_pb2 as pb
from beez.api.executor.v1 import connections_pb2, connections_pb2_grpc, executor_pb2, executor_pb2_grpc
from beez.kit.embedded import free_port
from beez.workflow.model import workflow_from_json
from tests.automation.support import Api, delete_streams, new_org, onboarding_json, violations
from tests.support.inproc import InProcService, running_service
from tests.support.servers import create_database, drop_database, unique_prefix

ACME = new_org()
SMALL = new_org()


@dataclass
class Services:
    automation: InProcService
    executor: InProcService


@pytest.fixture(scope="module")
async def services(admin_url: str, nats_url: str) -> AsyncIterator[Services]:
    database_url = create_database(admin_url)
    prefix = unique_prefix()
    caps = {SMALL: {"max_messages_per_execution": 5}}
    try:
        async with (
            running_service("executor", database_url, nats_url, prefix, org_limits=caps) as executor,
            running_service(
                "automation",
                database_url,
                nats_url,
                prefix,
                analytics_addr=f"127.0.0.1:{free_port()}",
                executor_addr=f"127.0.0.1:{executor.server.port}",
                org_limits_cache_s=0,
                default_from="Beez <hello@beez.example>",
                verified_senders={ACME: ["@acme.com"]},
                org_limits=caps,
            ) as svc,
        ):
            yield Services(svc, executor)
            assert svc.runtime.js is not None
            await delete_streams(svc.runtime.js, prefix)
    finally:
        drop_database(admin_url, database_url)


@pytest.fixture
def svc(services: Services) -> InProcService:
    return services.automation


async def set_caps(services: Services, org: str, messages: int) -> None:
    stub = executor_pb2_grpc.ExecutionServiceStub(services.executor.channel)
    await stub.SetOrganizationLimits(
        executor_pb2.SetOrganizationLimitsRequest(max_messages_per_execution=messages),
        metadata=[("x-org-id", org)],
    )


def nested_loops(depth: int, times: int = 1000) -> dict[str, Any]:
    step: dict[str, Any] = {"type": "send_email", "config": {"subject": "s", "body": "b"}}
    for _ in range(depth):
        step = {"type": "loop", "config": {"times": times}, "branches": [{"name": "body", "actions": [step]}]}
    data = onboarding_json()
    data["actions"] = [step]
    return data


def sending_as(sender: str) -> dict[str, Any]:
    data = onboarding_json()
    data["actions"][0]["config"]["from"] = sender
    return data


async def create(api: Api, data: dict[str, Any]) -> pb.CreateAutomationResponse:
    request = pb.CreateAutomationRequest(automation=workflow_from_json(data), active=True)
    response: pb.CreateAutomationResponse = await api.automations.CreateAutomation(request, metadata=api.md)
    return response


async def refused(api: Api, data: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await create(api, data)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    return violations(err.value)


async def test_three_nested_loops_of_a_thousand_sends_are_refused_naming_the_loop(svc: InProcService) -> None:
    api = Api.of(svc)
    found = await refused(api, nested_loops(3))
    assert [field for field, _ in found] == ["actions[0].branches[0].actions[0]"] * 2
    assert "1,000,000 messages" in found[0][1]
    await create(api, nested_loops(1))  # 1,000 sends: within the default cap


async def test_an_organizations_configured_cap_applies_to_its_workflows_only(svc: InProcService) -> None:
    small = Api.of(svc, SMALL)
    found = await refused(small, nested_loops(1, times=6))
    assert found == [
        (
            "actions[0]",
            "can send up to 6 messages in one execution (the loop runs up to 6 times); at most 5 are allowed",
        )
    ]
    await create(Api.of(svc), nested_loops(1, times=6))


async def test_send_email_from_must_be_a_verified_sender_on_create_update_and_validate(
    svc: InProcService,
) -> None:
    acme = Api.of(svc, ACME)
    created = await create(acme, sending_as("News <news@acme.com>"))
    await create(acme, sending_as("hello@beez.example"))  # the default From: every organization's

    assert [f for f, _ in await refused(acme, sending_as("ceo@bank.example"))] == ["actions[0].config.from"]
    # another organization may not send as acme.com
    assert [f for f, _ in await refused(Api.of(svc), sending_as("news@acme.com"))] == [
        "actions[0].config.from"
    ]

    with pytest.raises(grpc.aio.AioRpcError) as err:
        await acme.automations.UpdateAutomation(
            pb.UpdateAutomationRequest(
                id=created.automation.id, automation=workflow_from_json(sending_as("x@evil.example"))
            ),
            metadata=acme.md,
        )
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert [f for f, _ in violations(err.value)] == ["actions[0].config.from"]

    checked = await acme.automations.ValidateAutomation(
        pb.ValidateAutomationRequest(automation=workflow_from_json(sending_as("x@evil.example"))),
        metadata=acme.md,
    )
    assert not checked.valid and [i.field for i in checked.issues] == ["actions[0].config.from"]


async def test_caps_an_admin_sets_on_the_executor_apply_at_validation_without_a_redeploy(
    services: Services,
) -> None:
    api = Api.of(services.automation)
    await create(api, nested_loops(1, times=10))
    await set_caps(services, api.org, messages=3)
    found = await refused(api, nested_loops(1, times=10))
    assert [f for f, _ in found] == ["actions[0]"] and "at most 3 are allowed" in found[0][1]

    two_thousand = nested_loops(2, times=50)  # 2,500 sends: over the default of 1,000
    assert [f for f, _ in await refused(Api.of(services.automation), two_thousand)] == ["actions[0]"]
    await set_caps(services, api.org, messages=5_000)
    await create(api, two_thousand)


async def test_without_the_executor_validation_uses_the_configured_caps(
    admin_url: str, nats_url: str
) -> None:
    database_url = create_database(admin_url)
    try:
        async with running_service(
            "automation",
            database_url,
            nats_url,
            unique_prefix(),
            analytics_addr=f"127.0.0.1:{free_port()}",
            executor_addr=f"127.0.0.1:{free_port()}",
            org_limits={SMALL: {"max_messages_per_execution": 5}},
        ) as svc:
            found = await refused(Api.of(svc, SMALL), nested_loops(1, times=6))
            assert "at most 5 are allowed" in found[0][1]
            assert [f for f, _ in await refused(Api.of(svc), nested_loops(2, times=50))] == ["actions[0]"]
    finally:
        drop_database(admin_url, database_url)


def with_steps(*steps: dict[str, Any]) -> dict[str, Any]:
    data = onboarding_json()
    data["actions"] = list(steps)
    return data


async def connect(
    services: Services, org: str, provider: str, name: str, credentials: dict[str, str]
) -> None:
    stub = connections_pb2_grpc.ConnectionServiceStub(services.executor.channel)
    await stub.CreateConnection(
        connections_pb2.CreateConnectionRequest(provider=provider, name=name, credentials=credentials),
        metadata=[("x-org-id", org), ("x-roles", "admin")],
    )


async def test_a_step_naming_a_connection_the_organization_lacks_is_refused_naming_the_path(
    services: Services,
) -> None:
    api = Api.of(services.automation)
    sms = {"type": "send_sms", "config": {"body": "hi", "connection": "texts"}}
    found = await refused(
        api, with_steps({"type": "send_email", "config": {"subject": "s", "body": "b"}}, sms)
    )
    assert [field for field, _ in found] == ["actions[1].config.connection"]
    assert "no twilio connection 'texts'" in found[0][1]

    await connect(services, api.org, "smtp", "texts", {"host": "smtp.example.com"})
    found = await refused(api, with_steps(sms))
    assert found == [("actions[0].config.connection", "'texts' is a smtp connection; send_sms uses twilio")]

    twilio = {"account_sid": "AC1", "auth_token": "token-123456", "from": "+15550001111"}
    await connect(services, api.org, "twilio", "sms-1", twilio)  # seen at once: no stale cache
    await create(api, with_steps({**sms, "config": {"body": "hi", "connection": "sms-1"}}))
    await create(api, with_steps({"type": "send_sms", "config": {"body": "hi"}}))  # its only twilio one

    await connect(services, api.org, "twilio", "sms-2", twilio)
    found = await refused(api, with_steps({"type": "send_sms", "config": {"body": "hi"}}))
    assert found == [
        ("actions[0].config.connection", "the organization has 2 twilio connections: name the one to use")
    ]
    other = Api.of(services.automation)  # another organization has none of these
    assert [
        f
        for f, _ in await refused(other, with_steps({**sms, "config": {"body": "hi", "connection": "sms-1"}}))
    ] == ["actions[0].config.connection"]
