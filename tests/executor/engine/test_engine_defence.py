"""Defence in depth on the job queues: a job's subject and body name one organization, and a START
runs only the workflow the automation service announced for its version (decision 0018)."""

from __future__ import annotations

import asyncio
import uuid

import grpc
import pytest

from beez.api.messages.v1 import lifecycle_pb2
from beez.executor.announcements import AnnouncedWorkflows, NotAnnounced
from beez.kit.bus.headers import DLQ_CONSUMER, DLQ_DELIVERIES, DLQ_ERROR
from beez.kit.bus.publisher import Publisher
from beez.workflow.digest import workflow_digest
from tests.executor.engine import fakes
from tests.executor.engine.conftest import Executor, Flow

RECORD = {"actions": [{"id": "hello", "type": "test_record", "config": {"text": "Hi"}}]}


async def dead_letter(executor: Executor, execution_id: str, timeout: float = 10.0) -> dict[str, str]:
    """The headers of the dead letter of the job pointing at ``execution_id``, once there is one."""
    stream = executor.topology.stream("DLQ")
    deadline = asyncio.get_running_loop().time() + timeout
    seen = 0
    while asyncio.get_running_loop().time() < deadline:
        last = (await executor.js.stream_info(stream)).state.last_seq
        for seq in range(seen + 1, last + 1):
            msg = await executor.js.get_msg(stream, seq)
            if execution_id.encode() in (msg.data or b""):
                return dict(msg.headers or {})
        seen = last
        await asyncio.sleep(0.05)
    raise AssertionError(f"no dead letter for {execution_id}")


async def missing(flow: Flow, execution_id: str) -> bool:
    try:
        await flow.get(execution_id)
    except grpc.aio.AioRpcError as err:
        return bool(err.code() == grpc.StatusCode.NOT_FOUND)
    return False


async def test_a_job_whose_body_names_another_organization_is_dead_lettered_and_runs_nothing(
    executor: Executor, flow: Flow, provider: fakes.Provider
) -> None:
    victim = Flow(executor, f"org_{uuid.uuid4().hex[:10]}")
    job = victim.start_job(RECORD)  # the body names the victim...
    await victim.announce(job.start)
    await Publisher(executor.js).publish(  # ...the subject the sender's organization
        executor.topology.jobs("normal", flow.org), job, msg_id=f"start:{job.execution_id}", org_id=flow.org
    )

    headers = await dead_letter(executor, job.execution_id)

    assert headers[DLQ_CONSUMER] == "executor-jobs-normal"
    assert headers[DLQ_DELIVERIES] == "1"  # refused at once, not retried
    assert headers[DLQ_ERROR] == (
        f"PermanentError: job of organization {victim.org!r} published under {flow.org!r}"
    )
    assert await missing(victim, job.execution_id) and await missing(flow, job.execution_id)
    assert provider.calls_of(job.execution_id) == []


async def test_a_start_whose_workflow_was_changed_on_the_way_is_dead_lettered_and_runs_nothing(
    flow: Flow, provider: fakes.Provider
) -> None:
    announced = flow.start_job(RECORD)
    await flow.announce(announced.start)
    tampered = flow.start_job(
        {"actions": [{"id": "hello", "type": "http_request", "config": {"url": "https://evil.example"}}]}
    )
    await flow.publish(tampered, f"start:{tampered.execution_id}", announce=False)

    headers = await dead_letter(flow.executor, tampered.execution_id)

    assert headers[DLQ_DELIVERIES] == "1"
    assert "is not the one announced for automation 'auto_1' version 1" in headers[DLQ_ERROR]
    assert await missing(flow, tampered.execution_id)
    assert provider.calls_of(tampered.execution_id) == []


async def test_a_start_that_arrives_before_its_announcement_waits_for_it_then_runs(
    flow: Flow, provider: fakes.Provider
) -> None:
    job = flow.start_job(RECORD, automation_id="auto_early")
    await flow.publish(job, f"start:{job.execution_id}", announce=False)
    await asyncio.sleep(0.3)
    assert await missing(flow, job.execution_id)

    await flow.announce(job.start)

    done = await flow.settled(job.execution_id, "completed", timeout=10)
    assert [step.step_id for step in done.steps] == ["hello"]
    assert len(provider.calls_of(job.execution_id)) == 1


async def test_a_version_never_announced_is_retried_not_run(executor: Executor, flow: Flow) -> None:
    """The job consumer retries NotAnnounced with its backoff and dead-letters it after the last try."""
    job = flow.start_job(RECORD, automation_id="auto_never")
    with pytest.raises(NotAnnounced, match="no workflow was announced for automation 'auto_never' version 1"):
        await AnnouncedWorkflows(executor.svc.runtime.db).verify(job)


async def test_an_announcement_whose_digest_is_not_its_workflows_is_dead_lettered(
    executor: Executor, flow: Flow
) -> None:
    automation_id = f"auto_{uuid.uuid4().hex[:10]}"
    job = flow.start_job(RECORD, automation_id=automation_id)
    change = lifecycle_pb2.AutomationChanged(
        kind=lifecycle_pb2.CHANGE_KIND_UPSERTED,
        organization_id=flow.org,
        automation_id=automation_id,
        version=1,
        workflow=job.start.workflow,
        workflow_digest="0" * 64,
        revision=1,
    )
    await Publisher(executor.js).publish(
        executor.topology.automation_changed(flow.org),
        change,
        msg_id=f"lying:{automation_id}",
        org_id=flow.org,
    )

    headers = await dead_letter(executor, automation_id)

    assert headers[DLQ_CONSUMER] == "executor-automations"
    assert (
        f"announces digest {'0' * 64} but its workflow's is {workflow_digest(job.start.workflow)}"
        in (headers[DLQ_ERROR])
    )
    with pytest.raises(NotAnnounced):
        await AnnouncedWorkflows(executor.svc.runtime.db).verify(job)
