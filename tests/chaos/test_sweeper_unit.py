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
        await session.execute(insert(models.Timer), [timer("ex_waiting", "t1", NOW + timedelta(days=1))])
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


def waiting(execution_id: str, kind: str, token: str, updated_at: datetime) -> dict[str, Any]:
    values = row(execution_id, "waiting", updated_at, wait_token=token)
    values["wait_kind"] = kind
    return values


def timer(execution_id: str, token: str, due_at: datetime) -> dict[str, Any]:
    return {
        "id": f"tmr_{execution_id}",
        "org_id": "org_sweep",
        "execution_id": execution_id,
        "kind": "delay",
        "due_at": due_at,
        "token": token,
        "step_id": "s1",
        "priority": "normal",
    }


async def test_every_lost_wake_up_is_re_armed_with_the_job_its_wait_expects(db: Database) -> None:
    """Fails without the fix: the sweeper only looked at executions without a wait token."""
    clock = ManualClock(NOW)
    old = NOW - timedelta(hours=1)
    async with db.transaction() as session:
        await session.execute(
            insert(models.Execution),
            [
                waiting("ex_delay_lost", "delay", "tok_delay", old),  # its TIMER job was dead-lettered
                waiting("ex_event_lost", "event", "tok_event", old),  # its timeout's TIMER job was lost
                waiting("ex_delay_armed", "delay", "tok_armed", old),  # its timer is still there
                {**waiting("ex_resume_lost", "resume", "tok_resume", old), "status": "running"},
                {**waiting("ex_retry_lost", "retry_execution", "tok_retry", old), "status": "queued"},
                waiting("ex_recent", "delay", "tok_recent", NOW),  # just began waiting
                row("ex_done", "completed", old),
            ],
        )
        await session.execute(insert(models.Timer), [timer("ex_delay_armed", "tok_armed", old)])
    sweeper = Sweeper(db, Topology("sweep"), clock, stale_after=0.3, interval=0.1)
    assert await sweeper.sweep() == 0, "first seen: a job may be carrying the wake-up right now"
    await asyncio.sleep(0.35)
    assert await sweeper.sweep() == 4
    assert sweeper.rearmed == 4 and sweeper.resumed == 0
    assert await sweeper.sweep() == 0, "re-armed once: it moved, so it is watched afresh"
    async with db.transaction() as session:
        rows = {e.id: e for e in (await session.execute(select(models.Execution))).scalars()}
        outbox = (await session.execute(select(models.outbox))).all()
    jobs = {job.execution_id: job for job in (jobs_pb2.Job.FromString(m.payload) for m in outbox)}
    assert set(jobs) == {"ex_delay_lost", "ex_event_lost", "ex_resume_lost", "ex_retry_lost"}
    assert (jobs["ex_delay_lost"].reason, jobs["ex_delay_lost"].token) == (
        jobs_pb2.JOB_REASON_TIMER,
        "tok_delay",
    )
    assert (jobs["ex_event_lost"].reason, jobs["ex_event_lost"].token) == (
        jobs_pb2.JOB_REASON_TIMER,
        "tok_event",
    )
    assert (jobs["ex_retry_lost"].reason, jobs["ex_retry_lost"].token) == (
        jobs_pb2.JOB_REASON_RETRY,
        "tok_retry",
    )
    resume = jobs["ex_resume_lost"]
    assert resume.reason == jobs_pb2.JOB_REASON_RESUME
    assert resume.token == rows["ex_resume_lost"].wait_token != "tok_resume", "a fresh token"
    assert rows["ex_delay_lost"].wait_token == "tok_delay" and rows["ex_delay_lost"].status == "waiting"
    assert rows["ex_delay_armed"].updated_at == old, "its timer holds its wake-up: left alone"
