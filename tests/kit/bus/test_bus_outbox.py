"""The transactional outbox: messages commit with their state change and are relayed once in effect."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta

import pytest
from google.protobuf.message import Message
from nats.aio.msg import Msg
from nats.js import JetStreamContext, api
from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from beez.kit.bus import (
    OutboxRelay,
    Publisher,
    PullWorker,
    Topology,
    enqueue,
    ensure_streams,
    inbox_handler,
)
from beez.kit.bus.outbox import DirectPublisher, OutboxMessage, enqueue_many
from beez.kit.bus.publisher import Publication
from beez.kit.bus.topology import EVENTS
from beez.kit.db import COPY_FROM
from tests.kit.bus.bus_support import BusDb, stream_messages, wait_until

StartRelay = Callable[[OutboxRelay], "asyncio.Task[None]"]
StartWorker = Callable[[PullWorker], PullWorker]


class RecordingPublisher(Publisher):
    """A real publisher that also keeps every PubAck it got."""

    def __init__(self, js: JetStreamContext) -> None:
        super().__init__(js)
        self.acks: list[api.PubAck] = []

    async def publish(
        self,
        subject: str,
        data: bytes | Message,
        *,
        msg_id: str,
        headers: Mapping[str, str] | None = None,
        org_id: str | None = None,
    ) -> api.PubAck:
        ack = await super().publish(subject, data, msg_id=msg_id, headers=headers, org_id=org_id)
        self.acks.append(ack)
        return ack

    async def publish_many(self, messages: Sequence[Publication]) -> list[api.PubAck]:
        acks = await super().publish_many(messages)
        self.acks.extend(acks)
        return acks


async def kill_relay(ids: list[int]) -> None:
    """Stands for the process dying after the PubAcks and before the mark commits."""
    raise asyncio.CancelledError


async def unsent(bus: BusDb) -> int:
    async with bus.db.transaction() as session:
        count = await session.scalar(
            select(func.count()).select_from(bus.outbox).where(bus.outbox.c.sent_at.is_(None))
        )
    return int(count or 0)


async def enqueue_events(bus: BusDb, topology: Topology, count: int) -> None:
    for i in range(count):
        async with bus.db.transaction() as session:
            await enqueue(
                session, bus.outbox, topology.events("acme", "tick"), f"tick-{i}".encode(), org_id="acme"
            )


async def test_state_change_and_message_commit_together(
    js: JetStreamContext, topology: Topology, bus_db: BusDb, start_relay: StartRelay
) -> None:
    async with bus_db.db.transaction() as session:
        await session.execute(insert(bus_db.orders).values(id="o-1", status="placed"))
        await enqueue(session, bus_db.outbox, topology.events("acme", "order_placed"), b"o-1", org_id="acme")
    relay = OutboxRelay(bus_db.db, bus_db.outbox, Publisher(js), poll_interval=0.1)
    start_relay(relay)
    await wait_until(lambda: relay.published == 1, what="relay published the row")

    [msg] = await stream_messages(js, topology.stream("EVENTS"))
    assert msg.data == b"o-1"
    assert msg.subject == topology.events("acme", "order_placed")
    headers = msg.headers or {}
    assert headers["Nats-Msg-Id"] == f"{bus_db.db.schema}:outbox:1"
    assert headers["Beez-Org-Id"] == "acme"
    assert await unsent(bus_db) == 0


async def test_explicit_msg_id_is_used_on_the_wire(
    js: JetStreamContext, topology: Topology, bus_db: BusDb
) -> None:
    async with bus_db.db.transaction() as session:
        await enqueue(session, bus_db.outbox, topology.events("acme", "signup"), b"e", msg_id="evt-123")
    assert await OutboxRelay(bus_db.db, bus_db.outbox, Publisher(js)).relay_once() == 1
    [msg] = await stream_messages(js, topology.stream("EVENTS"))
    assert (msg.headers or {})["Nats-Msg-Id"] == "evt-123"


async def test_many_messages_of_one_transaction_keep_their_order_ids_and_headers(
    js: JetStreamContext, topology: Topology, bus_db: BusDb
) -> None:
    count = COPY_FROM * 3 + 1  # written with one COPY
    messages = [
        OutboxMessage(
            topology.events("acme", "bulk"),
            f"bulk-{i}".encode(),
            msg_id=f"bulk-{i}" if i % 2 else None,
            org_id="acme",
            headers={"X-Index": str(i)},
        )
        for i in range(count)
    ]
    async with bus_db.db.transaction() as session:
        await enqueue_many(session, bus_db.outbox, messages)
    assert await OutboxRelay(bus_db.db, bus_db.outbox, Publisher(js)).relay_once() == count

    stored = await stream_messages(js, topology.stream("EVENTS"))
    assert [m.data for m in stored] == [f"bulk-{i}".encode() for i in range(count)]
    for i, msg in enumerate(stored):
        headers = msg.headers or {}
        assert headers["X-Index"] == str(i) and headers["Beez-Org-Id"] == "acme"
        assert headers["Nats-Msg-Id"] == (f"bulk-{i}" if i % 2 else f"{bus_db.db.schema}:outbox:{i + 1}")


async def test_rolled_back_transaction_publishes_nothing(
    js: JetStreamContext, topology: Topology, bus_db: BusDb
) -> None:
    class Rejected(Exception):
        pass

    async def place_order_then_fail() -> None:
        async with bus_db.db.transaction() as session:
            await session.execute(insert(bus_db.orders).values(id="o-1", status="placed"))
            await enqueue(session, bus_db.outbox, topology.events("acme", "order_placed"), b"o-1")
            raise Rejected

    with pytest.raises(Rejected):
        await place_order_then_fail()
    relay = OutboxRelay(bus_db.db, bus_db.outbox, Publisher(js))
    assert await relay.relay_once() == 0
    assert await stream_messages(js, topology.stream("EVENTS")) == []
    async with bus_db.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(bus_db.orders)) == 0

    async with bus_db.db.transaction() as session:
        await enqueue(session, bus_db.outbox, topology.events("acme", "order_placed"), b"o-2")
    assert await relay.relay_once() == 1
    assert [m.data for m in await stream_messages(js, topology.stream("EVENTS"))] == [b"o-2"]


async def test_relay_killed_between_publish_and_mark_delivers_once_in_effect(
    js: JetStreamContext,
    topology: Topology,
    bus_db: BusDb,
    start_relay: StartRelay,
    start_worker: StartWorker,
) -> None:
    await enqueue_events(bus_db, topology, 3)
    doomed = start_relay(OutboxRelay(bus_db.db, bus_db.outbox, Publisher(js), on_published=kill_relay))
    await wait_until(doomed.done, what="relay killed")
    assert doomed.cancelled()
    assert await unsent(bus_db) == 3, "the mark never committed"
    assert len(await stream_messages(js, topology.stream("EVENTS"))) == 3, "but the messages were stored"

    publisher = RecordingPublisher(js)
    fresh = OutboxRelay(bus_db.db, bus_db.outbox, publisher, poll_interval=0.1)
    start_relay(fresh)
    await wait_until(lambda: fresh.published == 3, what="fresh relay republished")
    assert [ack.duplicate for ack in publisher.acks] == [True, True, True]
    assert await unsent(bus_db) == 0
    assert len(await stream_messages(js, topology.stream("EVENTS"))) == 3

    await bus_db.add_counter("ticks")

    async def count_tick(session: AsyncSession, msg: Msg) -> None:
        await bus_db.increment(session, "ticks")

    worker = start_worker(
        PullWorker(
            js,
            topology,
            stream="EVENTS",
            durable="tick-counter",
            subjects="events.>",
            handler=inbox_handler(bus_db.db, bus_db.inbox, "tick-counter", count_tick),
        )
    )
    await wait_until(lambda: worker.stats.processed == 3, what="consumer processed")
    assert await bus_db.counter("ticks") == 3


async def test_republish_after_the_duplicate_window_is_absorbed_by_the_inbox(
    js: JetStreamContext,
    topology: Topology,
    bus_db: BusDb,
    start_relay: StartRelay,
    start_worker: StartWorker,
) -> None:
    window = timedelta(milliseconds=300)
    await ensure_streams(js, topology, [dataclasses.replace(EVENTS, duplicate_window=window)])
    await enqueue_events(bus_db, topology, 2)
    await wait_until(
        start_relay(OutboxRelay(bus_db.db, bus_db.outbox, Publisher(js), on_published=kill_relay)).done
    )
    await asyncio.sleep(window.total_seconds() + 0.2)
    relay = OutboxRelay(bus_db.db, bus_db.outbox, Publisher(js))
    assert await relay.relay_once() == 2
    assert len(await stream_messages(js, topology.stream("EVENTS"))) == 4, "the window no longer caught them"

    await bus_db.add_counter("ticks")

    async def count_tick(session: AsyncSession, msg: Msg) -> None:
        await bus_db.increment(session, "ticks")

    worker = start_worker(
        PullWorker(
            js,
            topology,
            stream="EVENTS",
            durable="tick-counter",
            subjects="events.>",
            handler=inbox_handler(bus_db.db, bus_db.inbox, "tick-counter", count_tick),
        )
    )
    await wait_until(lambda: worker.stats.processed == 4, what="consumer processed every copy")
    assert await bus_db.counter("ticks") == 2


async def test_rows_committed_out_of_id_order_are_not_skipped(
    js: JetStreamContext, topology: Topology, bus_db: BusDb, start_relay: StartRelay
) -> None:
    relay = OutboxRelay(bus_db.db, bus_db.outbox, Publisher(js), poll_interval=0.1)
    start_relay(relay)
    events = topology.stream("EVENTS")

    async with bus_db.db.sessions() as slow:
        await slow.begin()
        await enqueue(slow, bus_db.outbox, topology.events("acme", "slow"), b"A")
        slow_id = await slow.scalar(select(func.max(bus_db.outbox.c.id)))

        async with bus_db.db.transaction() as fast:
            await enqueue(fast, bus_db.outbox, topology.events("acme", "fast"), b"B")
        await wait_until(lambda: relay.published == 1, what="B relayed")
        await asyncio.sleep(0.3)  # a few more relay rounds while A is still uncommitted
        assert [m.data for m in await stream_messages(js, events)] == [b"B"]

        await slow.commit()

    await wait_until(lambda: relay.published == 2, what="A relayed after its late commit")
    messages = await stream_messages(js, events)
    assert [m.data for m in messages] == [b"B", b"A"]
    assert (messages[1].headers or {})["Nats-Msg-Id"] == f"{bus_db.db.schema}:outbox:{slow_id}"
    assert slow_id == 1, "A holds the lower id although it committed last"


async def test_relay_wakes_on_notify_without_polling(
    js: JetStreamContext, topology: Topology, bus_db: BusDb, start_relay: StartRelay
) -> None:
    relay = OutboxRelay(bus_db.db, bus_db.outbox, Publisher(js), poll_interval=30.0)
    start_relay(relay)
    await asyncio.wait_for(relay.listening.wait(), 5)
    await asyncio.sleep(0.3)  # let the catch-up round after LISTEN finish: from now on it sleeps

    started = time.monotonic()
    async with bus_db.db.transaction() as session:
        await enqueue(session, bus_db.outbox, topology.events("acme", "signup"), b"now")
    await wait_until(lambda: relay.published == 1, within=5, what="relay woke up")
    assert time.monotonic() - started < 2.0, "woken by NOTIFY, not by the 30 s poll"
    assert [m.data for m in await stream_messages(js, topology.stream("EVENTS"))] == [b"now"]


async def test_sent_rows_are_purged_after_retention_and_unsent_ones_kept(
    js: JetStreamContext, topology: Topology, bus_db: BusDb
) -> None:
    relay = OutboxRelay(bus_db.db, bus_db.outbox, Publisher(js), retention=timedelta(0))
    await enqueue_events(bus_db, topology, 2)
    assert await relay.relay_once() == 2
    await enqueue_events(bus_db, topology, 1)
    assert await relay.purge() == 2
    async with bus_db.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(bus_db.outbox)) == 1
    assert await unsent(bus_db) == 1


class FailingPublisher(Publisher):
    """Stands for NATS being away when the transaction commits."""

    async def publish_many(self, messages: Sequence[Publication]) -> list[api.PubAck]:
        raise TimeoutError("nats is away")


async def enqueue_orders(bus: BusDb, topology: Topology, ids: list[str], *, msg_ids: bool = True) -> None:
    async with bus.db.transaction() as session:
        for order_id in ids:
            await session.execute(insert(bus.orders).values(id=order_id, status="placed"))
        await enqueue_many(
            session,
            bus.outbox,
            [
                OutboxMessage(
                    topology.events("acme", "order_placed"), order_id.encode(), order_id if msg_ids else None
                )
                for order_id in ids
            ],
        )


async def test_direct_publish_sends_and_marks_a_transaction_s_rows_when_it_commits(
    js: JetStreamContext, topology: Topology, bus_db: BusDb
) -> None:
    direct = DirectPublisher(bus_db.db, bus_db.outbox, Publisher(js))
    direct.install()

    await enqueue_orders(bus_db, topology, ["o-1", "o-2", "o-3"])  # no relay runs in this test

    assert [m.data for m in await stream_messages(js, topology.stream("EVENTS"))] == [b"o-1", b"o-2", b"o-3"]
    assert direct.published == 3
    await direct.settled()
    assert await unsent(bus_db) == 0


async def test_direct_publish_sends_nothing_for_a_rolled_back_transaction(
    js: JetStreamContext, topology: Topology, bus_db: BusDb
) -> None:
    DirectPublisher(bus_db.db, bus_db.outbox, Publisher(js)).install()

    async def change_of_mind() -> None:
        async with bus_db.db.transaction() as session:
            message = OutboxMessage(topology.events("acme", "x"), b"never", "never-1")
            await enqueue_many(session, bus_db.outbox, [message])
            raise RuntimeError("changed my mind")

    with pytest.raises(RuntimeError, match="changed my mind"):
        await change_of_mind()

    assert await stream_messages(js, topology.stream("EVENTS")) == []
    assert await unsent(bus_db) == 0


async def test_what_the_direct_publish_misses_the_relay_sends_once_it_is_old_enough(
    js: JetStreamContext, topology: Topology, bus_db: BusDb
) -> None:
    direct = DirectPublisher(bus_db.db, bus_db.outbox, FailingPublisher(js))
    direct.install()
    await enqueue_orders(bus_db, topology, ["o-1", "o-2"])
    assert direct.published == 0 and await unsent(bus_db) == 2

    patient = OutboxRelay(bus_db.db, bus_db.outbox, Publisher(js), min_age=timedelta(hours=1))
    assert await patient.relay_once() == 0  # too fresh: a direct publish may still be under way
    relay = OutboxRelay(bus_db.db, bus_db.outbox, Publisher(js), min_age=timedelta(0))
    assert await relay.relay_once() == 2
    assert [m.data for m in await stream_messages(js, topology.stream("EVENTS"))] == [b"o-1", b"o-2"]


async def test_rows_without_their_own_msg_id_are_left_to_the_relay(
    js: JetStreamContext, topology: Topology, bus_db: BusDb
) -> None:
    direct = DirectPublisher(bus_db.db, bus_db.outbox, Publisher(js))
    direct.install()
    await enqueue_orders(bus_db, topology, ["o-1"], msg_ids=False)
    assert direct.published == 0 and await unsent(bus_db) == 1
    assert await OutboxRelay(bus_db.db, bus_db.outbox, Publisher(js)).relay_once() == 1


async def test_direct_publish_and_relay_together_store_each_message_once(
    js: JetStreamContext, topology: Topology, bus_db: BusDb
) -> None:
    """A relay sending rows whose direct publish is in flight: the stream keeps one of each."""
    direct = DirectPublisher(bus_db.db, bus_db.outbox, Publisher(js))
    direct.install()
    await enqueue_orders(bus_db, topology, ["o-1", "o-2"])
    await direct.settled()
    async with bus_db.db.transaction() as session:  # as if the marks had not committed yet
        await session.execute(update(bus_db.outbox).values(sent_at=None))

    assert await OutboxRelay(bus_db.db, bus_db.outbox, Publisher(js), min_age=timedelta(0)).relay_once() == 2
    assert [m.data for m in await stream_messages(js, topology.stream("EVENTS"))] == [b"o-1", b"o-2"]
