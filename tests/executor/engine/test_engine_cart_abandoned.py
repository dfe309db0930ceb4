"""cart_abandoned through the executor: the actions run only when no checkout comes in time."""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Any

from beez.api.messages.v1 import jobs_pb2, lifecycle_pb2
from beez.workflow.triggering import CART_CHECKED_OUT_ID, CART_WAIT_ID
from tests.executor.engine import fakes
from tests.executor.engine.conftest import Flow, step_ids
from tests.executor.samples import event_json

CART_RESCUE: dict[str, Any] = {
    "trigger": {"type": "cart_abandoned", "config": {"within": {"value": 2, "unit": "hours"}}},
    "actions": [{"id": "remind", "type": "test_record", "config": {"text": "your cart misses you"}}],
}


async def test_a_checkout_within_the_window_ends_the_execution_before_the_actions(
    flow: Flow, provider: fakes.Provider
) -> None:
    execution_id = await flow.start(CART_RESCUE, data={"cart_id": "cart-9"})
    await flow.settled(execution_id, "waiting")
    registration = await flow.registration(execution_id, lifecycle_pb2.WAIT_KIND_EVENT)
    assert registration.event_type == "checkout.completed"
    assert registration.expires_at.ToDatetime(tzinfo=UTC) == flow.clock.now() + timedelta(hours=2)

    await flow.signal(
        execution_id,
        registration.id,
        jobs_pb2.JOB_SIGNAL_EVENT,
        event_json("checkout.completed", {"cart_id": "cart-9"}),
    )
    done = await flow.settled(execution_id, "completed")
    assert step_ids(done) == [CART_WAIT_ID, CART_CHECKED_OUT_ID]
    assert provider.calls_of(execution_id, "remind") == []


async def test_no_checkout_within_the_window_runs_the_actions(flow: Flow, provider: fakes.Provider) -> None:
    execution_id = await flow.start(CART_RESCUE, data={"cart_id": "cart-9"})
    await flow.settled(execution_id, "waiting")
    await flow.advance(hours=2)
    done = await flow.settled(execution_id, "completed")
    assert step_ids(done) == [CART_WAIT_ID, "remind"]
    assert done.steps[0].result["branch"] == "timeout"
    assert len(provider.calls_of(execution_id, "remind")) == 1
