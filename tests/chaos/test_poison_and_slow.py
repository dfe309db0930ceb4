"""Poison messages go to dlq.<durable> while the rest flows; a handler slower than AckWait runs once."""

from __future__ import annotations

import asyncio
import time

from nats.js.api import ConsumerConfig, DeliverPolicy

from beez.kit.bus.headers import DLQ_CONSUMER, DLQ_ERROR, DLQ_ORIGINAL_MSG_ID, DLQ_SUBJECT, MSG_ID, ORG_ID
from tests.chaos.harness import ChaosStack, Ledger, assert_clean, event, webhook_automation

POISON = b"\xff\x00 not a protobuf \xfe"
"""Bytes no consumer can decode: every consumer dead-letters them on the first delivery."""


async def dead_letters(stack: ChaosStack, start_seq: int) -> dict[str, list[tuple[str, dict[str, str]]]]:
    """Dead letters stored since ``start_seq``, by durable: (data, headers)."""
    found: dict[str, list[tuple[str, dict[str, str]]]] = {}
    stream = stack.topology.stream("DLQ")
    sub = await stack.js.pull_subscribe(
        stack.topology.subject("dlq.>"),
        stream=stream,
        config=ConsumerConfig(deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=start_seq),
    )
    try:
        while True:
            try:
                msgs = await sub.fetch(100, timeout=0.5)
            except TimeoutError:
                break
            for msg in msgs:
                durable = msg.subject.rsplit(".", 1)[-1]
                found.setdefault(durable, []).append(
                    (msg.data.decode(errors="replace"), dict(msg.headers or {}))
                )
                await msg.ack()
    finally:
        await sub.unsubscribe()
    return found


async def test_poison_message_on_every_consumer_is_dead_lettered_while_others_flow(stack: ChaosStack) -> None:
    org = "org_poison"
    kind = "chaos.poison"
    await stack.create_automation(org, webhook_automation(kind, stack.receiver.url, delays_s=(0,)))
    start_seq = (await stack.js.stream_info(stack.topology.stream("DLQ"))).state.last_seq + 1
    topology = stack.topology
    targets = {
        "executor-jobs-critical": topology.jobs("critical", org),
        "executor-jobs-high": topology.jobs("high", org),
        "executor-jobs-normal": topology.jobs("normal", org),
        "executor-jobs-low": topology.jobs("low", org),
        "trigger-events": topology.events(org, kind),
        "trigger-automations": topology.automation_changed(org),
        "executor-automations": topology.automation_changed(org),
        "trigger-waits": topology.waits(org, "register"),
        "trigger-executions": topology.executions(org, "completed"),
        "trigger-commands": topology.command(org, "add_tag"),
        "analytics-executions": topology.executions(org, "completed"),
    }
    # the poison comes from the one user allowed to publish each subject (a bug there, not an outsider)
    publishers = {"jobs": "trigger", "events": "platform", "automations": "automation"}
    began = time.monotonic()
    for subject in sorted(set(targets.values())):
        root = subject.split(".")[1]  # after the bus prefix
        js = await stack.js_as(publishers.get(root, "executor"))
        await js.publish(
            subject, POISON, headers={MSG_ID: f"poison:{subject}", ORG_ID: org, "X-Original": subject}
        )
    # everything else flows on: a batch of good events runs to the end meanwhile
    good = [event(f"evt_poison_good_{i}", kind, f"c_{i}") for i in range(20)]
    assert all(await stack.publish_batch(org, good))
    figures = await Ledger(stack, org).settle(len(good), deadline_s=60, webhook_steps=1)
    letters: dict[str, list[tuple[str, dict[str, str]]]] = {}
    for _ in range(100):
        letters = await dead_letters(stack, start_seq)
        if all(letters.get(d) for d in targets):
            break
        await asyncio.sleep(0.2)
    figures.scenario = "poison-every-consumer"
    figures.recovery_s = time.monotonic() - began
    figures.extra = {"dead_lettered": {d: len(letters.get(d, [])) for d in targets}}
    figures.report()
    assert_clean(figures)
    for durable, subject in targets.items():
        (one,) = letters.get(durable) or [("", {})]
        _, headers = one
        assert headers.get(DLQ_CONSUMER) == durable, (durable, headers)
        assert headers.get(DLQ_SUBJECT) == subject, (durable, headers)
        assert headers.get(ORG_ID) == org, (durable, headers)
        assert headers.get("X-Original") == subject, (durable, headers)
        assert headers.get(DLQ_ORIGINAL_MSG_ID) == f"poison:{subject}", (durable, headers)
        assert headers.get(DLQ_ERROR), (durable, headers)


async def test_handler_slower_than_ack_wait_never_runs_twice_at_once(stack: ChaosStack) -> None:
    """The stand-in answers after 5 s, the executor's AckWait is 2 s: heartbeats keep the job."""
    org = "org_slow"
    kind = "chaos.slow"
    await stack.create_automation(org, webhook_automation(kind, f"{stack.receiver.url}/slow", delays_s=(0,)))
    stack.receiver.delay_s = 5.0
    try:
        began = time.monotonic()
        assert all(await stack.publish_batch(org, [event(f"evt_slow_{i}", kind, f"c_{i}") for i in range(4)]))
        figures = await Ledger(stack, org).settle(4, deadline_s=60, webhook_steps=1)
    finally:
        stack.receiver.delay_s = 0.0
    figures.scenario = "slow-handler-vs-ack-wait"
    figures.recovery_s = time.monotonic() - began
    figures.extra = {"max_concurrent_same_key": stack.receiver.max_concurrent_same_key, "ack_wait_s": 2}
    figures.report()
    assert_clean(figures)
    assert stack.receiver.max_concurrent_same_key == 1
    assert figures.redeliveries == 0, figures.line()
