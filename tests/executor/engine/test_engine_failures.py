"""Failures, retries, crashes and redelivery: exactly once in effect."""

from __future__ import annotations

import asyncio
from datetime import UTC, timedelta

import grpc
import pytest
from sqlalchemy import select

from beez.api.executor.v1 import executor_pb2
from beez.api.messages.v1 import jobs_pb2, lifecycle_pb2
from beez.executor import models
from tests.executor.engine import fakes
from tests.executor.engine.conftest import Flow, start_executor, step_ids


async def test_transient_failures_retry_on_schedule_then_succeed(
    flow: Flow, provider: fakes.Provider
) -> None:
    execution_id = await flow.start(
        {"actions": [{"id": "call", "type": "test_flaky", "config": {"failures": 2}}]}
    )

    first = await flow.settled(execution_id, "waiting")
    assert [(s.attempt, s.status) for s in first.steps] == [(1, executor_pb2.STEP_STATUS_FAILED)]
    [retry] = await flow.scheduled(execution_id)
    assert retry.kind == "retry"
    assert retry.due_at.ToDatetime(tzinfo=UTC) == flow.clock.now() + timedelta(seconds=60)

    await flow.advance(seconds=60)
    await flow.until(
        execution_id, lambda ex: len(ex.steps) == 2 and ex.status == executor_pb2.EXECUTION_STATUS_WAITING
    )
    [retry] = await flow.scheduled(execution_id)
    assert retry.due_at.ToDatetime(tzinfo=UTC) == flow.clock.now() + timedelta(seconds=300)

    await flow.advance(seconds=300)
    done = await flow.settled(execution_id, "completed")
    assert [(s.attempt, s.status) for s in done.steps] == [
        (1, executor_pb2.STEP_STATUS_FAILED),
        (2, executor_pb2.STEP_STATUS_FAILED),
        (3, executor_pb2.STEP_STATUS_SUCCEEDED),
    ]
    assert done.steps[0].error == "provider answered 503" and done.steps[0].error_category == "transient"
    keys = [s.idempotency_key for s in done.steps]
    assert keys == [f"exec:{execution_id}:step:0:attempt:{n}" for n in (1, 2, 3)]
    assert sorted(c.idempotency_key for c in provider.effects_of(execution_id)) == keys  # one effect per key
    assert len(provider.calls_of(execution_id)) == 3
    assert await flow.kinds(execution_id) == [
        "started",
        "step_failed",
        "waiting",
        "step_failed",
        "waiting",
        "step_completed",
        "completed",
    ]


async def test_a_longer_retry_after_wins_over_the_schedule(flow: Flow) -> None:
    execution_id = await flow.start(
        {"actions": [{"id": "call", "type": "test_flaky", "config": {"failures": 1, "retry_after": 120}}]}
    )
    await flow.settled(execution_id, "waiting")
    [retry] = await flow.scheduled(execution_id)
    assert retry.due_at.ToDatetime(tzinfo=UTC) == flow.clock.now() + timedelta(seconds=120)


async def test_exhausted_retries_fail_the_execution(flow: Flow) -> None:
    execution_id = await flow.start(
        {
            "actions": [
                {
                    "id": "call",
                    "type": "test_flaky",
                    "config": {"failures": 9, "retry": {"attempts": 2, "backoff": [0]}},
                }
            ]
        }
    )
    failed = await flow.settled(execution_id, "failed")
    assert [s.attempt for s in failed.steps] == [1, 2]
    assert failed.error == "provider answered 503"


async def test_a_permanent_failure_fails_the_execution_with_a_dead_letter_and_an_event(
    flow: Flow, provider: fakes.Provider
) -> None:
    execution_id = await flow.start(
        {
            "actions": [
                {"id": "ok", "type": "test_record"},
                {"id": "bad", "type": "test_broken"},
                {"id": "never", "type": "test_record"},
            ]
        }
    )
    failed = await flow.settled(execution_id, "failed")
    assert step_ids(failed) == ["ok", "bad"]
    assert (
        failed.steps[1].status == executor_pb2.STEP_STATUS_FAILED
        and failed.steps[1].error_category == "bad_request"
    )
    assert failed.error == "provider refused the request (400)"
    assert len(provider.calls_of(execution_id, "bad")) == 1  # no retry
    assert failed.current_step == "1"

    events = await flow.lifecycle(execution_id)
    [failure] = [e for e in events if e.kind == lifecycle_pb2.EXECUTION_EVENT_KIND_FAILED]
    assert (failure.error, failure.error_category) == ("provider refused the request (400)", "bad_request")
    async with flow.executor.svc.runtime.db.transaction() as session:
        letters = (
            (
                await session.execute(
                    select(models.DeadLetter).where(models.DeadLetter.execution_id == execution_id)
                )
            )
            .scalars()
            .all()
        )
    assert [(d.step_id, d.category, d.idempotency_key) for d in letters] == [
        ("bad", "bad_request", f"exec:{execution_id}:step:1:attempt:1")
    ]


async def test_an_unknown_action_type_fails_as_configuration(flow: Flow) -> None:
    execution_id = await flow.start({"actions": [{"id": "mystery", "type": "no_such_action"}]})
    failed = await flow.settled(execution_id, "failed")
    assert failed.steps[0].error_category == "configuration"


async def test_retrying_a_failed_execution_resumes_from_the_failed_step(
    flow: Flow, provider: fakes.Provider
) -> None:
    execution_id = await flow.start(
        {
            "actions": [
                {"id": "ok", "type": "test_record"},
                {"id": "fragile", "type": "test_fails_until_repaired"},
                {"id": "end", "type": "test_record"},
            ]
        },
        execution_id=f"ex_retry_{flow.org}",
    )
    provider.broken.add(execution_id)  # before the step runs: START is handled asynchronously
    failed = await flow.settled(execution_id, "failed")
    assert step_ids(failed) == ["ok", "fragile"]

    provider.broken.discard(execution_id)
    response = await flow.stub.RetryExecution(
        executor_pb2.RetryExecutionRequest(execution_id=execution_id), metadata=flow.metadata
    )
    assert response.execution.status == executor_pb2.EXECUTION_STATUS_QUEUED
    done = await flow.settled(execution_id, "completed")
    assert step_ids(done) == ["ok", "fragile", "fragile", "end"]
    assert [s.attempt for s in done.steps] == [1, 1, 2, 1]
    assert len(provider.calls_of(execution_id, "ok")) == 1  # steps before the failure do not run again
    kinds = await flow.kinds(execution_id)
    assert kinds.count("started") == 1 and kinds[-1] == "completed" and "failed" in kinds


async def test_a_retried_step_gets_a_fresh_attempt_count(flow: Flow) -> None:
    config = {"failures": 3, "retry": {"attempts": 2, "backoff": [0]}}
    execution_id = await flow.start({"actions": [{"id": "call", "type": "test_flaky", "config": config}]})
    await flow.settled(execution_id, "failed")  # attempts 1 and 2 failed
    await flow.stub.RetryExecution(
        executor_pb2.RetryExecutionRequest(execution_id=execution_id), metadata=flow.metadata
    )
    done = await flow.settled(execution_id, "completed")  # attempt 3 fails, 4 succeeds: two fresh tries
    assert [s.attempt for s in done.steps] == [1, 2, 3, 4]


async def test_a_crash_after_the_effect_reuses_the_idempotency_key(
    admin_url: str, nats_url: str, provider: fakes.Provider
) -> None:
    # its own executor, whose unacked jobs come back after 1 s instead of 30
    async with start_executor(admin_url, nats_url, job_ack_wait_s=1.0) as executor:
        flow = Flow(executor, "org_crash")
        execution_id = await flow.start(
            {"actions": [{"id": "pay", "type": "test_crashes_once"}, {"id": "after", "type": "test_record"}]}
        )
        done = await flow.settled(execution_id, "completed", timeout=10)

    assert [(s.step_id, s.attempt, s.status) for s in done.steps] == [
        ("pay", 1, executor_pb2.STEP_STATUS_SUCCEEDED),
        ("after", 1, executor_pb2.STEP_STATUS_SUCCEEDED),
    ]
    key = f"exec:{execution_id}:step:0:attempt:1"
    calls = provider.calls_of(execution_id, "pay")
    assert len(calls) >= 2  # the call that "crashed", then the one after redelivery
    assert {c.idempotency_key for c in calls} == {key}
    assert [c.idempotency_key for c in provider.effects_of(execution_id, "pay")] == [key]


async def test_redelivered_start_and_timer_jobs_change_nothing(flow: Flow, provider: fakes.Provider) -> None:
    workflow = {
        "actions": [
            {"id": "pause", "type": "wait", "config": {"value": 5, "unit": "minutes"}},
            {"id": "send", "type": "test_record"},
        ]
    }
    execution_id = await flow.start(workflow)
    await flow.settled(execution_id, "waiting")
    [timer] = await flow.scheduled(execution_id)
    token = await _wait_token(flow, execution_id)
    await flow.advance(minutes=5)
    done = await flow.settled(execution_id, "completed")

    # the trigger re-sends the start job after the duplicate window; the timer job comes again
    await flow.start(workflow, execution_id=execution_id)
    replay = jobs_pb2.Job(
        execution_id=execution_id, reason=jobs_pb2.JOB_REASON_TIMER, organization_id=flow.org, token=token
    )
    await flow.publish(replay, f"timer:{timer.id}:again")
    await asyncio.sleep(0.3)

    again = await flow.get(execution_id)
    assert again == done
    assert len(provider.calls_of(execution_id)) == 1
    assert (await flow.kinds(execution_id)).count("completed") == 1


async def test_a_stale_timer_token_is_ignored(flow: Flow) -> None:
    execution_id = await flow.start(
        {"actions": [{"id": "pause", "type": "wait", "config": {"value": 1, "unit": "days"}}]}
    )
    await flow.settled(execution_id, "waiting")
    await flow.timer(execution_id, "not-the-token")
    await flow.signal(execution_id, "not-the-token", jobs_pb2.JOB_SIGNAL_GOAL)
    await asyncio.sleep(0.3)
    still = await flow.get(execution_id)
    assert still.status == executor_pb2.EXECUTION_STATUS_WAITING
    assert [(s.step_id, s.status) for s in still.steps] == [("pause", executor_pb2.STEP_STATUS_WAITING)]


async def test_cancel_during_a_delay_stops_everything(flow: Flow, provider: fakes.Provider) -> None:
    execution_id = await flow.start(
        {
            "actions": [{"id": "later", "type": "test_record", "delay": {"value": 1, "unit": "hours"}}],
            "goal": {"event": "purchase.made"},
        }
    )
    await flow.settled(execution_id, "waiting")
    goal = await flow.registration(execution_id, lifecycle_pb2.WAIT_KIND_GOAL)
    response = await flow.stub.CancelExecution(
        executor_pb2.CancelExecutionRequest(execution_id=execution_id, reason="changed my mind"),
        metadata=flow.metadata,
    )
    assert response.execution.status == executor_pb2.EXECUTION_STATUS_CANCELLED
    assert await flow.scheduled(execution_id) == []

    await flow.advance(hours=2)
    await asyncio.sleep(0.3)
    assert (await flow.get(execution_id)).status == executor_pb2.EXECUTION_STATUS_CANCELLED
    assert provider.calls_of(execution_id) == []
    assert [r.id for r in await flow.registrations(execution_id) if r.cancel] == [goal.id]
    assert (await flow.kinds(execution_id))[-1] == "cancelled"
    with pytest.raises(grpc.aio.AioRpcError) as again:
        await flow.stub.CancelExecution(
            executor_pb2.CancelExecutionRequest(execution_id=execution_id), metadata=flow.metadata
        )
    assert again.value.code() == grpc.StatusCode.FAILED_PRECONDITION


async def _wait_token(flow: Flow, execution_id: str) -> str:
    async with flow.executor.svc.runtime.db.transaction() as session:
        token = (
            await session.execute(
                select(models.Execution.wait_token).where(models.Execution.id == execution_id)
            )
        ).scalar_one()
    assert token
    return str(token)
