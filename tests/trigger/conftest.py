"""One trigger service for the whole trigger suite, in-process against real PostgreSQL and NATS.

Starting a service costs about a second (a database, migrations, streams, a graceful stop), so
the suite shares one; each test works in organizations of its own (see ``Harness``).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import nats
import pytest
from nats.js import JetStreamContext

from beez.kit.clock import ManualClock
from tests.support.inproc import InProcService, running_service
from tests.support.servers import create_database, drop_database, unique_prefix
from tests.trigger.support import Harness

START = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


@dataclass
class Running:
    svc: InProcService
    js: JetStreamContext
    clock: ManualClock


@pytest.fixture(scope="session")
async def trigger_service(admin_url: str, nats_url: str) -> AsyncIterator[Running]:
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
            start_sweep_interval_s=3600.0,  # tests sweep when they mean to (test_trigger_start_sweeper)
            schedule_poll_interval_s=0.05,  # time triggers fire within 50 ms of the clock moving
        ) as svc:
            yield Running(svc, nc.jetstream(), clock)
    finally:
        await nc.drain()
        drop_database(admin_url, database_url)


@pytest.fixture
async def trigger(trigger_service: Running) -> AsyncIterator[Harness]:
    suffix = uuid.uuid4().hex[:10]
    harness = Harness(
        trigger_service.svc,
        trigger_service.js,
        trigger_service.clock,
        org=f"org{suffix}",
        other_org=f"oth{suffix}",
    )
    yield harness
    await harness.close()
