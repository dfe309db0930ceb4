"""The real webhook action against a real HTTP server that fails twice, then succeeds."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from beez.api.executor.v1 import executor_pb2
from tests.executor.engine.conftest import Flow, start_executor
from tests.support.providers import http_server


def failed_attempts(n: int) -> Callable[[executor_pb2.Execution], bool]:
    return lambda ex: sum(s.status == executor_pb2.STEP_STATUS_FAILED for s in ex.steps) == n


async def test_provider_failing_transiently_twice_then_succeeding_gives_three_attempts_one_effect_per_key(
    admin_url: str, nats_url: str
) -> None:
    async with http_server() as provider:
        provider.responses = [(503, {"error": "busy"}), (503, {"error": "busy"}), (200, {"ok": True})]
        settings = {"actions": {"ssrf_allowlist": ["127.0.0.1/32"]}}
        async with start_executor(admin_url, nats_url, **settings) as executor:
            flow = Flow(executor, "org_retry")
            workflow = {
                "actions": [
                    {
                        "id": "notify",
                        "type": "webhook",
                        "config": {
                            "url": f"{provider.url}/hook",
                            "method": "POST",
                            "body": {"hello": "{{ contact.first_name }}"},
                        },
                    }
                ]
            }
            execution_id = await flow.start(workflow)
            for failures, wait in ((1, 60), (2, 300)):  # the seed's schedule: at once, then 1 and 5 minutes
                await flow.until(execution_id, failed_attempts(failures), f"{failures} failed attempt(s)")
                assert len(provider.requests) == failures
                await flow.advance(seconds=wait - 1)
                await asyncio.sleep(0.3)
                assert len(provider.requests) == failures, "retried before its backoff"
                await flow.advance(seconds=1)
            execution = await flow.settled(execution_id, "completed")

    attempts = [s for s in execution.steps if s.step_id == "notify"]
    assert [(s.attempt, s.status) for s in attempts] == [
        (1, executor_pb2.STEP_STATUS_FAILED),
        (2, executor_pb2.STEP_STATUS_FAILED),
        (3, executor_pb2.STEP_STATUS_SUCCEEDED),
    ]
    keys = [r.headers["X-Beez-Idempotency-Key"] for r in provider.requests]
    assert keys == [s.idempotency_key for s in attempts]
    assert len(set(keys)) == 3
    assert all(r.json() == {"hello": "Ada"} for r in provider.requests)


async def test_a_provider_asking_to_retry_after_an_absurd_time_waits_the_cap_instead_of_looping(
    admin_url: str, nats_url: str
) -> None:
    """A ``Retry-After`` of 400 digits once became ``timedelta(seconds=inf)``: an OverflowError on
    every redelivery of the job, calling the provider each time. Now it is one call, then a wait."""
    async with http_server() as provider:
        provider.responses = [(429, {"error": "slow down"}), (200, {"ok": True})]
        provider.status_headers = {429: {"Retry-After": "9" * 400}}
        settings = {"actions": {"ssrf_allowlist": ["127.0.0.1/32"], "http_retry_after_cap_s": 120}}
        async with start_executor(admin_url, nats_url, **settings) as executor:
            flow = Flow(executor, "org_retry_after")
            workflow = {
                "actions": [{"id": "notify", "type": "webhook", "config": {"url": f"{provider.url}/hook"}}]
            }
            execution_id = await flow.start(workflow)
            await flow.until(execution_id, failed_attempts(1), "the 429 recorded as a failed attempt")
            await asyncio.sleep(0.5)
            assert len(provider.requests) == 1, "the provider was called again at once"
            await flow.advance(seconds=119)
            await asyncio.sleep(0.3)
            assert len(provider.requests) == 1, "retried before the provider's (capped) Retry-After"
            await flow.advance(seconds=120 * 0.1 + 1)  # the cap, whatever the jitter
            execution = await flow.settled(execution_id, "completed")
    assert [s.status for s in execution.steps if s.step_id == "notify"] == [
        executor_pb2.STEP_STATUS_FAILED,
        executor_pb2.STEP_STATUS_SUCCEEDED,
    ]
