"""Send limits per organization and channel: steps over them wait, then each sends exactly once."""

from __future__ import annotations

import asyncio

from beez.api.executor.v1 import executor_pb2
from tests.executor.engine.conftest import Flow, start_executor
from tests.support.providers import smtp_server

EMAIL = {"actions": [{"id": "mail", "type": "send_email", "config": {"subject": "hi", "body": "b"}}]}


async def test_sends_over_the_channel_limit_are_deferred_and_all_sent_exactly_once(
    admin_url: str, nats_url: str
) -> None:
    async with smtp_server() as (sink, port):
        settings = {
            "action_plugins": [],
            "actions": {"smtp_host": "127.0.0.1", "smtp_port": port, "default_from": "hello@beez.example"},
            "send_channel_rates": {"email": 1.0},  # a burst of 2, then one a second
        }
        async with start_executor(admin_url, nats_url, **settings) as executor:
            flow = Flow(executor, "org_sends")
            ids = [await flow.start(EMAIL) for _ in range(5)]
            await sink.wait_for(2)
            parked = {executor_pb2.EXECUTION_STATUS_WAITING, executor_pb2.EXECUTION_STATUS_COMPLETED}
            waiting = [await flow.until(i, lambda ex: ex.status in parked, "waiting or sent") for i in ids]
            await asyncio.sleep(0.5)
            assert len(sink.messages) == 2, "the clock has not moved: no token for a third"
            held = [ex for ex in waiting if ex.status == executor_pb2.EXECUTION_STATUS_WAITING]
            assert len(held) == 3
            assert all(not ex.steps for ex in held), "a deferred send begins no attempt"

            while len(sink.messages) < 5:
                await flow.advance(seconds=1)
                await asyncio.sleep(0.2)
            done = [await flow.settled(i, "completed", timeout=10) for i in ids]
            await asyncio.sleep(0.5)

    assert len(sink.messages) == 5, "each sent exactly once"
    for execution in done:
        assert [(s.attempt, s.status) for s in execution.steps] == [(1, executor_pb2.STEP_STATUS_SUCCEEDED)]
