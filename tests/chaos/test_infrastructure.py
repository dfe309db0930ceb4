"""nats-server and PostgreSQL restarted under load; the outbox relay killed between publish and mark.

Under load means: events keep arriving over gRPC (a client retrying UNAVAILABLE with the same
event ids, as any producer must) while executions with a delay and a webhook run. During the
outage every service must report NOT_SERVING; afterwards they must come back to SERVING by
themselves, and the ledger must balance.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import grpc
import pytest

from tests.chaos.harness import ChaosStack, Ledger, assert_clean, chaos_stack, event, webhook_automation


async def keep_publishing(
    stack: ChaosStack, org: str, docs: list[dict[str, Any]], per_batch: int = 20
) -> int:
    """Publishes ``docs`` in batches, retrying a failed batch with the same ids; returns retries."""
    retries = 0
    for chunk in range(0, len(docs), per_batch):
        while True:
            try:
                await stack.publish_batch(org, docs[chunk : chunk + per_batch])
                break
            except grpc.aio.AioRpcError:
                retries += 1
                await asyncio.sleep(0.3)
        await asyncio.sleep(0.1)
    return retries


async def all_report(stack: ChaosStack, status: str, timeout: float) -> float:
    """Seconds until every service reports ``status``."""
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        states = await asyncio.gather(*(p.health() for p in stack.procs.values()))
        if all(s == status for s in states):
            return time.monotonic() - began
        await asyncio.sleep(0.1)
    states = await asyncio.gather(*(p.health() for p in stack.procs.values()))
    raise AssertionError(f"not all {status} after {timeout}s: {dict(zip(stack.procs, states, strict=True))}")


async def restart_under_load(
    scenario: str, kill: Callable[[ChaosStack], object], start: Callable[[ChaosStack], object], events: int
) -> None:
    async with chaos_stack() as stack:
        org = f"org_{scenario.replace('-', '_')}"
        kind = f"chaos.{scenario}"
        await stack.create_automation(org, webhook_automation(kind, stack.receiver.url, delays_s=(1,)))
        docs = [event(f"evt_{scenario}_{i}", kind, f"c_{i}") for i in range(events)]
        publisher = asyncio.create_task(keep_publishing(stack, org, docs))
        await asyncio.sleep(3.0)
        kill(stack)
        not_serving_after = await all_report(stack, "NOT_SERVING", timeout=20)
        await asyncio.sleep(3.0)
        start(stack)
        restarted = time.monotonic()
        serving_after = await all_report(stack, "SERVING", timeout=60)
        retries = await publisher
        figures = await Ledger(stack, org).settle(events, deadline_s=180, webhook_steps=1)
        figures.scenario = scenario
        figures.recovery_s = time.monotonic() - restarted
        figures.extra = {
            "not_serving_after_s": round(not_serving_after, 2),
            "serving_again_after_s": round(serving_after, 2),
            "publish_retries": retries,
        }
        figures.report()
        assert_clean(figures)
        assert figures.effects == events, figures.line()


@pytest.mark.chaos
@pytest.mark.timeout(900)
async def test_nats_server_restart_mid_load() -> None:
    await restart_under_load(
        "nats-restart", lambda s: s.nats_server.kill(), lambda s: s.nats_server.start(), events=400
    )


@pytest.mark.chaos
@pytest.mark.timeout(900)
async def test_postgres_restart_mid_load() -> None:
    await restart_under_load("postgres-restart", lambda s: s.pg.kill(), lambda s: s.pg.start(), events=400)


@pytest.mark.chaos
@pytest.mark.timeout(600)
async def test_trigger_killed_between_relay_publish_and_mark(stack: ChaosStack) -> None:
    """Watches the JOBS subjects on the wire and kill -9s the trigger the moment a START job
    appears, so its relay has published rows it has not yet marked sent. Counts those rows
    (unsent in trigger.outbox but seen on the wire), restarts, and checks one execution and one
    effect per event: the relay re-sends them with the same Nats-Msg-Id and the stream (or the
    executor's execution key) drops the copy."""
    scenario = "relay-kill-between-publish-and-mark"
    org = "org_relay_kill"
    kind = "chaos.relay-kill"
    await stack.create_automation(org, webhook_automation(kind, stack.receiver.url, delays_s=(0,)))
    assert stack.nc is not None
    seen: set[str] = set()
    fired = asyncio.Event()

    async def on_job(msg: Any) -> None:
        msg_id = (msg.headers or {}).get("Nats-Msg-Id", "")
        if msg_id.startswith("start:"):
            seen.add(msg_id)
            fired.set()

    sub = await stack.nc.subscribe(stack.topology.subject(f"jobs.*.{org}"), cb=on_job)
    trigger = stack.procs["trigger"]
    caught = 0
    rounds = 0
    restarted = time.monotonic()
    total = 0
    try:
        while caught == 0 and rounds < 6:
            rounds += 1
            fired.clear()
            docs = [event(f"evt_relay_{rounds}_{i}", kind, f"c_{rounds}_{i}") for i in range(50)]
            total += len(docs)
            publishing = asyncio.create_task(stack.publish_batch(org, docs))
            await asyncio.wait_for(fired.wait(), 30)
            trigger.kill()
            rows = stack.query(
                "SELECT msg_id FROM trigger.outbox WHERE sent_at IS NULL AND msg_id LIKE 'start:%%'"
            )
            caught += len({str(r[0]) for r in rows} & seen)
            try:
                await publishing
            except grpc.aio.AioRpcError:
                await asyncio.sleep(0)
            trigger.start()
            await trigger.wait_for("SERVING", timeout=60)
            restarted = time.monotonic()
            # the batch's RPC may have died with the trigger: send it again, same ids
            await stack.publish_batch(org, docs)
    finally:
        await sub.unsubscribe()
    figures = await Ledger(stack, org).settle(total, deadline_s=120, webhook_steps=1)
    figures.scenario = scenario
    figures.recovery_s = time.monotonic() - restarted
    figures.extra = {"rounds": rounds, "published_but_unmarked_at_kill": caught}
    figures.report()
    assert caught > 0, "never caught the relay between publish and mark"
    assert_clean(figures)
    assert figures.effects == total, figures.line()
