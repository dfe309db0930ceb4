"""Bulk re-drive: dead letters from a provider outage, re-driven after it ends, one effect each.

The webhook provider hangs (an outage where connections are accepted and never answered). The
executor runs with a job timeout (1 s) shorter than its HTTP timeout, and two handler attempts
per job, so every START job times out twice and is dead-lettered on
``dlq.executor-jobs-normal``, its execution left running at its webhook step with the attempt
committed ``running`` (the sweeper is pushed out of the way, so only a re-drive can finish it).
The ``executor-dlq`` consumer stores the dead letters; the provider comes back; the organization's
dead letters are re-driven in batches through ``RedriveDeadLetters``, as ``beez dlq redrive
--all`` does. A job that dead-letters again (a timeout under the re-drive's own load) is
re-driven in a next round; the rounds are reported.

The books: every execution completed with exactly one effect (one idempotency key, one key per
execution: the re-driven START reuses the ``running`` attempt and its key, so no step ran under
two keys); each dead letter was published once (one ``redrive:<id>:1`` on the wire); a second
bulk re-drive finds nothing to send. ``keys_answered_twice`` counts keys the provider saw again
after the outage (a re-driven job that timed out once more under load and was redelivered): the
same key, which a deduplicating provider drops; it is reported, not forbidden. This is decision
0029's figure.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import pytest

from beez.api.executor.v1 import dead_letters_pb2 as pb
from beez.api.executor.v1 import dead_letters_pb2_grpc
from tests.chaos.harness import KEY, ChaosStack, Ledger, chaos_stack, event, meta, wire_tap

OUTAGE_ENV = {
    "BEEZ_JOB_TIMEOUT_S": "1",
    "BEEZ_JOB_MAX_DELIVER": "2",
    "BEEZ_JOB_CONCURRENCY": "200",
    "BEEZ_ACTIONS__HTTP_TIMEOUT_S": "120",
    "BEEZ_ACTIONS__HTTP_BREAKER_FAILURES": "0",
    "BEEZ_SWEEPER_STALE_AFTER_S": "3600",
}
"""A hanging provider makes every START job time out into the DLQ, and nothing else finishes it."""


def hook_automation(kind: str, url: str) -> dict[str, object]:
    return {
        "name": f"chaos {kind}",
        "trigger": {"type": "custom_event", "event": kind},
        "actions": [
            {"id": "hook", "type": "webhook", "config": {"url": f"{url}/slow/hook", "body": {"n": 1}}}
        ],
        "settings": {"reentry": "always", "maxConcurrentPerContact": 1000},
    }


async def dead(stub: dead_letters_pb2_grpc.DeadLetterServiceStub, org: str) -> int:
    """The organization's stored dead letters not re-driven yet."""
    count, token = 0, ""
    while True:
        page = await stub.ListDeadLetters(
            pb.ListDeadLettersRequest(state=pb.DEAD_LETTER_STATE_DEAD, page_size=200, page_token=token),
            metadata=meta(org),
        )
        count += len(page.dead_letters)
        token = page.next_page_token
        if not token:
            return count


async def wait_for_dead(
    stub: dead_letters_pb2_grpc.DeadLetterServiceStub, org: str, at_least: int, deadline_s: float
) -> int:
    deadline = time.monotonic() + deadline_s
    found = 0
    while time.monotonic() < deadline:
        found = await dead(stub, org)
        if found >= at_least:
            return found
        await asyncio.sleep(0.5)
    return found


async def settled_or_dead_again(
    ledger: Ledger,
    stub: dead_letters_pb2_grpc.DeadLetterServiceStub,
    org: str,
    executions: int,
    deadline_s: float,
) -> bool:
    """Waits until every execution completed (True), or each one that did not has its job stored
    as a dead letter again (False: another round is due)."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        completed = sum(1 for s in ledger.statuses().values() if s == "completed")
        if completed == executions:
            return True
        if completed + await dead(stub, org) >= executions:
            return False
        await asyncio.sleep(0.5)
    return False


async def bulk_redrive(stub: dead_letters_pb2_grpc.DeadLetterServiceStub, org: str) -> tuple[int, int]:
    """Re-drives every dead letter of ``org`` in batches of 100; (re-driven, requests)."""
    total = calls = 0
    while True:
        done = await stub.RedriveDeadLetters(
            pb.RedriveDeadLettersRequest(consumer="executor-jobs-normal", limit=100), metadata=meta(org)
        )
        calls += 1
        total += done.redriven
        if not done.remaining or not done.redriven:
            return total, calls


async def redrive_after_outage(stack: ChaosStack, executions: int, scenario: str) -> None:
    org = f"org_{scenario.replace('-', '_')}"
    kind = f"chaos.{scenario}"
    receiver = stack.receiver
    receiver.delay_s = 3600.0  # the outage: /slow requests hang until the caller gives up
    await stack.create_automation(org, hook_automation(kind, receiver.url))
    events = [event(f"evt_{scenario}_{i}", kind, f"c_{i}") for i in range(executions)]
    for chunk in range(0, executions, 100):
        assert all(await stack.publish_batch(org, events[chunk : chunk + 100]))
    async with stack.channel("executor") as channel, wire_tap(stack, "jobs.>") as tap:
        stub = dead_letters_pb2_grpc.DeadLetterServiceStub(channel)
        started = time.monotonic()
        stored = await wait_for_dead(stub, org, executions, deadline_s=60 + executions * 0.3)
        dead_lettered_s = time.monotonic() - started
        assert stored == executions, f"{stored} of {executions} START jobs dead-lettered"
        ledger = Ledger(stack, org)
        assert set(ledger.statuses().values()) <= {"running"}
        hung = len([k for k in receiver.requests if k])

        receiver.delay_s = 0.0  # the provider is back
        recovered = time.monotonic()
        rounds, redriven, calls = 0, 0, 0
        while rounds < 5:
            rounds += 1
            count, requests = await bulk_redrive(stub, org)
            redriven, calls = redriven + count, calls + requests
            if await settled_or_dead_again(ledger, stub, org, executions, deadline_s=30 + executions * 0.1):
                break
        redrive_s = time.monotonic() - recovered
        again = await stub.RedriveDeadLetters(pb.RedriveDeadLettersRequest(), metadata=meta(org))

    figures = await ledger.settle(executions, deadline_s=30)
    figures.scenario = scenario
    figures.recovery_s = redrive_s
    ours = set(ledger.statuses())
    answered = [k for k in receiver.answered if (m := KEY.match(k)) and m["execution"] in ours]
    twice = sum(1 for n in Counter(answered).values() if n > 1)
    published = [msg_id for msg_id in tap.copies if msg_id.startswith("redrive:")]
    figures.extra = {
        "dead_lettered": stored,
        "dead_lettered_s": round(dead_lettered_s, 1),
        "requests_during_outage": hung,
        "redriven": redriven,
        "redrive_rounds": rounds,
        "redrive_requests": calls,
        "answered_keys": len(set(answered)),
        "redrive_messages": len(published),
        "keys_answered_twice": twice,
        "second_bulk_redrive": again.redriven,
    }
    figures.report()
    assert figures.by_status == {"completed": executions}, figures.line()
    assert len(set(answered)) == executions == figures.effects, figures.line()
    assert len(published) == redriven, figures.line()  # one message per re-drive, none twice
    assert figures.step_duplicates == 0, figures.line()
    assert again.redriven == 0 and again.remaining == 0, figures.line()


@pytest.mark.chaos  # ~90 s with its own stack: make chaos (decision 0029's figure)
@pytest.mark.timeout(600)
async def test_bulk_redrive_after_a_provider_outage_quick() -> None:
    async with chaos_stack(executor_env=OUTAGE_ENV) as stack:
        await redrive_after_outage(stack, executions=50, scenario="bulk-redrive-quick")


@pytest.mark.chaos
@pytest.mark.timeout(1800)
async def test_bulk_redrive_after_a_provider_outage_thousand() -> None:
    async with chaos_stack(executor_env=OUTAGE_ENV) as stack:
        await redrive_after_outage(stack, executions=1000, scenario="bulk-redrive-thousand")
