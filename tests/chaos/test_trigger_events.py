"""The trigger killed mid-batch, and the same event published again and again: one execution each."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections import Counter
from typing import Any

import pytest
from google.protobuf import json_format

from beez.api.messages.v1 import events_pb2
from beez.kit.bus.headers import MSG_ID, ORG_ID
from beez.kit.bus.permissions import PLATFORM
from tests.chaos.harness import ChaosStack, Ledger, assert_clean, chaos_stack, event, webhook_automation


async def publish_on_stream(stack: ChaosStack, org: str, doc: dict[str, Any], msg_id: str) -> bool:
    """Publishes straight on ``events.<org>.<type>``; True when the stream stored it (not a duplicate)."""
    body = json_format.ParseDict(doc, events_pb2.Event()).SerializeToString()
    js = await stack.js_as(PLATFORM)
    ack = await js.publish(
        stack.topology.events(org, doc["type"]), body, headers={MSG_ID: msg_id, ORG_ID: org}
    )
    return not ack.duplicate


def executions_per_event(stack: ChaosStack, org: str) -> Counter[str]:
    rows = stack.query("SELECT trigger_event_id FROM executor.executions WHERE org_id = %s", org)
    return Counter(str(r[0]) for r in rows)


async def kill_trigger_mid_batch(stack: ChaosStack, events: int, scenario: str) -> None:
    org = f"org_{scenario.replace('-', '_')}"
    kind = f"chaos.{scenario}"
    await stack.create_automation(org, webhook_automation(kind, stack.receiver.url, delays_s=(0,)))
    docs = [event(f"evt_{scenario}_{i}", kind, f"c_{i}") for i in range(events)]
    trigger = stack.procs["trigger"]
    publishing = asyncio.gather(*(publish_on_stream(stack, org, d, d["id"]) for d in docs))
    stream = stack.topology.stream("EVENTS")
    for _ in range(400):  # kill it once it has begun on this batch, mid-way
        info = await stack.js.consumer_info(stream, "trigger-events")
        if info.ack_floor.stream_seq > 0 and info.num_pending > events // 3:
            break
        await asyncio.sleep(0.01)
    trigger.kill()
    pending_at_kill = (await stack.js.consumer_info(stream, "trigger-events")).num_pending
    await publishing
    trigger.start()
    await trigger.wait_for("SERVING", timeout=60)
    restarted = time.monotonic()
    figures = await Ledger(stack, org).settle(events, deadline_s=60 + events * 0.25, webhook_steps=1)
    figures.recovery_s = time.monotonic() - restarted
    # The whole batch again, over gRPC, with the same ids: nothing is new.
    again: list[bool] = []
    for chunk in range(0, events, 100):
        again += await stack.publish_batch(org, docs[chunk : chunk + 100])
    await asyncio.sleep(1.0)
    per_event = executions_per_event(stack, org)
    figures.scenario = scenario
    figures.extra = {
        "pending_at_kill": pending_at_kill,
        "republished_accepted": sum(again),
        "events_without_execution": sum(1 for d in docs if per_event[d["id"]] == 0),
        "events_with_2plus": sum(1 for n in per_event.values() if n > 1),
    }
    figures.report()
    assert_clean(figures)
    assert sum(again) == 0, figures.line()
    assert all(per_event[d["id"]] == 1 for d in docs), figures.line()
    assert len(executions_per_event(stack, org)) == events


@pytest.mark.chaos  # make test keeps the duplicate-window scenario; kill -9 runs in make chaos
async def test_trigger_kill_9_mid_batch_quick(stack: ChaosStack) -> None:
    await kill_trigger_mid_batch(stack, events=80, scenario="trigger-kill-quick")


@pytest.mark.chaos
@pytest.mark.timeout(1800)
async def test_trigger_kill_9_mid_batch_large() -> None:
    async with chaos_stack() as stack:
        await kill_trigger_mid_batch(stack, events=2000, scenario="trigger-kill-2000")


async def test_same_event_three_times_inside_and_outside_the_duplicate_window(stack: ChaosStack) -> None:
    """Copy 2 falls inside the stream's duplicate window (dropped by JetStream); copy 3 comes after
    the window (shortened to 1 s for the test) and is stored, so the trigger's event key must
    catch it; a 4th copy over gRPC with the same event id is answered ``accepted=false``."""
    scenario = "same-event-3x"
    org = "org_same_event"
    kind = "chaos.same-event"
    await stack.create_automation(org, webhook_automation(kind, stack.receiver.url, delays_s=(0,)))
    stream = stack.topology.stream("EVENTS")
    info = await stack.js.stream_info(stream)
    original = info.config.duplicate_window
    await stack.js.update_stream(dataclasses.replace(info.config, duplicate_window=1.0))
    try:
        doc = event("evt_same_1", kind, "c_same")
        stored = [await publish_on_stream(stack, org, doc, doc["id"])]
        stored.append(await publish_on_stream(stack, org, doc, doc["id"]))
        await asyncio.sleep(1.5)
        stored.append(await publish_on_stream(stack, org, doc, doc["id"]))
    finally:
        info = await stack.js.stream_info(stream)
        await stack.js.update_stream(dataclasses.replace(info.config, duplicate_window=original))
    (grpc_accepted,) = await stack.publish_batch(org, [doc])
    figures = await Ledger(stack, org).settle(1, deadline_s=30, webhook_steps=1)
    await asyncio.sleep(1.0)  # a late second execution would show up here
    figures = await Ledger(stack, org).settle(1, deadline_s=30, webhook_steps=1)
    figures.scenario = scenario
    figures.extra = {"stream_stored": stored, "grpc_accepted": grpc_accepted}
    figures.report()
    assert stored == [True, False, True]
    assert not grpc_accepted
    assert_clean(figures)
    assert figures.effects == 1
