"""The service-side role check: the permission table enforced by every service's interceptor.

A real grpc.aio server (the kit's :class:`Server`) serves the automation contract; calls carry
``x-roles`` as the gateway would forward them, or reach the service directly without it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import grpc
import pytest

from beez.api.automation.v1 import automation_pb2, automation_pb2_grpc
from beez.api.permissions import ALL_ROLES, Role, grants, parse_roles
from beez.kit.grpc.identity import Identity, current_identity
from beez.kit.grpc.server import Server, ServerSpec

ORG = "org_1"


class Automations(automation_pb2_grpc.AutomationServiceServicer):  # type: ignore[misc]
    """Records who deleted what; reads answer with the caller's roles as the automation id."""

    def __init__(self) -> None:
        self.seen: list[Identity] = []

    async def DeleteAutomation(
        self, request: automation_pb2.DeleteAutomationRequest, context: Any
    ) -> automation_pb2.DeleteAutomationResponse:
        self.seen.append(current_identity())
        return automation_pb2.DeleteAutomationResponse()

    async def GetAutomation(
        self, request: automation_pb2.GetAutomationRequest, context: Any
    ) -> automation_pb2.GetAutomationResponse:
        self.seen.append(current_identity())
        return automation_pb2.GetAutomationResponse(automation=automation_pb2.Automation(id=request.id))


@dataclass
class Served:
    stub: automation_pb2_grpc.AutomationServiceStub
    channel: grpc.aio.Channel
    servicer: Automations


async def _serve(local_mode: bool) -> AsyncIterator[Served]:
    servicer = Automations()  # type: ignore[abstract]  # serves only the RPCs under test

    def register(server: grpc.aio.Server) -> None:
        automation_pb2_grpc.add_AutomationServiceServicer_to_server(servicer, server)
        unlisted = grpc.method_handlers_generic_handler(
            "beez.testing.v1.Unlisted", {"Call": grpc.unary_unary_rpc_method_handler(_echo_bytes)}
        )
        server.add_generic_rpc_handlers((unlisted,))

    names = ["beez.api.automation.v1.AutomationService"]
    spec = ServerSpec(register=register, service_names=names, probes={})
    server = Server(spec, "127.0.0.1", 0, health_interval_s=1, drain_grace_s=0.1, local_mode=local_mode)
    await server.start()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        yield Served(automation_pb2_grpc.AutomationServiceStub(channel), channel, servicer)
    await server.stop()


async def _echo_bytes(request: bytes, context: Any) -> bytes:
    return request


@pytest.fixture
async def production() -> AsyncIterator[Served]:
    async for served in _serve(local_mode=False):
        yield served


@pytest.fixture
async def local() -> AsyncIterator[Served]:
    async for served in _serve(local_mode=True):
        yield served


def meta(roles: str | None) -> list[tuple[str, str]]:
    metadata = [("x-org-id", ORG), ("x-user-id", "u_1")]
    if roles is not None:
        metadata.append(("x-roles", roles))
    return metadata


DELETE = automation_pb2.DeleteAutomationRequest(id="a1")
GET = automation_pb2.GetAutomationRequest(id="a1")


async def test_a_viewer_calling_a_write_rpc_is_denied(production: Served) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await production.stub.DeleteAutomation(DELETE, metadata=meta("viewer"))
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "needs the editor role" in (err.value.details() or "")
    assert production.servicer.seen == []


async def test_a_viewer_reads(production: Served) -> None:
    answer = await production.stub.GetAutomation(GET, metadata=meta("viewer"))
    assert answer.automation.id == "a1"
    assert production.servicer.seen[0].roles == {Role.VIEWER}


@pytest.mark.parametrize("roles", ["editor", "admin", "viewer, EDITOR", "owner,admin"])
async def test_editor_and_admin_may_delete(production: Served, roles: str) -> None:
    await production.stub.DeleteAutomation(DELETE, metadata=meta(roles))
    assert production.servicer.seen[0].org_id == ORG


@pytest.mark.parametrize("roles", [None, "", "owner"])
async def test_in_production_no_roles_means_no_access(production: Served, roles: str | None) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await production.stub.GetAutomation(GET, metadata=meta(roles))
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_in_local_mode_a_caller_without_roles_holds_every_role(local: Served) -> None:
    await local.stub.DeleteAutomation(DELETE, metadata=meta(None))
    assert local.servicer.seen[0].roles == ALL_ROLES


async def test_in_local_mode_narrower_roles_are_still_enforced(local: Served) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await local.stub.DeleteAutomation(DELETE, metadata=meta("viewer"))
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED


@pytest.fixture(params=[False, True], ids=["production", "local"])
async def either(request: pytest.FixtureRequest) -> AsyncIterator[Served]:
    async for served in _serve(local_mode=request.param):
        yield served


async def test_an_rpc_missing_from_the_table_is_refused(either: Served) -> None:
    served = either
    call = served.channel.unary_unary("/beez.testing.v1.Unlisted/Call")
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await call(b"x", metadata=meta("admin"))
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "declares no permission" in (err.value.details() or "")


async def test_health_stays_open_without_identity(production: Served) -> None:
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    answer = await health_pb2_grpc.HealthStub(production.channel).Check(health_pb2.HealthCheckRequest())
    assert answer.status == health_pb2.HealthCheckResponse.SERVING


def test_roles_nest_admin_over_editor_over_viewer() -> None:
    assert grants({Role.ADMIN}, Role.EDITOR) and grants({Role.ADMIN}, Role.VIEWER)
    assert grants({Role.EDITOR}, Role.VIEWER) and not grants({Role.EDITOR}, Role.ADMIN)
    assert not grants({Role.VIEWER}, Role.EDITOR) and not grants(set(), Role.VIEWER)
    assert parse_roles(["Admin", " viewer ", "owner", ""]) == {Role.ADMIN, Role.VIEWER}
