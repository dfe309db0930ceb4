"""The executor's sweeper on a real database: what it hands over, and what it leaves alone."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select, update

from beez.api.messages.v1 import jobs_pb2
from beez.executor import models
from beez.executor.__main__ import MIGRATIONS
from beez.executor.sweeper import Sweeper, default_stale_after
from beez.kit.bus.topology import Topology
from beez.kit.clock import ManualClock
from beez.kit.db import Database
from beez.kit.migrations import upgrade
from tests.support.servers import create_database, drop_database

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


@pytest.fixture
async def db(admin_url: str) -> AsyncIterator[Database]:
    url = create_database(admin_url)
    upgrade(MIGRATIONS, url, "executor")
    database = Database(url, "executor")
    yield database
    await database.dispose()
    drop_database(admin_url, url)


def row(
    execution_id: str, status: str, updated_at: datetime, wait_token: str | None = None
) -> dict[str, Any]:
    return {
        "id": execution_id,
        "org_id": "org_sweep",
        "automation_id": "a1",
        "automation_version": 1,
        "contact_id": "c1",
        "workflow_digest": "d",
        "priority": "normal",
        "status": status,
        "position": "0",
        "phase": "ready",
        "wait_token": wait_token,
        "wait_kind": "delay" if wait_token else None,
        "attempt_base": 0,
        "run": 1,
        "trigger_event_id": f"evt_{execution_id}",
        "trigger_event": {},
        "contact": {},
        "vars": {},
        "loops": {},
        "converted": False,
        "created_at": updated_at,
        "updated_at": updated_at,
    }


async def test_only_long_unmoved_driverless_executions_are_handed_to_a_resume_job(db: Database) -> None:
    clock = ManualClock(NOW)
    old = NOW - timedelta(hours=1)
    async with db.transaction() as session:
        await session.execute(
            insert(models.Execution),
            [
                row("ex_orphan", "running", old),
                row("ex_fresh", "running", NOW - timedelta(seconds=1)),
                row("ex_waiting", "waiting", old, wait_token="t1"),
                row("ex_done", "completed", old),
            ],
        )
    sweeper = Sweeper(db, Topology("sweep"), clock, stale_after=0.3, interval=0.1)
    assert await sweeper.sweep() == 0, "first seen: observed, not yet handed over"
    clock.advance(timedelta(days=30))  # a clock jump alone never makes an execution orphaned
    assert await sweeper.sweep() == 0
    async with db.transaction() as session:  # a live job moves ex_fresh on, as jobs do
        await session.execute(
            update(models.Execution).where(models.Execution.id == "ex_fresh").values(updated_at=clock.now())
        )
    await asyncio.sleep(0.35)
    assert await sweeper.sweep() == 1
    assert await sweeper.sweep() == 0, "handed over once"
    async with db.transaction() as session:
        rows = {e.id: e for e in (await session.execute(select(models.Execution))).scalars()}
        outbox = (await session.execute(select(models.outbox))).all()
    orphan = rows["ex_orphan"]
    assert orphan.wait_kind == "resume" and orphan.wait_token and orphan.driver_token is None
    assert rows["ex_fresh"].wait_token is None, "it moved: a live job drives it"
    assert rows["ex_waiting"].wait_token == "t1"
    (message,) = outbox
    job = jobs_pb2.Job.FromString(message.payload)
    assert job.reason == jobs_pb2.JOB_REASON_RESUME
    assert job.token == orphan.wait_token
    assert job.execution_id == "ex_orphan"
    assert message.msg_id == f"resume:{orphan.wait_token}"


def test_default_staleness_outlasts_every_delivery_of_a_live_job() -> None:
    assert default_stale_after(300, 30, 5) == 6 * 340 + 60
