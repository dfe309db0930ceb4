"""Execution lifecycle events are applied in batches: few transactions, same effects, no deadlocks."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Any, cast

from nats.aio.msg import Msg
from sqlalchemy import text

from beez.api.messages.v1.lifecycle_pb2 import ExecutionEvent, ExecutionEventKind, WaitKind
from beez.trigger.consumers import ExecutionsConsumer
from beez.trigger.repository import Repository
from tests.trigger.support import Harness, event, workflow

STARTED = ExecutionEventKind.EXECUTION_EVENT_KIND_STARTED
COMPLETED = ExecutionEventKind.EXECUTION_EVENT_KIND_COMPLETED
FAILED = ExecutionEventKind.EXECUTION_EVENT_KIND_FAILED
CANCELLED = ExecutionEventKind.EXECUTION_EVENT_KIND_CANCELLED


def consumer(trigger: Harness, shards: int = 2) -> ExecutionsConsumer:
    runtime = trigger.svc.runtime
    return ExecutionsConsumer(runtime.db, trigger.clock, trigger.topology, batch_max=128, shards=shards)


def message(trigger: Harness, execution_id: str, kind: ExecutionEventKind) -> Msg:
    """A lifecycle message as the worker hands it to the handler."""
    body = ExecutionEvent(
        id=f"{execution_id}:{kind}", kind=kind, organization_id=trigger.org, execution_id=execution_id
    )
    name = ExecutionEventKind.Name(kind).removeprefix("EXECUTION_EVENT_KIND_").lower()
    return Msg(
        cast(Any, None), subject=trigger.topology.executions(trigger.org, name), data=body.SerializeToString()
    )


async def handle_together(handler: ExecutionsConsumer, messages: list[Msg]) -> None:
    """Runs one handler per message at once, as the worker does with a fetch."""
    await asyncio.gather(*(handler.handle(msg) for msg in messages))


async def start_executions(trigger: Harness, contacts: int) -> list[str]:
    """Starts one execution per contact, each holding its contact's slot; their ids."""
    await trigger.automation("auto-1", workflow())
    await trigger.publish_many([event(contact=f"c_{i}") for i in range(contacts)])
    return [job.execution_id for job in await trigger.starts()]


async def enrollments(trigger: Harness) -> dict[str, Any]:
    rows = await trigger.sql(
        "SELECT execution_id, outcome, ended_at, start IS NOT NULL AS has_start "
        "FROM trigger.enrollments WHERE org_id = :org",
        org=trigger.org,
    )
    return {row.execution_id: row for row in rows}


async def slots_held(trigger: Harness) -> set[str]:
    rows = await trigger.sql(
        "SELECT execution_id FROM trigger.concurrency_slots WHERE automation_id = :id",
        id=trigger.id("auto-1"),
    )
    return {row.execution_id for row in rows}


async def test_lifecycle_events_in_hand_together_share_a_transaction(trigger: Harness) -> None:
    ids = await start_executions(trigger, 40)
    for n, execution_id in enumerate(ids[:4]):
        await trigger.register_wait(
            f"w{n}", WaitKind.WAIT_KIND_GOAL, execution_id=execution_id, contact=f"c_{n}"
        )
    handler = consumer(trigger, shards=2)

    await handle_together(
        handler, [message(trigger, i, STARTED) for i in ids] + [message(trigger, i, COMPLETED) for i in ids]
    )

    assert handler.batches <= 2  # one per shard, instead of 80 transactions
    rows = await enrollments(trigger)
    assert {(r.outcome, r.ended_at is not None, r.has_start) for r in rows.values()} == {
        ("completed", True, False)
    }
    assert await slots_held(trigger) == set()
    assert await trigger.open_wait_ids() == set()


async def test_a_start_and_an_end_of_one_execution_in_one_batch_end_it(trigger: Harness) -> None:
    first, second, third = await start_executions(trigger, 3)
    handler = consumer(trigger, shards=1)

    await handle_together(
        handler,
        [
            message(trigger, first, COMPLETED),
            message(trigger, first, STARTED),  # late: the end already covers it
            message(trigger, second, STARTED),
            message(trigger, second, FAILED),
            message(trigger, third, CANCELLED),
            message(trigger, third, COMPLETED),  # a second end changes nothing, as one by one
        ],
    )

    assert handler.batches == 1
    rows = await enrollments(trigger)
    assert {i: (r.outcome, r.has_start) for i, r in rows.items()} == {
        first: ("completed", False),
        second: ("failed", False),
        third: ("cancelled", False),
    }
    assert await slots_held(trigger) == set()


async def test_only_started_drops_the_start_and_keeps_the_slot(trigger: Harness) -> None:
    first, second = await start_executions(trigger, 2)
    await handle_together(consumer(trigger), [message(trigger, first, STARTED)])
    rows = await enrollments(trigger)
    assert (rows[first].has_start, rows[first].ended_at) == (False, None)
    assert rows[second].has_start
    assert await slots_held(trigger) == {first, second}


async def test_a_redelivered_end_changes_nothing(trigger: Harness) -> None:
    [first] = await start_executions(trigger, 1)
    handler = consumer(trigger)
    await handle_together(handler, [message(trigger, first, COMPLETED)])
    ended = (await enrollments(trigger))[first]
    await trigger.publish(event(contact="c_0"))  # the freed slot goes to a new execution
    [_, second] = [job.execution_id for job in await trigger.starts()]

    trigger.clock.advance(timedelta(minutes=1))
    await handle_together(handler, [message(trigger, first, COMPLETED), message(trigger, first, CANCELLED)])

    again = (await enrollments(trigger))[first]
    assert (again.outcome, again.ended_at) == (ended.outcome, ended.ended_at)
    assert await slots_held(trigger) == {second}


async def test_batches_crossing_on_the_same_executions_wait_instead_of_deadlocking(trigger: Harness) -> None:
    """One batch ends x and sees y start, another ends y and sees x start (e.g. two replicas).

    Applied statement by statement, the first would lock x then y and the second y then x. The
    enrollments are locked first, in id order, so whatever the timing one waits for the other.
    """
    x, y = sorted(await start_executions(trigger, 2))
    db = trigger.svc.runtime.db
    now = trigger.clock.now()

    async def batch(ended: str, started: str) -> None:
        async with db.transaction() as session:  # no retry: a deadlock would raise
            repo = await Repository.of(session)
            await repo.apply_lifecycle({(ended, trigger.org): "completed"}, [(started, trigger.org)], now)

    async with db.transaction() as blocker:
        await blocker.execute(
            text("SELECT 1 FROM trigger.enrollments WHERE execution_id = :id FOR UPDATE"), {"id": x}
        )
        first = asyncio.create_task(batch(x, y))
        await wait_for_lock_waiters(trigger, 1)  # the first in line for x gets it first
        second = asyncio.create_task(batch(y, x))
        await wait_for_lock_waiters(trigger, 2)
    await asyncio.gather(first, second)

    rows = await enrollments(trigger)
    assert {rows[x].outcome, rows[y].outcome} == {"completed"}
    assert await slots_held(trigger) == set()


async def test_lifecycle_events_published_at_once_all_take_effect(trigger: Harness) -> None:
    ids = await start_executions(trigger, 30)
    acks = await asyncio.gather(
        *(
            trigger.publisher.publish(
                trigger.topology.executions(trigger.org, name),
                ExecutionEvent(id=f"{i}:{name}", kind=kind, organization_id=trigger.org, execution_id=i),
                msg_id=f"{i}:{name}",
                org_id=trigger.org,
            )
            for i in ids
            for kind, name in ((STARTED, "started"), (COMPLETED, "completed"))
        )
    )
    await trigger.consumed("EXECUTIONS", "trigger-executions", max(ack.seq for ack in acks))
    assert {r.outcome for r in (await enrollments(trigger)).values()} == {"completed"}
    assert await slots_held(trigger) == set()


async def wait_for_lock_waiters(trigger: Harness, count: int, within: float = 10.0) -> None:
    """Waits until ``count`` sessions of the service's database wait for a lock."""
    deadline = time.monotonic() + within
    while True:
        [row] = await trigger.sql(
            "SELECT count(*) AS n FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        if row.n >= count:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{row.n} of {count} sessions waiting for a lock")
        await asyncio.sleep(0.02)
