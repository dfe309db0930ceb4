"""STARTs that never started are published again after a deadline, a bounded number of times."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from beez.api.messages.v1.jobs_pb2 import JobPriority
from beez.api.messages.v1.lifecycle_pb2 import ExecutionEventKind
from beez.kit.migrations import upgrade
from beez.trigger.__main__ import MIGRATIONS
from beez.trigger.config import TriggerSettings
from beez.trigger.sweeper import StartSweeper
from tests.support.servers import libpq_url
from tests.trigger.support import Harness, event, workflow

SECOND = timedelta(seconds=1)


def settings_of(trigger: Harness) -> TriggerSettings:
    settings = trigger.svc.runtime.settings
    assert isinstance(settings, TriggerSettings)
    return settings


def deadline(trigger: Harness) -> timedelta:
    return timedelta(seconds=settings_of(trigger).start_redispatch_after_s)


def sweeper(trigger: Harness, interval: float = 30.0) -> StartSweeper:
    settings = settings_of(trigger)
    return StartSweeper(
        trigger.svc.runtime.db,
        trigger.clock,
        trigger.topology,
        redispatch_after=settings.start_redispatch_after_s,
        max_redispatches=settings.start_redispatch_max,
        interval=interval,
        batch=settings.start_sweep_batch,
    )


async def sweep(start_sweeper: StartSweeper) -> None:
    """Sweeps until nothing is overdue any more (earlier tests' enrollments included)."""
    while len(await start_sweeper.sweep()):
        pass


async def start_msg_ids(trigger: Harness) -> list[str]:
    """The ``Nats-Msg-Id`` of every START job of the organization in the outbox, in order."""
    return [sent.msg_id for sent in await trigger.outbox_jobs() if sent.job.HasField("start")]


async def enrollment(trigger: Harness, execution_id: str) -> Any:
    [row] = await trigger.sql(
        "SELECT dispatched_at, redispatches, given_up_at, start IS NOT NULL AS has_start "
        "FROM trigger.enrollments WHERE execution_id = :id",
        id=execution_id,
    )
    return row


async def lost_start(trigger: Harness) -> str:
    """Starts an execution whose START job is terminated on the stream before anything ran it."""
    await trigger.automation("auto-1", workflow())
    await trigger.publish(event())
    [lost] = await trigger.stream_jobs(1, term=True)
    assert lost.msg_id == f"start:{lost.job.execution_id}"
    return lost.job.execution_id


async def test_a_start_lost_before_any_executor_saw_it_is_published_again_once_per_deadline(
    trigger: Harness,
) -> None:
    execution_id = await lost_start(trigger)
    [original] = await trigger.starts()
    start_sweeper = sweeper(trigger)

    trigger.clock.advance(deadline(trigger) - SECOND)
    await sweep(start_sweeper)
    assert await start_msg_ids(trigger) == [f"start:{execution_id}"]

    trigger.clock.advance(2 * SECOND)
    await sweep(start_sweeper)
    assert await start_msg_ids(trigger) == [f"start:{execution_id}", f"start:{execution_id}:again:1"]
    [again] = await trigger.stream_jobs(1)  # on the stream: an executor creates the execution now
    assert again.msg_id == f"start:{execution_id}:again:1"
    assert (again.job.execution_id, again.job.start) == (execution_id, original.start)
    assert again.subject == trigger.topology.jobs("normal", trigger.org)

    await sweep(start_sweeper)
    trigger.clock.advance(deadline(trigger) - SECOND)
    await sweep(start_sweeper)
    assert len(await start_msg_ids(trigger)) == 2  # not twice within one deadline

    trigger.clock.advance(2 * SECOND)
    await sweep(start_sweeper)
    assert (await start_msg_ids(trigger))[-1] == f"start:{execution_id}:again:2"
    row = await enrollment(trigger, execution_id)
    assert (row.redispatches, row.dispatched_at, row.given_up_at) == (2, trigger.clock.now(), None)


async def test_a_start_stored_without_priority_level_goes_out_again_on_its_enrollments_priority(
    trigger: Harness,
) -> None:
    await trigger.automation("auto-1", workflow(settings={"priority": "high"}))
    await trigger.publish(event())
    [lost] = await trigger.stream_jobs(1, term=True)
    execution_id = lost.job.execution_id
    stored = lost.job.start
    stored.ClearField("priority_level")  # as written before the field existed (decision 0014)
    await trigger.sql(
        "UPDATE trigger.enrollments SET start = :start WHERE execution_id = :id RETURNING execution_id",
        start=stored.SerializeToString(),
        id=execution_id,
    )

    trigger.clock.advance(deadline(trigger) + SECOND)
    await sweep(sweeper(trigger))
    [again] = await trigger.stream_jobs(1)
    assert again.subject == trigger.topology.jobs("high", trigger.org)
    assert again.job.start.priority_level == JobPriority.JOB_PRIORITY_HIGH


async def test_an_enrollment_reported_started_or_ended_is_never_published_again(trigger: Harness) -> None:
    await trigger.automation("auto-1", workflow(settings={"reentry": "always", "maxConcurrentPerContact": 3}))
    await trigger.publish_many([event(), event(), event()])
    first, second, third = [job.execution_id for job in await trigger.starts()]
    await trigger.execution_event(first, ExecutionEventKind.EXECUTION_EVENT_KIND_STARTED)
    await trigger.execution_event(second, ExecutionEventKind.EXECUTION_EVENT_KIND_FAILED)  # no STARTED seen
    start_sweeper = sweeper(trigger)

    trigger.clock.advance(deadline(trigger) + SECOND)
    await sweep(start_sweeper)
    await trigger.execution_event(third, ExecutionEventKind.EXECUTION_EVENT_KIND_STARTED)  # after one
    for _ in range(5):
        trigger.clock.advance(deadline(trigger) + SECOND)
        await sweep(start_sweeper)

    assert await start_msg_ids(trigger) == [
        f"start:{first}",
        f"start:{second}",
        f"start:{third}",
        f"start:{third}:again:1",
    ]


async def test_re_dispatches_are_capped_and_the_give_up_is_recorded(trigger: Harness) -> None:
    execution_id = await lost_start(trigger)
    cap = settings_of(trigger).start_redispatch_max
    start_sweeper = sweeper(trigger)
    for _ in range(cap):
        trigger.clock.advance(deadline(trigger) + SECOND)
        await sweep(start_sweeper)
    assert (await start_msg_ids(trigger))[1:] == [
        f"start:{execution_id}:again:{n}" for n in range(1, cap + 1)
    ]

    trigger.clock.advance(deadline(trigger) + SECOND)
    await sweep(start_sweeper)
    given_up_at = trigger.clock.now()
    for _ in range(3):
        trigger.clock.advance(10 * deadline(trigger))
        await sweep(start_sweeper)

    assert len(await start_msg_ids(trigger)) == 1 + cap
    row = await enrollment(trigger, execution_id)
    assert (row.redispatches, row.given_up_at, row.has_start) == (cap, given_up_at, True)
    [slot] = await trigger.sql(
        "SELECT execution_id FROM trigger.concurrency_slots WHERE automation_id = :id",
        id=trigger.id("auto-1"),
    )
    assert slot.execution_id == execution_id  # kept: the START may still run late


async def test_the_service_loop_sweeps_on_its_own(trigger: Harness) -> None:
    execution_id = await lost_start(trigger)
    trigger.clock.advance(deadline(trigger) + SECOND)
    start_sweeper = sweeper(trigger, interval=0.02)
    running = asyncio.create_task(start_sweeper.run())
    try:
        limit = time.monotonic() + 10
        while f"start:{execution_id}:again:1" not in await start_msg_ids(trigger):
            assert time.monotonic() < limit, "the loop did not re-dispatch the START"
            await asyncio.sleep(0.02)
    finally:
        running.cancel()
    assert start_sweeper.redispatched >= 1


def test_the_migration_dates_the_dispatch_of_the_starts_still_outstanding(database_url: str) -> None:
    upgrade(MIGRATIONS, database_url, "trigger", "0002")
    created = datetime(2026, 11, 1, tzinfo=UTC)
    insert = (
        "INSERT INTO trigger.enrollments (execution_id, org_id, automation_id, automation_version, "
        "event_id, priority, created_at, start) VALUES (%s, 'org', 'a', 1, %s, 'normal', %s, %s)"
    )
    with psycopg.connect(libpq_url(database_url), autocommit=True) as conn:
        conn.execute(insert, ("pending", "e1", created, b"start"))
        conn.execute(insert, ("started", "e2", created, None))
    upgrade(MIGRATIONS, database_url, "trigger")
    with psycopg.connect(libpq_url(database_url), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT execution_id, dispatched_at, redispatches, given_up_at FROM trigger.enrollments "
            "ORDER BY execution_id"
        ).fetchall()
    assert rows == [("pending", created, 0, None), ("started", None, 0, None)]
