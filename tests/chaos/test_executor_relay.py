"""The executor's outbox relay killed between publishing and marking sent: one delivery in effect.

The executor's outbox carries platform commands, jobs (TIMER, RESUME, RETRY) and the lifecycle.
Each execution here runs ``add_tag`` (a platform command, in the START job's transaction), then
a webhook after a 1 s delay (a timer, whose TIMER job goes out through the outbox), then
completes (a ``completed`` lifecycle event). The scenario taps those subjects on the wire and
kill -9s the executor the moment a message of the targeted kind appears: one target per kind,
each retried in a fresh round until the kill caught rows published but not yet marked sent
(unsent in ``executor.outbox``, yet seen on the wire). Then it restarts the executor.

The books, afterwards:

* every caught row was published again (a second copy on the wire, same ``Nats-Msg-Id``);
* the COMMANDS stream holds exactly one command per idempotency key, one per execution, and
  the EXECUTIONS stream one ``started`` and one ``completed`` event per execution (the
  duplicate window dropped the re-sends);
* analytics counted each execution once, as succeeded;
* every execution completed with exactly one webhook effect (the re-sent TIMER jobs woke
  nothing twice), and no unsent row is left.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from beez.api.messages.v1 import commands_pb2, lifecycle_pb2
from beez.kit.stack import ServiceProcess
from tests.chaos.harness import (
    ChaosStack,
    Ledger,
    analytics_counts,
    assert_clean,
    event,
    stored,
    wire_tap,
)

TARGETS = ("command", "timer_job", "completed")
ROUNDS_PER_TARGET = 4
EVENTS_PER_ROUND = 50


def kind_of(subject: str, msg_id: str) -> str:
    """Which of the executor's outbox messages this is: a TARGET, or another kind."""
    if ".platform.commands." in subject:
        return "command"
    if msg_id.startswith("timer:"):
        return "timer_job"
    if ".executions." in subject:
        return subject.rsplit(".", 1)[-1]
    return "other"


def tag_then_webhook(kind: str, url: str) -> dict[str, Any]:
    return {
        "name": f"chaos {kind}",
        "trigger": {"type": "custom_event", "event": kind},
        "actions": [
            {"id": "tag", "type": "add_tag", "config": {"tag": "chaos"}},
            {
                "id": "hook",
                "type": "webhook",
                "delay": {"value": 1, "unit": "seconds"},
                "config": {"url": f"{url}/relay", "body": {"n": 1}},
            },
        ],
        "settings": {"reentry": "always", "maxConcurrentPerContact": 1000},
    }


def kill_on_first(process: ServiceProcess, target: str, killed: asyncio.Event) -> Callable[[str, str], None]:
    """A tap callback that kill -9s ``process`` at the first copy of a ``target`` message."""

    def on_message(subject: str, msg_id: str) -> None:
        if not killed.is_set() and kind_of(subject, msg_id) == target:
            process.kill()
            killed.set()

    return on_message


def unsent(stack: ChaosStack, org: str) -> set[str]:
    rows = stack.query("SELECT msg_id FROM executor.outbox WHERE org_id = %s AND sent_at IS NULL", org)
    return {str(r[0]) for r in rows}


async def settled_outbox(stack: ChaosStack, org: str, within: float = 15.0) -> set[str]:
    """The rows still unsent once the marks (asynchronous, up to 200 ms after a direct publish)
    and the relay (rows older than 5 s, polled each second) had their time: none, normally."""
    deadline = time.monotonic() + within
    while (left := unsent(stack, org)) and time.monotonic() < deadline:  # noqa: ASYNC110 - a database poll
        await asyncio.sleep(0.25)
    return left


@pytest.mark.chaos
@pytest.mark.timeout(900)
async def test_executor_killed_between_relay_publish_and_mark(stack: ChaosStack) -> None:
    scenario = "executor-relay-kill-between-publish-and-mark"
    began = time.monotonic()
    org = "org_executor_relay_kill"
    kind = "chaos.executor-relay-kill"
    await stack.create_automation(org, tag_then_webhook(kind, stack.receiver.url))
    executor = stack.procs["executor"]
    caught: dict[str, set[str]] = {target: set() for target in TARGETS}
    rounds: Counter[str] = Counter()
    total = 0
    restarted = time.monotonic()
    subjects = (f"platform.commands.{org}.>", f"executions.{org}.>", f"jobs.*.{org}")
    async with wire_tap(stack, *subjects) as tap:
        for target in TARGETS:
            while not caught[target] and rounds[target] < ROUNDS_PER_TARGET:
                rounds[target] += 1
                killed = asyncio.Event()
                tap.on_message = kill_on_first(executor, target, killed)
                batch = [
                    event(f"evt_xrelay_{target}_{rounds[target]}_{i}", kind, f"c_{target}_{i}")
                    for i in range(EVENTS_PER_ROUND)
                ]
                total += len(batch)
                assert all(await stack.publish_batch(org, batch))
                await asyncio.wait_for(killed.wait(), 60)
                tap.on_message = None
                await asyncio.sleep(1.0)  # a COMMIT the server already had lands; the tap catches up
                for msg_id in unsent(stack, org) & set(tap.copies):
                    if (found := kind_of(tap.first[msg_id][0], msg_id)) in caught:
                        caught[found].add(msg_id)
                executor.start()
                await executor.wait_for("SERVING", timeout=60)
                restarted = time.monotonic()
        ledger = Ledger(stack, org)
        figures = await ledger.settle(total, deadline_s=120, webhook_steps=1)
        figures.recovery_s = time.monotonic() - restarted
        analytics = await analytics_counts(stack, org, total)
        left = await settled_outbox(stack, org)
        await asyncio.sleep(1.0)  # the last re-sends reach the tap
    ours = set(ledger.statuses())
    commands = [
        commands_pb2.PlatformCommand.FromString(m.data)
        for m in await stored(stack, "COMMANDS", f"platform.commands.{org}.>")
    ]
    keys = Counter(c.idempotency_key for c in commands)
    lifecycle = [
        (m.subject.rsplit(".", 1)[-1], lifecycle_pb2.ExecutionEvent.FromString(m.data).execution_id)
        for m in await stored(stack, "EXECUTIONS", f"executions.{org}.>")
    ]
    started = Counter(e for k, e in lifecycle if k == "started")
    completed = Counter(e for k, e in lifecycle if k == "completed")
    every_caught: set[str] = set().union(*caught.values())
    figures.scenario = scenario
    figures.extra = {
        "rounds": dict(rounds),
        "published_but_unmarked_at_kill": {t: len(ids) for t, ids in caught.items()},
        "caught_resent": sum(1 for i in every_caught if tap.copies[i] >= 2),
        "commands_stored": len(commands),
        "command_keys_2plus": sum(1 for n in keys.values() if n > 1),
        "completed_stored_2plus": sum(1 for n in completed.values() if n > 1),
        "analytics_total_succeeded": analytics,
        "unsent_left": len(left),
        "wall_s": round(time.monotonic() - began, 1),
    }
    figures.report()
    for target in TARGETS:
        assert caught[target], (
            f"never caught the relay between publish and mark on a {target}: {figures.line()}"
        )
    assert figures.extra["caught_resent"] == len(every_caught), figures.line()
    assert_clean(figures)
    assert figures.effects == total, figures.line()
    assert len(keys) == total and all(n == 1 for n in keys.values()), figures.line()
    assert {c.execution_id for c in commands} == ours, figures.line()
    assert set(started) == ours and all(n == 1 for n in started.values()), figures.line()
    assert set(completed) == ours and all(n == 1 for n in completed.values()), figures.line()
    assert analytics == (total, total), figures.line()
    assert not left, figures.line()
