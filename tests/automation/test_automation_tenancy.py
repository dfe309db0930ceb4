"""Tenant isolation: another organization's automation does not exist for the caller."""

from __future__ import annotations

import grpc
import pytest
from nats.js import JetStreamContext

from beez.api.automation.v1 import automation_pb2 as pb
from beez.kit.bus.topology import Topology
from tests.automation.conftest import AutomationEnv
from tests.automation.support import Api, changes_on_bus, onboarding, sample_event


async def test_every_rpc_with_another_organizations_id_answers_not_found_and_changes_nothing(
    api: Api, other: Api, env: AutomationEnv, js: JetStreamContext
) -> None:
    mine = (
        await api.automations.CreateAutomation(
            pb.CreateAutomationRequest(automation=onboarding(), active=True), metadata=api.md
        )
    ).automation
    theirs = (
        await other.automations.CreateAutomation(
            pb.CreateAutomationRequest(automation=onboarding()), metadata=other.md
        )
    ).automation
    foreign = mine.id

    calls = {
        "GetAutomation": other.automations.GetAutomation(
            pb.GetAutomationRequest(id=foreign), metadata=other.md
        ),
        "GetAutomation version": other.automations.GetAutomation(
            pb.GetAutomationRequest(id=foreign, version=1), metadata=other.md
        ),
        "UpdateAutomation": other.automations.UpdateAutomation(
            pb.UpdateAutomationRequest(id=foreign, automation=onboarding(name="hijacked")), metadata=other.md
        ),
        "DeleteAutomation": other.automations.DeleteAutomation(
            pb.DeleteAutomationRequest(id=foreign), metadata=other.md
        ),
        "ToggleAutomation": other.automations.ToggleAutomation(
            pb.ToggleAutomationRequest(id=foreign, active=False), metadata=other.md
        ),
        "CloneAutomation": other.automations.CloneAutomation(
            pb.CloneAutomationRequest(id=foreign), metadata=other.md
        ),
        "TestAutomation": other.automations.TestAutomation(
            pb.TestAutomationRequest(id=foreign, event=sample_event()), metadata=other.md
        ),
    }
    for rpc, call in calls.items():
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await call
        assert err.value.code() == grpc.StatusCode.NOT_FOUND, rpc
        assert err.value.details() == f"automation {foreign} not found", rpc

    listed = await other.automations.ListAutomations(pb.ListAutomationsRequest(), metadata=other.md)
    assert [a.id for a in listed.automations] == [theirs.id]
    got = (
        await api.automations.GetAutomation(pb.GetAutomationRequest(id=foreign), metadata=api.md)
    ).automation
    assert (got.version, got.active, got.workflow.name) == (1, True, "New contact onboarding")
    topology = Topology(env.prefix)
    [(change, _)] = await changes_on_bus(js, topology, api.org, 1)
    assert change.revision == 1
    await changes_on_bus(js, topology, other.org, 1)  # only its own create
