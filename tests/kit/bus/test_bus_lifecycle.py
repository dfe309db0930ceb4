"""The consumer lifecycle every service shares: start, drain on cancellation (SIGTERM), stop."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from nats.aio.msg import Msg
from nats.js import JetStreamContext

from beez.kit.bus import PullWorker, Topology
from beez.kit.bus.lifecycle import run_workers
from beez.kit.bus.worker import Handler


def jobs_worker(
    js: JetStreamContext, topology: Topology, durable: str, handler: Handler, **options: Any
) -> PullWorker:
    return PullWorker(
        js, topology, stream="JOBS", durable=durable, subjects=f"jobs.{durable}.>", handler=handler, **options
    )


async def ack_pending(js: JetStreamContext, topology: Topology, durable: str) -> int:
    for _ in range(50):  # the server applies acks asynchronously
        info = await js.consumer_info(topology.stream("JOBS"), durable)
        if info.num_ack_pending == 0:
            break
        await asyncio.sleep(0.02)
    return int(info.num_ack_pending)


async def test_cancelling_the_loop_lets_every_worker_finish_and_ack_its_handlers(
    js: JetStreamContext, topology: Topology
) -> None:
    started = {"high": asyncio.Event(), "low": asyncio.Event()}
    finished: list[str] = []

    def slowish(name: str) -> Handler:
        async def handle(msg: Msg) -> None:
            started[name].set()
            await asyncio.sleep(0.3)
            finished.append(name)

        return handle

    workers = [jobs_worker(js, topology, name, slowish(name)) for name in started]
    loop = asyncio.create_task(run_workers(workers, drain_s=5.0))
    for name in started:
        await js.publish(topology.jobs(name, "acme"), b"x")
    await asyncio.wait_for(asyncio.gather(*(event.wait() for event in started.values())), 5)

    loop.cancel()  # what the server does to its background loops on SIGTERM
    with pytest.raises(asyncio.CancelledError):
        await loop
    assert sorted(finished) == ["high", "low"]  # drained, not cancelled
    assert [w.stats.processed for w in workers] == [1, 1]
    assert [await ack_pending(js, topology, name) for name in started] == [0, 0]


async def test_a_handler_outlasting_the_drain_is_cancelled_and_left_for_redelivery(
    js: JetStreamContext, topology: Topology
) -> None:
    started = asyncio.Event()
    cancelled = asyncio.Event()

    async def stuck(msg: Msg) -> None:
        started.set()
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    worker = jobs_worker(js, topology, "low", stuck)
    loop = asyncio.create_task(run_workers([worker], drain_s=0.2))
    await js.publish(topology.jobs("low", "acme"), b"x")
    await asyncio.wait_for(started.wait(), 5)
    loop.cancel()
    async with asyncio.timeout(5):
        with pytest.raises(asyncio.CancelledError):
            await loop
    assert cancelled.is_set()
    assert worker.stats.processed == 0
    assert await ack_pending(js, topology, "low") == 1  # not acked: redelivered after ack_wait


async def test_a_worker_that_fails_stops_its_siblings_before_the_loop_raises(
    js: JetStreamContext, topology: Topology
) -> None:
    async def nothing(msg: Msg) -> None:
        return None

    healthy = jobs_worker(js, topology, "high", nothing)
    broken = jobs_worker(js, topology, "low", nothing)

    async def fail() -> None:
        raise RuntimeError("boom")

    broken.run = fail  # type: ignore[method-assign]
    async with asyncio.timeout(10):
        with pytest.raises(RuntimeError, match="boom"):
            await run_workers([healthy, broken], drain_s=1.0)
    await js.publish(topology.jobs("high", "acme"), b"x")
    await asyncio.sleep(0.3)
    assert healthy.stats.processed == 0  # stopped with its sibling, not left running
