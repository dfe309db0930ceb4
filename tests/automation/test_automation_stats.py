"""GetAutomation shows the stats analytics keeps, asked over gRPC with the caller's organization."""

from __future__ import annotations

import pytest
from nats.js import JetStreamContext

from beez.api.automation.v1 import automation_pb2 as pb
from beez.kit.bus.publisher import Publisher
from beez.kit.bus.topology import Topology
from beez.kit.embedded import free_port
from tests.analytics.support import lifecycle, publish
from tests.automation.support import Api, delete_streams, eventually, onboarding
from tests.support.inproc import running_service


async def test_get_shows_the_stats_analytics_keeps_for_the_callers_organization(
    database_url: str, nats_url: str, bus_prefix: str, js: JetStreamContext
) -> None:
    topology = Topology(bus_prefix)
    async with (
        running_service("analytics", database_url, nats_url, bus_prefix) as analytics,
        running_service(
            "automation",
            database_url,
            nats_url,
            bus_prefix,
            analytics_addr=f"127.0.0.1:{analytics.server.port}",
            executor_addr=f"127.0.0.1:{free_port()}",
        ) as automation,
    ):
        api = Api.of(automation)
        created = (
            await api.automations.CreateAutomation(
                pb.CreateAutomationRequest(automation=onboarding(), active=True), metadata=api.md
            )
        ).automation
        aid, publisher = created.id, Publisher(js)
        for event in (
            lifecycle("completed", api.org, aid, "ex1", duration_ms=1000),
            lifecycle("completed", api.org, aid, "ex2", duration_ms=3000),
            lifecycle("failed", api.org, aid, "ex3", duration_ms=50),
            lifecycle("started", api.org, aid, "ex4"),
            lifecycle("completed", "someone_else", aid, "ex5", duration_ms=1),  # same id, other org
        ):
            await publish(publisher, topology, event)

        async def stats() -> pb.AutomationStats | None:
            reply = await api.automations.GetAutomation(pb.GetAutomationRequest(id=aid), metadata=api.md)
            found = reply.automation.stats
            return found if found.total == 4 and found.failed == 1 and found.succeeded == 2 else None

        shown = await eventually(stats, what="stats in GetAutomation")
        assert shown.cancelled == 0
        assert shown.success_rate == pytest.approx(2 / 3)
        assert shown.duration_p50_ms == 2000.0

        # A brand-new automation has zero stats, not none: analytics answered.
        fresh = (
            await api.automations.CreateAutomation(
                pb.CreateAutomationRequest(automation=onboarding()), metadata=api.md
            )
        ).automation
        got = (
            await api.automations.GetAutomation(pb.GetAutomationRequest(id=fresh.id), metadata=api.md)
        ).automation
        assert got.HasField("stats")
        assert got.stats.total == 0
    await delete_streams(js, bus_prefix)
