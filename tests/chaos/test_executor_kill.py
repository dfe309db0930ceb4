"""kill -9 the executor at random points while executions with delays and webhooks are in flight.

One kill is placed inside a webhook call (after the receiver got it, before the executor
could commit the result), the others at random moments.

Then restart it: every execution ends, each webhook step has exactly one effect (one
idempotency key, however often it was sent), and no step was performed under two keys.
"""

from __future__ import annotations

import asyncio
import random
import time

import pytest

from tests.chaos.harness import ChaosStack, Ledger, assert_clean, chaos_stack, event, webhook_automation


async def kill_executor_repeatedly(
    stack: ChaosStack, executions: int, kills: int, scenario: str, seed: int
) -> None:
    rng = random.Random(seed)
    org = f"org_{scenario.replace('-', '_')}"
    kind = f"chaos.{scenario}"
    await stack.create_automation(org, webhook_automation(kind, stack.receiver.url, delays_s=(1, 2)))
    events = [event(f"evt_{scenario}_{i}", kind, f"c_{i}") for i in range(executions)]
    accepted: list[bool] = []
    for chunk in range(0, executions, 100):
        accepted += await stack.publish_batch(org, events[chunk : chunk + 100])
    assert all(accepted)
    executor = stack.procs["executor"]
    # The first kill lands inside a webhook call: the stand-in got the request, the executor
    # never gets the answer, so the result is never committed and the step is sent again.
    in_call: list[str] = []

    def kill_in_call(key: str) -> None:
        if not in_call and len(stack.receiver.requests) >= executions // 4:
            in_call.append(key)
            executor.kill()

    stack.receiver.on_request = kill_in_call
    for _ in range(200):
        if in_call:
            break
        await asyncio.sleep(0.1)
    stack.receiver.on_request = None
    assert in_call, "the in-call kill never happened"
    executor.start()
    await executor.wait_for("SERVING", timeout=60)
    for _ in range(kills):
        await asyncio.sleep(rng.uniform(0.3, 2.5))
        executor.kill()
        await asyncio.sleep(rng.uniform(0.0, 1.0))
        executor.start()
        await executor.wait_for("SERVING", timeout=60)
    restarted = time.monotonic()
    figures = await Ledger(stack, org).settle(executions, deadline_s=60 + executions * 0.4, webhook_steps=2)
    figures.scenario = scenario
    figures.recovery_s = time.monotonic() - restarted
    figures.extra = {"kills": kills + 1, "in_call_key_sent": stack.receiver.requests.count(in_call[0])}
    figures.report()
    assert_clean(figures)
    assert figures.effects == 2 * executions, figures.line()
    assert figures.extra["in_call_key_sent"] >= 2, figures.line()  # sent again, under the same key


async def test_executor_kill_9_quick(stack: ChaosStack) -> None:
    await kill_executor_repeatedly(stack, executions=40, kills=1, scenario="executor-kill-quick", seed=1)


@pytest.mark.chaos
@pytest.mark.timeout(1200)
async def test_executor_kill_9_thousand() -> None:
    async with chaos_stack() as stack:
        await kill_executor_repeatedly(stack, executions=1000, kills=8, scenario="executor-kill-1000", seed=7)
