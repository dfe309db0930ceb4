"""Oversized messages (issue #12, decision 0026): refused at the edge, parked in the outbox.

A workflow and an event sized just over their limits are each refused with INVALID_ARGUMENT
naming the limit, and nothing of them is stored. A message over the server's ``max_payload``
forced straight into the trigger's outbox (as a bug or a lowered server limit could leave one)
is parked by the relay, while another organization's events, published right after it, all run
to completion through that same outbox.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import grpc
import pytest
from google.protobuf import json_format

from beez.api.automation.v1 import automation_pb2, automation_pb2_grpc
from beez.api.messages.v1 import events_pb2
from beez.api.trigger.v1 import trigger_pb2, trigger_pb2_grpc
from beez.api.workflow.v1 import workflow_pb2
from beez.kit.bus.limits import event_limit, workflow_limit
from tests.automation.support import violations
from tests.chaos.harness import ChaosStack, Ledger, assert_clean, event, meta, webhook_automation


def workflow_over(limit: int, url: str) -> dict[str, Any]:
    """A legal webhook workflow whose serialized size is just over ``limit`` bytes."""
    doc = webhook_automation("chaos.oversized-workflow", url, delays_s=(0,))
    chunk = 1000
    doc["actions"][0]["config"]["body"] = {f"k{i}": "x" * chunk for i in range(limit // chunk + 1)}
    return doc


async def relayed(stack: ChaosStack, row_id: int, within_s: float = 30.0) -> tuple[Any, Any, Any]:
    """``(parked_at, park_error, sent_at)`` of an outbox row once the relay has dealt with it
    (the relay takes rows the direct publish left behind once they are 5 s old)."""
    deadline = time.monotonic() + within_s
    while True:
        [row] = stack.query("SELECT parked_at, park_error, sent_at FROM trigger.outbox WHERE id = %s", row_id)
        if row[0] is not None or row[2] is not None or time.monotonic() > deadline:
            return row
        await asyncio.sleep(0.25)


async def oversized(stack: ChaosStack, events: int, scenario: str) -> None:
    quiet, big = f"org_{scenario.replace('-', '_')}", f"org_{scenario.replace('-', '_')}_big"
    kind = f"chaos.{scenario}"
    assert stack.nc is not None
    max_payload = stack.nc.max_payload
    await stack.create_automation(quiet, webhook_automation(kind, stack.receiver.url, delays_s=(0,)))
    await stack.create_automation(big, webhook_automation(kind, stack.receiver.url, delays_s=(0,)))

    over_workflow = workflow_over(workflow_limit(max_payload), stack.receiver.url)
    async with stack.channel("automation") as ch:
        with pytest.raises(grpc.aio.AioRpcError) as refused_workflow:
            await automation_pb2_grpc.AutomationServiceStub(ch).CreateAutomation(
                automation_pb2.CreateAutomationRequest(
                    automation=json_format.ParseDict(over_workflow, workflow_pb2.Workflow()), active=True
                ),
                metadata=meta(big),
            )
    assert refused_workflow.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violations(refused_workflow.value) == [
        ("workflow", f"is larger than {workflow_limit(max_payload)} bytes")
    ]

    big_event = event(f"evt_{scenario}_big", kind, "c_big", blob="x" * event_limit(max_payload))
    async with stack.channel("trigger") as ch:
        with pytest.raises(grpc.aio.AioRpcError) as refused_event:
            await trigger_pb2_grpc.EventServiceStub(ch).PublishEvents(
                trigger_pb2.PublishEventsRequest(
                    events=[json_format.ParseDict(big_event, events_pb2.Event())]
                ),
                metadata=meta(big),
            )
    assert refused_event.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    [(field, reason)] = violations(refused_event.value)
    assert field.startswith("events[0]") and str(event_limit(max_payload)) in reason, (field, reason)

    [(forced,)] = stack.query(
        "INSERT INTO trigger.outbox (subject, payload, org_id) VALUES (%s, %s, %s) RETURNING id",
        stack.topology.jobs("normal", big),
        b"x" * (max_payload + 1),
        big,
    )
    started = time.monotonic()
    docs = [event(f"evt_{scenario}_{i}", kind, f"c_{i}") for i in range(events)]
    for chunk in range(0, events, 100):
        assert all(await stack.publish_batch(quiet, docs[chunk : chunk + 100]))
    figures = await Ledger(stack, quiet).settle(events, deadline_s=60 + events * 0.1, webhook_steps=1)
    figures.recovery_s = time.monotonic() - started
    parked_at, park_error, sent_at = await relayed(stack, forced)
    [(unsent_behind,)] = stack.query(
        "SELECT count(*) FROM trigger.outbox WHERE id > %s AND sent_at IS NULL AND parked_at IS NULL", forced
    )
    figures.scenario = scenario
    figures.extra = {
        "workflow_limit": workflow_limit(max_payload),
        "event_limit": event_limit(max_payload),
        "forced_row_parked": parked_at is not None,
        "unsent_behind_it": unsent_behind,
        "big_org_executions": len(Ledger(stack, big).statuses()),
    }
    figures.report()
    assert_clean(figures)
    assert parked_at is not None and sent_at is None, figures.line()
    assert "max_payload" in str(park_error)
    assert unsent_behind == 0, figures.line()
    assert figures.extra["big_org_executions"] == 0


async def test_oversized_refused_at_the_edge_and_parked_in_the_outbox_quick(stack: ChaosStack) -> None:
    await oversized(stack, events=50, scenario="oversized-quick")


@pytest.mark.chaos
async def test_oversized_refused_at_the_edge_and_parked_in_the_outbox(stack: ChaosStack) -> None:
    await oversized(stack, events=1000, scenario="oversized-1000")
