"""Bus dead letters under crashes, redeliveries and concurrency, and their queries' indexes
(decision 0029): a dead letter redelivered after its commit is stored once; a re-drive that
crashes before its commit sends nothing and can be done again; two bulk re-drives at once send
each dead letter once; a purge deletes a page per transaction; every list filter has an index.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from nats.aio.msg import Msg
from sqlalchemy import Select, func, select, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession

from beez.executor import models
from beez.executor.dlq import service as dlq_service
from beez.executor.dlq.consumer import DeadLetterConsumer
from beez.executor.dlq.domain import DeadLetterFilter, State, arrival, redrivable_prefixes
from beez.executor.dlq.service import DeadLetters
from beez.executor.repository import bus_dead_letters as rows
from beez.executor.repository.outbox import enqueue_all as real_enqueue
from beez.kit.bus import headers as h
from beez.kit.bus.worker import PullWorker
from beez.kit.paging import PageRequest
from tests.executor.engine.conftest import Flow
from tests.executor.engine.test_dead_letters import dead_letter

T = models.BusDeadLetter


class SimulatedCrash(Exception):
    """The process dies here."""


def service(flow: Flow, **options: Any) -> DeadLetters:
    executor = flow.executor
    return DeadLetters(executor.svc.runtime.db, executor.topology, executor.clock, **options)


def a_consumer() -> str:
    """A consumer name of the test's own: a re-driven junk job dead-lettered again by the real
    job consumer comes back under ``executor-jobs-normal``, outside the test's filter."""
    return f"test-{uuid.uuid4().hex[:8]}"


async def store_many(flow: Flow, count: int, consumer: str) -> list[str]:
    """``count`` dead letters of ``flow.org`` stored directly (as the DLQ consumer stores them)."""
    topology = flow.executor.topology
    dead_letters = service(flow)
    msg_ids = []
    for n in range(count):
        msg_id = f"dlq:{consumer}:T_JOBS:{uuid.uuid4().hex}"
        headers = {
            h.MSG_ID: msg_id,
            h.DLQ_SUBJECT: topology.jobs("normal", flow.org),
            h.DLQ_CONSUMER: consumer,
            h.DLQ_ERROR: "TimeoutError: ",
        }
        assert await dead_letters.store(arrival(topology, topology.dlq(consumer), b"x", headers, n))
        msg_ids.append(msg_id)
    return msg_ids


async def states(flow: Flow, consumer: str) -> list[tuple[str, int]]:
    async with flow.executor.svc.runtime.db.transaction() as session:
        found = await session.execute(
            select(T.state, T.redrive_count)
            .where(T.org_id == flow.org, T.consumer == consumer)
            .order_by(T.id)
        )
        return [(row.state, row.redrive_count) for row in found]


async def redrive_msg_ids(flow: Flow) -> list[str]:
    return [msg_id for _, msg_id, _ in await flow.outbox(".jobs.") if msg_id.startswith("redrive:")]


async def test_a_dead_letter_redelivered_after_its_commit_is_stored_once(flow: Flow) -> None:
    """The DLQ consumer stores a dead letter and dies before its ack: NATS delivers it again."""
    executor = flow.executor
    consumer_name = f"crashy-{uuid.uuid4().hex[:8]}"
    folded = DeadLetterConsumer(executor.topology, service(flow))
    deliveries: list[int] = []

    async def crashes_after_commit(msg: Msg) -> None:
        await folded.handle(msg)  # committed
        deliveries.append(msg.metadata.num_delivered)
        if len(deliveries) == 1:
            raise SimulatedCrash("after the commit, before the ack")

    worker = PullWorker(
        executor.js,
        executor.topology,
        stream="DLQ",
        durable=f"test-{consumer_name}",
        subjects=f"dlq.{consumer_name}",
        handler=crashes_after_commit,
        backoff=lambda n: 0.05,
        stop_timeout=0.5,
    )
    running = asyncio.create_task(worker.run())
    try:
        msg_id = await dead_letter(
            flow, executor.topology.jobs("normal", flow.org), b"p", consumer=consumer_name
        )
        for _ in range(200):
            if len(deliveries) >= 2:
                break
            await asyncio.sleep(0.05)
    finally:
        await worker.stop(1.0)
        running.cancel()
    assert deliveries[:2] == [1, 2]
    async with executor.svc.runtime.db.transaction() as session:
        count = await session.scalar(select(func.count()).where(T.dlq_msg_id == msg_id))
    assert count == 1


async def test_a_redrive_that_crashes_before_its_commit_sends_nothing_and_can_be_done_again(
    flow: Flow, monkeypatch: pytest.MonkeyPatch
) -> None:
    consumer = a_consumer()
    await store_many(flow, 1, consumer)
    where = DeadLetterFilter(flow.org, consumer=consumer)
    [letter] = (await service(flow).find(where, PageRequest(size=10, after=None))).dead_letters

    async def crash_after_enqueue(session: AsyncSession, outgoing: Any, **options: Any) -> None:
        await real_enqueue(session, outgoing, **options)
        raise SimulatedCrash("after the outbox insert, before the commit")

    monkeypatch.setattr(dlq_service, "enqueue_all", crash_after_enqueue)
    with pytest.raises(SimulatedCrash):
        await service(flow).redrive(flow.org, letter.id)
    with pytest.raises(SimulatedCrash):
        await service(flow).redrive_matching(where, 10)
    assert await states(flow, consumer) == [(State.DEAD.value, 0)]
    assert await redrive_msg_ids(flow) == []

    monkeypatch.undo()
    _, sent = await service(flow).redrive(flow.org, letter.id)
    assert sent
    _, again = await service(flow).redrive(flow.org, letter.id)
    assert not again
    assert await states(flow, consumer) == [(State.REDRIVEN.value, 1)]
    assert await redrive_msg_ids(flow) == [f"redrive:{letter.id}:1"]


async def test_two_bulk_redrives_at_once_send_each_dead_letter_once(flow: Flow) -> None:
    consumer = a_consumer()
    await store_many(flow, 40, consumer)
    where = DeadLetterFilter(flow.org, consumer=consumer)
    first, second = await asyncio.gather(
        service(flow).redrive_matching(where, 40), service(flow).redrive_matching(where, 40)
    )
    assert first.redriven + second.redriven == 40
    sent = await redrive_msg_ids(flow)
    assert len(sent) == len(set(sent)) == 40
    assert await states(flow, consumer) == [(State.REDRIVEN.value, 1)] * 40
    again = await service(flow).redrive_matching(where, 40)
    assert (again.redriven, again.remaining) == (0, 0)
    assert len(await redrive_msg_ids(flow)) == 40


async def test_a_purge_deletes_a_page_per_transaction_until_none_match(flow: Flow) -> None:
    purged, kept = a_consumer(), a_consumer()
    await store_many(flow, 5, purged)
    await store_many(flow, 2, kept)
    where = DeadLetterFilter(flow.org, consumer=purged)
    async with flow.executor.svc.runtime.db.transaction() as session:
        assert await rows.purge(session, where, [], 2) == 2  # one page, not every match
    assert await service(flow, purge_batch=2).purge(where) == 3
    assert await states(flow, purged) == []
    assert len(await states(flow, kept)) == 2


async def _plan(session: AsyncSession, query: Select[Any]) -> str:
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    compiled = query.compile(dialect=dialect, compile_kwargs={"literal_binds": True})
    found = await session.execute(text(f"EXPLAIN {compiled}"))
    return "\n".join(row[0] for row in found)


@pytest.mark.parametrize(
    ("consumer", "category", "index"),
    [
        ("executor-jobs-normal", "", "ix_bus_dead_letters_org_id_consumer_dead_lettered_at_id"),
        ("", "timeout", "ix_bus_dead_letters_org_id_error_category_dead_lettered_at_id"),
        # unfiltered, any index led by the organization serves: which one is the planner's pick
        ("", "", "ix_bus_dead_letters_org_id_"),
    ],
)
async def test_each_list_filter_reads_an_index_of_its_own(
    flow: Flow, consumer: str, category: str, index: str
) -> None:
    where = DeadLetterFilter(flow.org, consumer=consumer, error_category=category)
    query = rows.find_query(where, None, 51)
    async with flow.executor.svc.runtime.db.transaction() as session:
        # Current statistics: on a never-analysed table the planner's estimates tie, and which
        # index it picks then depends on what other tests happened to write.
        await session.execute(text(f"ANALYZE {models.BusDeadLetter.__tablename__}"))
        await session.execute(text("SET LOCAL enable_seqscan = off"))
        plan = await _plan(session, query)
    assert index in plan, plan


async def test_a_bulk_redrive_reads_the_index_of_dead_letters_not_redriven(flow: Flow) -> None:
    prefixes = redrivable_prefixes(flow.executor.topology)
    query = rows.lock_dead_query(DeadLetterFilter(flow.org), prefixes, 100)
    async with flow.executor.svc.runtime.db.transaction() as session:
        await session.execute(text("SET LOCAL enable_seqscan = off"))
        plan = await _plan(session, query)
    assert "ix_bus_dead_letters_dead_org_id_dead_lettered_at_id" in plan, plan
