"""A START job that exhausts its deliveries leaves its execution ``running`` with nothing driving it.

The webhook stand-in answers slower than the executor's job timeout, so every delivery of the
START job times out inside the action call, and after ``job_max_deliver`` the job goes to
``dlq.executor-jobs-normal``. The execution row exists (``running``, its attempt ``running``)
and holds the contact's concurrency slot in the trigger. Then the stand-in recovers.

Without the sweeper (control case) the execution stays ``running`` for good. With it
(docs/decisions/0005) the sweeper hands the execution to a RESUME job, which retries the step
under the same idempotency key: one effect, the execution completes, the slot is freed and the
contact's next event starts a new execution.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from nats.js.api import ConsumerConfig, DeliverPolicy

from tests.chaos.harness import ChaosStack, Ledger, assert_clean, chaos_stack, event, webhook_automation

CONTACTS = 3


async def dead_lettered_jobs(stack: ChaosStack) -> int:
    sub = await stack.js.pull_subscribe(
        stack.topology.subject("dlq.executor-jobs-normal"),
        stream=stack.topology.stream("DLQ"),
        config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL),
    )
    count = 0
    try:
        while True:
            try:
                count += len(await sub.fetch(100, timeout=0.5))
            except TimeoutError:
                return count
    finally:
        await sub.unsubscribe()


async def slots_released(stack: ChaosStack, timeout: float = 10.0) -> None:
    """Waits until the trigger holds no concurrency slot any more."""
    deadline = time.monotonic() + timeout
    while stack.query("SELECT count(*) FROM trigger.concurrency_slots")[0][0]:
        assert time.monotonic() < deadline, "the trigger never released the slots"
        await asyncio.sleep(0.05)


async def orphaned_start(sweeper: bool) -> None:
    scenario = "orphaned-start-" + ("sweeper" if sweeper else "control")
    env = {
        "BEEZ_JOB_TIMEOUT_S": "2",
        "BEEZ_JOB_MAX_DELIVER": "2",
        "BEEZ_JOB_ACK_WAIT_S": "1",
        "BEEZ_SWEEPER_STALE_AFTER_S": "4" if sweeper else "100000",
    }
    async with chaos_stack(delay_s=6.0, executor_env=env) as stack:
        org = "org_orphans"
        kind = "chaos.orphans"
        doc = webhook_automation(
            kind, f"{stack.receiver.url}/slow", delays_s=(0,), settings={"maxConcurrentPerContact": 1}
        )
        await stack.create_automation(org, doc)
        first = [event(f"evt_orphan_{i}", kind, f"c_{i}") for i in range(CONTACTS)]
        assert all(await stack.publish_batch(org, first))
        for _ in range(120):
            if await dead_lettered_jobs(stack) >= CONTACTS:
                break
            await asyncio.sleep(0.5)
        dead = await dead_lettered_jobs(stack)
        stack.receiver.delay_s = 0.0
        recovered = time.monotonic()
        ledger = Ledger(stack, org)
        figures = await ledger.settle(CONTACTS, deadline_s=40 if sweeper else 15, webhook_steps=1)
        figures.recovery_s = time.monotonic() - recovered
        figures.scenario = scenario
        figures.extra = {"start_jobs_dead_lettered": dead}
        second = [event(f"evt_orphan_again_{i}", kind, f"c_{i}") for i in range(CONTACTS)]
        if not sweeper:
            await stack.publish_batch(org, second)
            await asyncio.sleep(3.0)
            figures.extra["second_events_started"] = len(ledger.statuses()) - CONTACTS
            figures.report()
            assert dead == CONTACTS
            assert figures.stuck == CONTACTS, figures.line()  # the bug the sweeper fixes
            assert figures.extra["second_events_started"] == 0  # and the slots stay held
            return
        # the slots are free again (once the trigger has applied the COMPLETED events, which it
        # does asynchronously): each contact's next event starts a new execution
        await slots_released(stack)
        accepted = await stack.publish_batch(org, second)
        again = await ledger.settle(2 * CONTACTS, deadline_s=40, webhook_steps=1)
        again.scenario, again.recovery_s = scenario, figures.recovery_s
        again.extra = {**figures.extra, "second_events_accepted": sum(accepted)}
        again.report()
        assert dead == CONTACTS
        assert_clean(again)
        assert again.effects == 2 * CONTACTS, again.line()


@pytest.mark.chaos
@pytest.mark.timeout(300)
async def test_dead_lettered_start_is_re_driven_by_the_sweeper() -> None:
    await orphaned_start(sweeper=True)


@pytest.mark.chaos
@pytest.mark.timeout(300)
async def test_dead_lettered_start_without_sweeper_stays_running_control() -> None:
    await orphaned_start(sweeper=False)
