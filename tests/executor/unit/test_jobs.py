"""Jobs on the in-memory store: who may drive an execution, batches, and the RPCs' operations."""

from __future__ import annotations

from beez.api.messages.v1 import jobs_pb2
from beez.workflow.status import ExecutionStatus, StepStatus
from tests.executor.engine import fakes
from tests.executor.unit.harness import ORG, Harness, record

DELAYED = {"actions": [record("first"), {**record("later"), "delay": {"value": 1, "unit": "hours"}}]}


async def test_a_job_with_a_token_the_execution_does_not_wait_for_changes_nothing(harness: Harness) -> None:
    execution_id = await harness.start(DELAYED)
    waiting = harness.execution(execution_id)
    token = waiting.wait_token
    assert waiting.status == ExecutionStatus.WAITING and token

    await harness.timer(execution_id, "not-the-token")
    assert harness.execution(execution_id).wait_token == token
    assert harness.step_ids(execution_id) == ["first"]

    await harness.timer(execution_id, token)
    assert harness.execution(execution_id).status == ExecutionStatus.COMPLETED
    assert harness.execution(execution_id).driver_token is None

    await harness.timer(execution_id, token)  # the same job redelivered after the end
    assert harness.step_ids(execution_id) == ["first", "later"]
    assert len(harness.provider.calls_of(execution_id, "later")) == 1


async def test_the_job_that_woke_an_execution_may_drive_it_again_others_may_not(harness: Harness) -> None:
    execution_id = await harness.start(
        {
            "actions": [
                {**record("gated"), "type": "test_gate", "delay": {"value": 1, "unit": "hours"}},
                record("after"),
            ]
        }
    )
    token = harness.execution(execution_id).wait_token
    assert token
    wake = jobs_pb2.Job(
        execution_id=execution_id, reason=jobs_pb2.JOB_REASON_TIMER, organization_id=ORG, token=token
    )
    # the wake-up commits with the running attempt; then the process dies before the call returns
    [after] = await harness.engine.wake_batch([wake])
    assert after.call is not None
    execution = harness.execution(execution_id)
    assert execution.driver_token == token and execution.wait_token is None

    stale = jobs_pb2.Job(
        execution_id=execution_id, reason=jobs_pb2.JOB_REASON_RESUME, organization_id=ORG, token="old"
    )
    [ignored] = await harness.engine.wake_batch([stale])
    assert ignored.call is None and not ignored.more

    fakes.PROVIDER.gate.set()
    await harness.engine.handle(wake)  # the redelivered wake-up finishes what it began
    assert harness.execution(execution_id).status == ExecutionStatus.COMPLETED
    assert harness.steps(execution_id) == [("gated", StepStatus.SUCCEEDED), ("after", StepStatus.SUCCEEDED)]
    keys = {call.idempotency_key for call in harness.provider.calls_of(execution_id, "gated")}
    assert keys == {f"exec:{execution_id}:step:0:attempt:1"}


async def test_a_redelivered_start_job_creates_nothing_new(harness: Harness) -> None:
    job = harness.start_job({"actions": [record("once")]})
    await harness.engine.handle(job)
    await harness.engine.handle(job)
    assert harness.step_ids(job.execution_id) == ["once"]
    assert harness.kinds(job.execution_id).count("started") == 1


async def test_a_start_batch_ends_as_the_jobs_one_by_one_do(harness: Harness) -> None:
    workflow = {
        "actions": [
            {"id": "remember", "type": "set_variable", "config": {"name": "plan", "value": "gold"}},
            record("hello", text="plan {{ vars.plan }}"),
            {"id": "tag", "type": "add_tag", "config": {"tag": "Engaged"}},
        ]
    }
    jobs = [harness.start_job(workflow) for _ in range(3)]
    duplicate = harness.start_job(workflow, execution_id=jobs[0].execution_id)
    batch = [*jobs, duplicate]
    outcomes = await harness.engine.start_batch(batch)
    assert [outcome.alone for outcome in outcomes] == [False, False, False, True]
    assert all(outcome.call is not None for outcome in outcomes[:3])
    for job, outcome in zip(batch, outcomes, strict=True):
        await harness.engine.continue_job(job, outcome)

    alone = harness.start_job(workflow)
    await harness.engine.handle(alone)
    for job in [*jobs, alone]:
        assert harness.steps(job.execution_id) == [
            ("remember", StepStatus.SUCCEEDED),
            ("hello", StepStatus.SUCCEEDED),
            ("tag", StepStatus.SUCCEEDED),
        ]
        assert harness.kinds(job.execution_id) == harness.kinds(alone.execution_id)
        [call] = harness.provider.calls_of(job.execution_id)
        assert call.config["text"] == "plan gold"


async def test_cancel_ends_a_waiting_execution_and_withdraws_its_timer(harness: Harness) -> None:
    execution_id = await harness.start(
        {
            "actions": [
                {"id": "pause", "type": "wait", "config": {"value": 1, "unit": "days"}},
                record("never"),
            ]
        }
    )
    async with harness.engine.execution(ORG, execution_id) as unit:
        assert unit is not None
        await harness.engine.cancel(unit, "changed my mind")
    execution = harness.execution(execution_id)
    assert execution.status == ExecutionStatus.CANCELLED
    assert execution.end_reason == "cancelled: changed my mind" and execution.position is None
    assert harness.steps(execution_id) == [("pause", StepStatus.SKIPPED)]
    assert harness.store.timers_of(execution_id) == []
    assert harness.kinds(execution_id)[-1] == "cancelled"

    await harness.advance(days=1)
    assert harness.step_ids(execution_id) == ["pause"]


async def test_another_organization_sees_no_execution(harness: Harness) -> None:
    execution_id = await harness.start(DELAYED)
    async with harness.engine.execution("org_other", execution_id) as unit:
        assert unit is None


async def test_cancelling_scheduled_work_cancels_its_execution(harness: Harness) -> None:
    execution_id = await harness.start(DELAYED)
    [timer] = harness.store.timers_of(execution_id)
    assert not await harness.engine.cancel_scheduled("org_other", timer["id"])
    assert await harness.engine.cancel_scheduled(ORG, timer["id"])
    assert harness.execution(execution_id).status == ExecutionStatus.CANCELLED
    assert harness.store.timers_of(execution_id) == []


async def test_a_retried_execution_runs_its_failed_step_again_with_new_keys(harness: Harness) -> None:
    job = harness.start_job(
        {"actions": [record("first"), {"id": "fix", "type": "test_fails_until_repaired"}]}
    )
    harness.provider.broken.add(job.execution_id)
    await harness.engine.handle(job)
    assert harness.execution(job.execution_id).status == ExecutionStatus.FAILED

    harness.provider.broken.clear()
    async with harness.engine.execution(ORG, job.execution_id) as unit:
        assert unit is not None
        await harness.engine.requeue(unit)
    assert harness.execution(job.execution_id).status == ExecutionStatus.QUEUED
    await harness.deliver()  # the RETRY job
    execution = harness.execution(job.execution_id)
    assert execution.status == ExecutionStatus.COMPLETED and execution.run == 2
    keys = [call.idempotency_key for call in harness.provider.calls_of(job.execution_id, "fix")]
    assert keys == [f"exec:{job.execution_id}:step:1:attempt:1", f"exec:{job.execution_id}:step:1:attempt:2"]
    assert harness.kinds(job.execution_id).count("completed") == 1


async def test_an_exception_rolls_back_the_whole_transaction(harness: Harness) -> None:
    execution_id = await harness.start(DELAYED)
    before = harness.execution(execution_id).wait_token
    try:
        async with harness.engine.execution(ORG, execution_id) as unit:
            assert unit is not None
            await harness.engine.cancel(unit, "")
            raise RuntimeError("the commit never happens")
    except RuntimeError:
        pass
    execution = harness.execution(execution_id)
    assert execution.status == ExecutionStatus.WAITING and execution.wait_token == before
    assert harness.kinds(execution_id)[-1] == "waiting"
