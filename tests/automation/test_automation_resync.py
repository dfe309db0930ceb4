"""ResyncAutomations: every automation of the organization announced again; every organization's
only for internal callers (decision 0032)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest

from beez.api.automation.v1 import automation_pb2, automation_pb2_grpc
from beez.api.permissions import PERMISSIONS
from beez.automation.__main__ import MIGRATIONS
from beez.automation.handlers import AutomationServicer
from beez.automation.service import AutomationService
from beez.kit.bus.topology import Topology
from beez.kit.clock import SystemClock
from beez.kit.db import Database
from beez.kit.grpc.peers import TrustedPeers
from beez.kit.grpc.server import Server, ServerSpec
from beez.kit.migrations import upgrade
from beez.kit.tls import CALLERS, TlsFiles, channel, write_bundle
from tests.automation.conftest import AutomationEnv
from tests.automation.support import Api, changes_on_bus, onboarding
from tests.support.servers import create_database, drop_database

ADMIN = [("x-roles", "admin")]


async def test_an_organizations_automations_are_announced_again_under_new_message_ids(
    env: AutomationEnv, api: Api, other: Api
) -> None:
    created = await api.automations.CreateAutomation(
        automation_pb2.CreateAutomationRequest(automation=onboarding()), metadata=api.md
    )
    await other.automations.CreateAutomation(
        automation_pb2.CreateAutomationRequest(automation=onboarding()), metadata=other.md
    )
    reply = await api.automations.ResyncAutomations(
        automation_pb2.ResyncAutomationsRequest(), metadata=api.md + ADMIN
    )
    assert reply.announced == 1
    assert env.svc.runtime.js is not None
    changes = await changes_on_bus(env.svc.runtime.js, env.svc.runtime.topology, api.org, 2)
    (first, first_headers), (again, again_headers) = changes
    assert again.automation_id == created.automation.id and again.revision == first.revision == 1
    assert first_headers["Nats-Msg-Id"] != again_headers["Nats-Msg-Id"]


async def test_an_editor_may_not_resync(api: Api) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await api.automations.ResyncAutomations(
            automation_pb2.ResyncAutomationsRequest(), metadata=[*api.md, ("x-roles", "editor")]
        )
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED


@pytest.fixture
async def production(admin_url: str, tmp_path: Path) -> AsyncIterator[tuple[str, dict[str, TlsFiles]]]:
    """The automation servicer behind the production server: mutual TLS, trusted peers only."""
    database_url = create_database(admin_url)
    await asyncio.to_thread(upgrade, MIGRATIONS, database_url, "automation")
    db = Database(database_url, "automation")
    certs = write_bundle(tmp_path, list(CALLERS))
    service = AutomationService(db, Topology("resync"), SystemClock())

    def register(server: grpc.aio.Server) -> None:
        automation_pb2_grpc.add_AutomationServiceServicer_to_server(
            AutomationServicer(service, internal_callers=frozenset({"trigger"})), server
        )

    spec = ServerSpec(register, ["beez.api.automation.v1.AutomationService"], {})
    server = Server(
        spec,
        "127.0.0.1",
        0,
        health_interval_s=1,
        drain_grace_s=0.1,
        tls=certs["automation"],
        peers=TrustedPeers(CALLERS),
        permissions=PERMISSIONS,
    )
    await server.start()
    try:
        yield f"127.0.0.1:{server.port}", certs
    finally:
        await server.stop()
        await db.dispose()
        drop_database(admin_url, database_url)


async def _resync_all(address: str, cert: TlsFiles) -> automation_pb2.ResyncAutomationsResponse:
    async with channel(address, cert) as ch:
        reply: automation_pb2.ResyncAutomationsResponse = await automation_pb2_grpc.AutomationServiceStub(
            ch
        ).ResyncAutomations(
            automation_pb2.ResyncAutomationsRequest(all_organizations=True),
            metadata=[("x-org-id", "platform"), ("x-roles", "admin")],
            timeout=10,
        )
        return reply


async def test_only_the_trigger_may_resync_every_organization(
    production: tuple[str, dict[str, TlsFiles]],
) -> None:
    address, certs = production
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await _resync_all(address, certs["gateway"])  # it carries users' calls
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert (await _resync_all(address, certs["trigger"])).announced == 0
