"""Fixtures for the bus tests: streams under the test's prefix, a schema, running workers and relays."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable

import pytest
from nats.js import JetStreamContext
from sqlalchemy.schema import CreateSchema

from beez.kit.bus import OutboxRelay, PullWorker, Topology, ensure_streams, inbox_table, outbox_table
from beez.kit.db import Database, make_metadata
from tests.kit.bus.bus_support import BusDb, business_tables


async def delete_streams(js: JetStreamContext, prefix: str) -> None:
    """Deletes every stream whose name starts with the test's prefix."""
    for info in await js.streams_info():
        name = info.config.name or ""
        if name.startswith(prefix.upper()):
            await js.delete_stream(name)


@pytest.fixture
async def topology(js: JetStreamContext, bus_prefix: str) -> AsyncIterator[Topology]:
    """The engine's streams, declared under this test's prefix and deleted afterwards."""
    topo = Topology(bus_prefix)
    await ensure_streams(js, topo)
    yield topo
    await delete_streams(js, bus_prefix)


@pytest.fixture
async def bus_db(database_url: str) -> AsyncIterator[BusDb]:
    """Outbox, inbox and business tables on a schema unique to the test."""
    schema = f"bus_{uuid.uuid4().hex[:8]}"
    metadata = make_metadata(schema)
    outbox = outbox_table(metadata)
    inbox = inbox_table(metadata)
    orders, counters = business_tables(metadata)
    db = Database(database_url, schema, pool_size=4)
    async with db.engine.begin() as conn:
        await conn.execute(CreateSchema(schema))
        await conn.run_sync(metadata.create_all)
    yield BusDb(db, metadata, outbox, inbox, orders, counters)
    await db.dispose()


@pytest.fixture
async def start_worker(topology: Topology) -> AsyncIterator[Callable[[PullWorker], PullWorker]]:
    """Runs workers in the background and stops them before the streams are deleted."""
    running: list[tuple[PullWorker, asyncio.Task[None]]] = []

    def start(worker: PullWorker) -> PullWorker:
        running.append((worker, asyncio.create_task(worker.run())))
        return worker

    yield start
    for worker, task in running:
        await worker.stop()
        await task


@pytest.fixture
async def start_relay(
    topology: Topology, bus_db: BusDb
) -> AsyncIterator[Callable[[OutboxRelay], asyncio.Task[None]]]:
    """Runs relays in the background and stops them before the database and streams go."""
    running: list[tuple[OutboxRelay, asyncio.Task[None]]] = []

    def start(relay: OutboxRelay) -> asyncio.Task[None]:
        task = asyncio.create_task(relay.run())
        running.append((relay, task))
        return task

    yield start
    for relay, task in running:
        await relay.stop()
        with contextlib.suppress(asyncio.CancelledError):
            await task  # a relay a test killed on purpose ends cancelled
