"""An outbox row that can never be published is parked, and the relay sends everything else."""

from __future__ import annotations

from nats.aio.client import Client as NATS
from nats.js import JetStreamContext, api
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader, NumberDataPoint
from sqlalchemy import select

from beez.kit.bus import OutboxRelay, Publisher, Topology, enqueue
from tests.kit.bus.bus_support import BusDb, stream_messages


async def parked(bus: BusDb) -> list[tuple[int, str]]:
    table = bus.outbox
    async with bus.db.transaction() as session:
        rows = await session.execute(
            select(table.c.id, table.c.park_error).where(table.c.parked_at.is_not(None)).order_by(table.c.id)
        )
    return [(int(r.id), str(r.park_error)) for r in rows]


def parked_metric(reader: InMemoryMetricReader) -> dict[str, int]:
    """``beez.outbox.parked`` by outbox, as an exporter would see it."""
    data = reader.get_metrics_data()
    assert data is not None
    return {
        str(point.attributes["outbox"]): int(point.value)
        for resource in data.resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
        if metric.name == "beez.outbox.parked"
        for point in metric.data.data_points
        if isinstance(point, NumberDataPoint) and point.attributes
    }


async def test_oversized_row_is_parked_and_other_tenants_messages_flow(
    nc: NATS, js: JetStreamContext, topology: Topology, bus_db: BusDb
) -> None:
    async with bus_db.db.transaction() as session:
        await enqueue(session, bus_db.outbox, topology.events("org-a", "tick"), b"a", org_id="org-a")
        await enqueue(
            session,
            bus_db.outbox,
            topology.events("org-b", "huge"),
            b"x" * (nc.max_payload + 1),
            org_id="org-b",
        )
        await enqueue(session, bus_db.outbox, topology.events("org-c", "tick"), b"c", org_id="org-c")
    reader = InMemoryMetricReader()
    meter = MeterProvider(metric_readers=[reader]).get_meter("test")
    relay = OutboxRelay(bus_db.db, bus_db.outbox, Publisher(js), meter=meter)

    assert await relay.relay_once() == 3
    assert await relay.relay_once() == 0  # the parked row is not taken again
    assert parked_metric(reader) == {f"{bus_db.outbox.schema}.{bus_db.outbox.name}": 1}

    assert [m.data for m in await stream_messages(js, topology.stream("EVENTS"))] == [b"a", b"c"]
    [(row_id, error)] = await parked(bus_db)
    assert row_id == 2
    assert "max_payload" in error
    assert relay.parked == 1
    assert await relay.parked_rows() == 1


async def test_row_refused_by_the_stream_for_good_is_parked(
    js: JetStreamContext, bus_prefix: str, bus_db: BusDb
) -> None:
    stream = f"{bus_prefix.upper()}_SMALL"
    subject = f"{bus_prefix}.small.>"
    await js.add_stream(api.StreamConfig(name=stream, subjects=[subject], max_msg_size=1024))
    try:
        async with bus_db.db.transaction() as session:
            await enqueue(session, bus_db.outbox, f"{bus_prefix}.small.a", b"a", org_id="org-a")
            await enqueue(session, bus_db.outbox, f"{bus_prefix}.small.b", b"b" * 2000, org_id="org-b")
            await enqueue(session, bus_db.outbox, f"{bus_prefix}.small.c", b"c", org_id="org-c")
        relay = OutboxRelay(bus_db.db, bus_db.outbox, Publisher(js))

        assert await relay.relay_once() == 3

        assert [m.data for m in await stream_messages(js, stream)] == [b"a", b"c"]
        [(row_id, error)] = await parked(bus_db)
        assert row_id == 2
        assert "10054" in error
    finally:
        await js.delete_stream(stream)
