"""Action steps on the in-memory store: order, delays, retries, failures and crashes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from beez.workflow.status import ExecutionStatus, StepStatus
from tests.executor.engine import fakes
from tests.executor.unit.harness import Harness, record


async def test_linear_steps_run_in_order_and_complete(harness: Harness) -> None:
    execution_id = await harness.start(
        {
            "actions": [
                {"id": "plan", "type": "set_variable", "config": {"name": "plan", "value": "gold"}},
                record("hello", text="Hi {{ contact.first_name }}, {{ vars.plan }}"),
                {"id": "tag", "type": "add_tag", "config": {"tag": "Engaged"}},
            ]
        }
    )
    execution = harness.execution(execution_id)
    assert execution.status == ExecutionStatus.COMPLETED and execution.position is None
    assert harness.steps(execution_id) == [
        ("plan", StepStatus.SUCCEEDED),
        ("hello", StepStatus.SUCCEEDED),
        ("tag", StepStatus.SUCCEEDED),
    ]
    [call] = harness.provider.calls_of(execution_id, "hello")
    assert call.config["text"] == "Hi Ada, gold"
    assert call.idempotency_key == f"exec:{execution_id}:step:1:attempt:1"
    assert "Engaged" in execution.contact["tags"]
    assert harness.kinds(execution_id) == [
        "started",
        "step_completed",
        "step_completed",
        "step_completed",
        "completed",
    ]


async def test_internal_steps_share_one_step_completed_message(harness: Harness) -> None:
    execution_id = await harness.start(
        {
            "actions": [
                {"id": "a", "type": "set_variable", "config": {"name": "x", "value": 1}},
                {"id": "b", "type": "add_tag", "config": {"tag": "T"}},
            ]
        }
    )
    events = harness.lifecycle(execution_id)
    [merged] = [event for event in events if event.steps]
    assert [step.step_id for step in merged.steps] == ["a", "b"]
    assert merged.id == f"exec:{execution_id}:step:0:attempt:1:step_completed+1"


async def test_a_delay_waits_on_a_timer_before_its_step(harness: Harness) -> None:
    execution_id = await harness.start(
        {"actions": [record("first"), {**record("later"), "delay": {"value": 2, "unit": "hours"}}]}
    )
    execution = harness.execution(execution_id)
    assert execution.status == ExecutionStatus.WAITING and execution.wait_kind == "delay"
    [timer] = harness.store.timers_of(execution_id)
    assert timer["kind"] == "delay" and timer["due_at"] == harness.clock.now() + timedelta(hours=2)

    await harness.advance(hours=1, minutes=59)
    assert harness.execution(execution_id).status == ExecutionStatus.WAITING
    await harness.advance(minutes=1)
    assert harness.execution(execution_id).status == ExecutionStatus.COMPLETED
    assert harness.step_ids(execution_id) == ["first", "later"]
    assert harness.store.timers_of(execution_id) == []


async def test_transient_failures_are_retried_on_timers_then_succeed(harness: Harness) -> None:
    execution_id = await harness.start(
        {"actions": [{"id": "flaky", "type": "test_flaky", "config": {"failures": 2}}]}
    )
    execution = harness.execution(execution_id)
    assert execution.status == ExecutionStatus.WAITING and execution.wait_kind == "retry"
    [timer] = harness.store.timers_of(execution_id)
    assert timer["due_at"] == harness.clock.now() + timedelta(seconds=60)  # the default policy's first wait

    await harness.advance(seconds=60)
    [timer] = harness.store.timers_of(execution_id)
    assert timer["due_at"] == harness.clock.now() + timedelta(seconds=300)
    await harness.advance(seconds=300)
    assert harness.execution(execution_id).status == ExecutionStatus.COMPLETED
    assert harness.steps(execution_id) == [
        ("flaky", StepStatus.FAILED),
        ("flaky", StepStatus.FAILED),
        ("flaky", StepStatus.SUCCEEDED),
    ]
    assert [call.attempt for call in harness.provider.calls_of(execution_id)] == [1, 2, 3]
    assert harness.kinds(execution_id).count("step_failed") == 2


async def test_a_longer_retry_after_wins_over_the_policy(harness: Harness) -> None:
    execution_id = await harness.start(
        {"actions": [{"id": "flaky", "type": "test_flaky", "config": {"failures": 1, "retry_after": 600}}]}
    )
    [timer] = harness.store.timers_of(execution_id)
    assert timer["due_at"] == harness.clock.now() + timedelta(seconds=600)


async def test_retries_exhausted_fail_the_execution_with_a_dead_letter(harness: Harness) -> None:
    execution_id = await harness.start(
        {
            "actions": [
                {
                    "id": "flaky",
                    "type": "test_flaky",
                    "config": {"failures": 99, "retry": {"attempts": 3, "backoff": [30]}},
                },
                record("never"),
            ]
        }
    )
    for _ in range(5):
        await harness.advance(seconds=30)
    execution = harness.execution(execution_id)
    assert execution.status == ExecutionStatus.FAILED
    assert execution.position == "0"  # kept for RetryExecution
    assert [call.attempt for call in harness.provider.calls_of(execution_id)] == [1, 2, 3]
    assert harness.steps(execution_id) == [("flaky", StepStatus.FAILED)] * 3
    [letter] = harness.store.dead_letters_of(execution_id)
    assert letter["idempotency_key"] == f"exec:{execution_id}:step:0:attempt:3"
    assert letter["category"] == execution.error_category
    assert harness.kinds(execution_id)[-1] == "failed"


async def test_a_permanent_failure_fails_at_once(harness: Harness) -> None:
    execution_id = await harness.start({"actions": [{"id": "bad", "type": "test_broken"}, record("never")]})
    execution = harness.execution(execution_id)
    assert execution.status == ExecutionStatus.FAILED and execution.error_category == "bad_request"
    assert len(harness.provider.calls_of(execution_id)) == 1
    assert len(harness.store.dead_letters_of(execution_id)) == 1


async def test_a_crash_after_the_call_retries_under_the_same_key(harness: Harness) -> None:
    job = harness.start_job({"actions": [{"id": "once", "type": "test_crashes_once"}, record("after")]})
    with pytest.raises(fakes.SimulatedCrash):
        await harness.engine.handle(job)
    # the running attempt was committed before the call; the crash rolled back nothing else
    assert harness.steps(job.execution_id) == [("once", StepStatus.RUNNING)]

    await harness.engine.handle(job)  # the redelivered START job
    assert harness.execution(job.execution_id).status == ExecutionStatus.COMPLETED
    keys = [call.idempotency_key for call in harness.provider.calls_of(job.execution_id, "once")]
    assert keys == [f"exec:{job.execution_id}:step:0:attempt:1"] * 2
    assert len(harness.provider.effects_of(job.execution_id, "once")) == 1


async def test_the_step_bound_hands_over_to_a_resume_job() -> None:
    harness = Harness(max_steps_per_job=5)
    execution_id = await harness.start(
        {
            "actions": [
                {
                    "id": "many",
                    "type": "loop",
                    "config": {"times": 12},
                    "branches": [
                        {
                            "name": "body",
                            "actions": [{"type": "set_variable", "config": {"name": "n", "value": 1}}],
                        }
                    ],
                }
            ]
        }
    )
    assert harness.execution(execution_id).status == ExecutionStatus.COMPLETED
    assert len(harness.step_ids(execution_id)) == 13
    resumes = [out.msg_id or "" for out in harness.store.outbox if (out.msg_id or "").startswith("resume:")]
    assert len(resumes) >= 2


async def test_a_failed_step_rolls_back_nothing_committed_before_it(harness: Harness) -> None:
    execution_id = await harness.start({"actions": [record("ok"), {"id": "bad", "type": "test_broken"}]})
    assert harness.steps(execution_id) == [("ok", StepStatus.SUCCEEDED), ("bad", StepStatus.FAILED)]
    assert len(harness.provider.effects_of(execution_id, "ok")) == 1
