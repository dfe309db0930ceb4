"""The automation index is rebuilt from the automation service (decision 0032).

The AUTOMATIONS stream keeps announcements 30 days; here its retention is simulated by purging
it. A trigger that starts with an empty index asks the automation service to announce every
automation again; an admin can ask for the same at any time (``ResyncAutomations``); and an
announcement older than what the index holds never undoes a newer one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
import nats

from beez.api.automation.v1 import automation_pb2, automation_pb2_grpc
from beez.kit.bus.topology import Topology
from beez.kit.clock import ManualClock
from beez.kit.db import Database, async_url
from beez.kit.embedded import free_port
from beez.kit.migrations import upgrade
from beez.trigger.__main__ import MIGRATIONS as TRIGGER_MIGRATIONS
from beez.trigger.domain.index import IndexEntry
from beez.trigger.repository import transactional
from beez.trigger.resync import IndexResync
from tests.automation.support import Api, eventually
from tests.support.inproc import running_service
from tests.support.servers import create_database, drop_database, unique_prefix
from tests.trigger.conftest import START
from tests.trigger.support import Harness, event, workflow


async def _create(api: Api, name: str) -> str:
    reply = await api.automations.CreateAutomation(
        automation_pb2.CreateAutomationRequest(automation=workflow(name=name)), metadata=api.md
    )
    return str(reply.automation.id)


def _index_rows(harness: Harness, org: str) -> Callable[[], Awaitable[list[Any]]]:
    async def rows() -> list[Any]:
        return await harness.sql(
            "SELECT automation_id, revision, active, deleted FROM trigger.automation_index "
            "WHERE org_id = :org ORDER BY automation_id",
            org=org,
        )

    return rows


async def test_an_empty_index_is_rebuilt_at_start_and_a_lost_row_on_demand(
    admin_url: str, nats_url: str
) -> None:
    prefix = unique_prefix()
    topology = Topology(prefix)
    automation_db, trigger_db = create_database(admin_url), create_database(admin_url)
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    try:
        async with running_service(
            "automation", automation_db, nats_url, prefix, analytics_addr=f"127.0.0.1:{free_port()}"
        ) as automation:
            api = Api.of(automation)
            live = await _create(api, "Onboarding")
            gone = await _create(api, "Retired")
            await api.automations.DeleteAutomation(
                automation_pb2.DeleteAutomationRequest(id=gone), metadata=api.md
            )
            stream = topology.stream("AUTOMATIONS")

            async def relayed() -> bool:
                return (await js.stream_info(stream)).state.messages >= 3

            await eventually(relayed, what="the announcements")
            await js.purge_stream(stream)  # 30 days later: the stream has dropped them

            async with running_service(
                "trigger",
                trigger_db,
                nats_url,
                prefix,
                clock=ManualClock(START),
                automation_addr=f"127.0.0.1:{automation.server.port}",
            ) as trigger:
                harness = Harness(trigger, js, ManualClock(START), org=api.org, other_org="unused")
                rows = _index_rows(harness, api.org)

                async def both() -> list[Any]:
                    found = await rows()
                    return found if len(found) == 2 else []

                indexed = {
                    row.automation_id: row for row in await eventually(both, what="the resync at start")
                }
                assert indexed[live].active and not indexed[live].deleted
                assert indexed[gone].deleted and not indexed[gone].active

                await harness.publish(event())
                assert [job.start.automation_id for job in await harness.starts()] == [live]

                await harness.sql(
                    "DELETE FROM trigger.automation_index WHERE automation_id = :id RETURNING automation_id",
                    id=live,
                )
                reply = await api.automations.ResyncAutomations(
                    automation_pb2.ResyncAutomationsRequest(), metadata=api.md
                )
                assert reply.announced == 2
                back = {row.automation_id: row for row in await eventually(both, what="the on-demand resync")}
                assert back[live].revision == indexed[live].revision and back[live].active
    finally:
        await nc.drain()
        drop_database(admin_url, automation_db)
        drop_database(admin_url, trigger_db)


async def test_an_older_revision_arriving_after_a_newer_one_changes_nothing(trigger: Harness) -> None:
    await trigger.automation("a", workflow(name="new"), version=3, revision=5)
    await trigger.automation("a", workflow(name="old"), version=2, revision=4, active=False)
    rows = await trigger.sql(
        "SELECT version, revision, active FROM trigger.automation_index WHERE automation_id = :id",
        id=trigger.id("a"),
    )
    assert [(row.version, row.revision, row.active) for row in rows] == [(3, 5, True)]


class _RestartsMidResync(automation_pb2_grpc.AutomationServiceServicer):
    """An automation service that announces a first page (the trigger's consumer applies it) and
    then fails the call, as one that restarts or passes its deadline mid-resync does."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.calls = 0

    async def ResyncAutomations(
        self, request: automation_pb2.ResyncAutomationsRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> automation_pb2.ResyncAutomationsResponse:
        self.calls += 1
        if self.calls == 1:
            page = IndexEntry(
                "aut_first_page",
                "org_x",
                1,
                1,
                True,
                False,
                "event",
                "contact.created",
                "normal",
                False,
                0,
                "",
                0,
                b"",
            )
            await transactional(self.db, lambda repo: repo.upsert_automation(page, START))
            await context.abort(grpc.StatusCode.UNAVAILABLE, "restarting")
        return automation_pb2.ResyncAutomationsResponse(announced=400)


async def test_a_resync_that_failed_after_its_first_page_is_asked_for_again(admin_url: str) -> None:
    database_url = create_database(admin_url)
    db = Database(async_url(database_url), "trigger")
    server = grpc.aio.server()
    automation = _RestartsMidResync(db)  # type: ignore[abstract]  # serves only ResyncAutomations
    automation_pb2_grpc.add_AutomationServiceServicer_to_server(automation, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        await asyncio.to_thread(upgrade, TRIGGER_MIGRATIONS, database_url, "trigger")
        resync = IndexResync(db, f"127.0.0.1:{port}", None, first_backoff_s=0.01)
        await asyncio.wait_for(resync.run_at_start(), 10)
        assert automation.calls == 2  # the index was no longer empty, but only one page was in it
    finally:
        await server.stop(None)
        await db.engine.dispose()
        drop_database(admin_url, database_url)
