"""The permission table covers every RPC of the contracts, and nothing else; the gateway refuses
to serve an RPC that declares no role."""

from __future__ import annotations

import grpc
import pytest

from beez.api.permissions import PERMISSIONS, Role
from beez.gateway import create_app
from beez.gateway.authn import LocalHeaders
from beez.gateway.contracts import load_service_descriptors
from beez.gateway.routes import RouteError
from tests.gateway.gateway_echo import ECHO_PERMISSIONS, SERVICE


def contract_rpcs() -> set[str]:
    """Every RPC of every service descriptor in the contracts (``beez.api``), REST or not."""
    return {
        f"/{service.full_name}/{method.name}"
        for service in load_service_descriptors()
        for method in service.methods
    }


def test_every_rpc_of_the_contracts_declares_a_role() -> None:
    missing = sorted(contract_rpcs() - set(PERMISSIONS))
    assert not missing, f"add these RPCs to beez.api.permissions.PERMISSIONS: {missing}"


def test_the_table_names_no_rpc_that_does_not_exist() -> None:
    unknown = sorted(set(PERMISSIONS) - contract_rpcs())
    assert not unknown, f"beez.api.permissions.PERMISSIONS names RPCs the contracts lack: {unknown}"


def test_writes_need_an_editor_and_reads_a_viewer() -> None:
    assert PERMISSIONS["/beez.api.automation.v1.AutomationService/DeleteAutomation"] is Role.EDITOR
    assert PERMISSIONS["/beez.api.trigger.v1.EventService/PublishEvent"] is Role.EDITOR
    assert PERMISSIONS["/beez.api.automation.v1.AutomationService/GetAutomation"] is Role.VIEWER


async def test_the_gateway_refuses_to_serve_an_rpc_without_a_role() -> None:
    table = dict(ECHO_PERMISSIONS)
    del table[f"/{SERVICE.full_name}/DeleteThing"]
    channel = grpc.aio.insecure_channel("127.0.0.1:1")
    try:
        with pytest.raises(RouteError, match="DeleteThing"):
            create_app({SERVICE.full_name: channel}, [SERVICE], auth=LocalHeaders(), permissions=table)
    finally:
        await channel.close()
