"""The inbox: a redelivered message finds its id recorded and changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from nats.aio.msg import Msg
from nats.js import JetStreamContext
from sqlalchemy import func, insert, select

from beez.kit.bus import PullWorker, Topology, claim, message_id, purge_inbox
from tests.kit.bus.bus_support import BusDb, wait_until

StartWorker = Callable[[PullWorker], PullWorker]


async def test_claim_is_true_once_per_consumer_and_message(bus_db: BusDb) -> None:
    async with bus_db.db.transaction() as session:
        assert await claim(session, bus_db.inbox, "projector", "evt-1") is True
    async with bus_db.db.transaction() as session:
        assert await claim(session, bus_db.inbox, "projector", "evt-1") is False
        assert await claim(session, bus_db.inbox, "analytics", "evt-1") is True
        assert await claim(session, bus_db.inbox, "projector", "evt-2") is True


async def test_claim_rolled_back_with_its_effect_can_be_claimed_again(bus_db: BusDb) -> None:
    async with bus_db.db.sessions() as session, session.begin():
        assert await claim(session, bus_db.inbox, "projector", "evt-1") is True
        await session.rollback()
    async with bus_db.db.transaction() as session:
        assert await claim(session, bus_db.inbox, "projector", "evt-1") is True


async def test_message_id_is_nats_msg_id_else_stream_and_sequence(
    js: JetStreamContext, topology: Topology
) -> None:
    await js.publish(topology.events("acme", "a"), b"1", headers={"Nats-Msg-Id": "evt-1"})
    await js.publish(topology.events("acme", "b"), b"2")
    stream = topology.stream("EVENTS")
    sub = await js.pull_subscribe(topology.subject("events.>"), durable="ids", stream=stream)
    first, second = await sub.fetch(2, timeout=2)
    assert message_id(first) == "evt-1"
    assert message_id(second) == f"{stream}:2"
    await sub.unsubscribe()


async def test_redelivered_message_changes_nothing(
    js: JetStreamContext, topology: Topology, bus_db: BusDb, start_worker: StartWorker
) -> None:
    await bus_db.add_counter("signups")
    deliveries: list[int] = []

    async def count_signup(msg: Msg) -> None:
        deliveries.append(msg.metadata.num_delivered)
        async with bus_db.db.transaction() as session:
            if await claim(session, bus_db.inbox, "signup-counter", message_id(msg)):
                await bus_db.increment(session, "signups")
        if len(deliveries) == 1:
            raise RuntimeError("crashed after commit, before the ack")

    await js.publish(topology.events("acme", "signup"), b"ada", headers={"Nats-Msg-Id": "evt-ada"})
    worker = start_worker(
        PullWorker(
            js,
            topology,
            stream="EVENTS",
            durable="signup-counter",
            subjects="events.>",
            handler=count_signup,
            backoff=lambda n: 0.05,
        )
    )
    await wait_until(lambda: worker.stats.processed == 1, what="redelivery processed")
    assert deliveries == [1, 2], "the message really was delivered twice"
    assert await bus_db.counter("signups") == 1


async def test_purge_inbox_removes_only_old_entries(bus_db: BusDb) -> None:
    old = datetime.now(UTC) - timedelta(days=8)
    async with bus_db.db.transaction() as session:
        await session.execute(insert(bus_db.inbox).values(consumer="c", message_id="old", received_at=old))
        await claim(session, bus_db.inbox, "c", "new")
    async with bus_db.db.transaction() as session:
        assert await purge_inbox(session, bus_db.inbox, timedelta(days=7)) == 1
        remaining = await session.scalars(select(bus_db.inbox.c.message_id))
        assert list(remaining) == ["new"]
        assert await session.scalar(select(func.count()).select_from(bus_db.inbox)) == 1
