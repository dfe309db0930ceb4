"""The per-organization ingestion limit: events over it wait, none is dropped or dead-lettered."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import nats
import pytest
from opentelemetry import metrics
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader, NumberDataPoint

from beez.kit.clock import ManualClock
from tests.kit.bus.bus_support import stream_messages
from tests.support.inproc import running_service
from tests.support.servers import create_database, drop_database, unique_prefix
from tests.trigger.conftest import START
from tests.trigger.support import Harness, event

_READER = InMemoryMetricReader()


@contextlib.asynccontextmanager
async def throttled_trigger(admin_url: str, nats_url: str, **settings: Any) -> AsyncIterator[Harness]:
    """A trigger of its own whose organizations may have 4 events ingested, then 1 a second."""
    if not isinstance(metrics.get_meter_provider(), MeterProvider):
        metrics.set_meter_provider(MeterProvider(metric_readers=[_READER]))
    database_url = create_database(admin_url)
    nc = await nats.connect(nats_url)
    clock = ManualClock(START)
    try:
        async with running_service(
            "trigger",
            database_url,
            nats_url,
            unique_prefix(),
            clock=clock,
            ingest_rate_per_org=1.0,
            ingest_burst_per_org=4.0,
            consumer_max_deliver=1,  # a deferral counted as an attempt would dead-letter at once
            start_sweep_interval_s=3600.0,
            **settings,
        ) as svc:
            yield Harness(svc, nc.jetstream(), clock, org="noisy", other_org="quiet")
    finally:
        await nc.drain()
        drop_database(admin_url, database_url)


@pytest.fixture
async def throttled(admin_url: str, nats_url: str) -> AsyncIterator[Harness]:
    async with throttled_trigger(admin_url, nats_url) as harness:
        yield harness


async def ingested(harness: Harness, org: str) -> int:
    rows = await harness.sql("SELECT count(*) FROM events WHERE org_id = :org", org=org)
    return int(rows[0][0])


async def until(check: object, within: float = 15.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if await check():  # type: ignore[operator]
            return
        await asyncio.sleep(0.05)
    raise AssertionError("not reached")


def deferred_points() -> dict[str, int]:
    data = _READER.get_metrics_data()
    found: dict[str, int] = {}
    for resource in data.resource_metrics if data else []:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                if metric.name == "beez.trigger.events.deferred":
                    for point in metric.data.data_points:
                        assert isinstance(point, NumberDataPoint) and point.attributes is not None
                        found[str(point.attributes["org"])] = int(point.value)
    return found


async def test_events_over_the_organizations_rate_wait_and_are_all_ingested(throttled: Harness) -> None:
    h = throttled
    for n in range(10):
        await h.publish_nats(event(id=f"e{n}"), msg_id=f"noisy-{n}", wait=False)
    await until(lambda: _equals(h, "noisy", 4))
    await h.publish_nats(event(id="q1"), org="quiet", msg_id="quiet-1", wait=False)
    await until(lambda: _equals(h, "quiet", 1))  # another organization is not held up
    await asyncio.sleep(1.5)
    assert await ingested(h, "noisy") == 4, "the rest wait for tokens (the clock has not moved)"
    assert deferred_points().get("noisy", 0) >= 6

    async def refilled() -> bool:
        h.clock.advance(timedelta(seconds=2))
        return await ingested(h, "noisy") == 10

    await until(refilled, within=30)
    assert not await stream_messages(h.js, h.topology.stream("DLQ")), "nothing dead-lettered"
    assert "quiet" not in deferred_points()


async def _equals(h: Harness, org: str, count: int) -> bool:
    return await ingested(h, org) == count


async def test_a_flood_over_its_limit_never_holds_up_another_organization(
    admin_url: str, nats_url: str
) -> None:
    """The flood is set aside on the OVERFLOW stream: held on the events consumer instead, its
    waiting events would fill ``max_ack_pending`` (2 here) and the quiet event would wait behind
    them for as long as the flood lasts."""
    async with throttled_trigger(
        admin_url, nats_url, events_concurrency=1, events_max_ack_pending=2, ingest_limit_lease=1
    ) as h:
        for n in range(12):
            await h.publish_nats(event(id=f"e{n}"), msg_id=f"noisy-{n}", wait=False)
        await until(lambda: _equals(h, "noisy", 4))
        await h.publish_nats(event(id="q1"), org="quiet", msg_id="quiet-1", wait=False)
        await until(lambda: _equals(h, "quiet", 1), within=10)
        overflow = await h.js.stream_info(h.topology.stream("OVERFLOW"))
        assert overflow.state.messages >= 6, "the flood waits on the OVERFLOW stream"
        assert await ingested(h, "noisy") == 4

        async def refilled() -> bool:
            h.clock.advance(timedelta(seconds=2))
            return await ingested(h, "noisy") == 12

        await until(refilled, within=30)
        assert not await stream_messages(h.js, h.topology.stream("DLQ")), "nothing dead-lettered"
        await until(lambda: _overflow_empty(h))


async def _overflow_empty(h: Harness) -> bool:
    return (await h.js.stream_info(h.topology.stream("OVERFLOW"))).state.messages == 0
