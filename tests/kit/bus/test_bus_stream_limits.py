"""Stream limits (decision 0027): applied at declaration, updated in place, and a full stream
is reported by the outbox relay, which keeps its rows and recovers once room frees."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from nats.aio.msg import Msg
from nats.js import JetStreamContext, api
from sqlalchemy import func, select

from beez.kit.bus import OutboxRelay, Publisher, PullWorker, Topology, enqueue, ensure_streams
from beez.kit.bus.topology import StreamLimits
from tests.kit.bus.bus_support import BusDb, wait_until
from tests.kit.bus.test_bus_outbox import StartRelay, unsent

StartWorker = Callable[[PullWorker], PullWorker]


async def test_limits_are_applied_at_declaration_and_updated_when_they_change(
    js: JetStreamContext, topology: Topology
) -> None:
    defaults = await js.stream_info(topology.stream("EVENTS"))
    assert defaults.config.max_bytes == 256 * 1024 * 1024
    assert defaults.config.discard == api.DiscardPolicy.NEW
    await js.publish(topology.events("acme", "tick"), b"kept")

    await ensure_streams(
        js, topology, limits={"EVENTS": StreamLimits(max_bytes=64 * 1024, max_age_s=3600, discard="old")}
    )
    info = await js.stream_info(topology.stream("EVENTS"))

    assert info.config.max_bytes == 64 * 1024
    assert info.config.max_age == 3600
    assert info.config.discard == api.DiscardPolicy.OLD
    assert info.config.num_replicas == 1
    assert info.state.messages == 1, "updated in place: its messages stay"


async def test_a_full_stream_keeps_the_outbox_rows_is_reported_and_recovers_when_room_frees(
    js: JetStreamContext,
    topology: Topology,
    bus_db: BusDb,
    start_relay: StartRelay,
    start_worker: StartWorker,
) -> None:
    await ensure_streams(js, topology, limits={"JOBS": StreamLimits(max_bytes=1024)})
    for _ in range(20):
        async with bus_db.db.transaction() as session:
            await enqueue(session, bus_db.outbox, topology.jobs("normal", "acme"), b"j" * 100, org_id="acme")
    relay = OutboxRelay(bus_db.db, bus_db.outbox, Publisher(js), poll_interval=0.1, max_error_pause=0.3)
    start_relay(relay)

    await wait_until(lambda: relay.stream_full > 0, within=15, what="the relay reported the full stream")
    assert await unsent(bus_db) > 0
    assert await parked(bus_db) == 0, "a full stream is not a reason to park"

    done: list[bytes] = []

    async def consume(msg: Msg) -> None:
        done.append(msg.data)

    start_worker(PullWorker(js, topology, stream="JOBS", durable="drain", subjects="jobs.>", handler=consume))
    await wait_until(lambda: len(done) == 20, within=30, what="every job delivered once room freed")
    for _ in range(300):  # the relay marks a round sent just after its messages are delivered
        if await unsent(bus_db) == 0 and relay.stream_full == 0:
            break
        await asyncio.sleep(0.05)
    assert await unsent(bus_db) == 0
    assert relay.stream_full == 0, "cleared by the round that published"
    assert len(done) == 20, "each job once"


async def parked(bus: BusDb) -> int:
    async with bus.db.transaction() as session:
        count = await session.scalar(
            select(func.count()).select_from(bus.outbox).where(bus.outbox.c.parked_at.is_not(None))
        )
    return int(count or 0)
