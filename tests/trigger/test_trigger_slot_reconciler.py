"""Slots are freed by the execution's end state, not only by its lifecycle message (decision 0028).

The executor here is a gRPC stand-in serving ``ExecutionService.GetExecution`` from a table, so a
test can say how each execution stands; the trigger, its database and NATS are real.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import grpc
import pytest

from beez.api.executor.v1 import executor_pb2, executor_pb2_grpc
from beez.kit.embedded import free_port
from beez.kit.grpc.identity import ORG_HEADER
from beez.trigger.slots import ExecutorStates, SlotReconciler
from tests.trigger.support import Harness, event, workflow


class ExecutorStandIn(executor_pb2_grpc.ExecutionServiceServicer):
    """Answers GetExecution from ``statuses``; an id it does not know is NOT_FOUND."""

    def __init__(self) -> None:
        self.statuses: dict[str, int] = {}
        self.asked: list[tuple[str, str]] = []

    async def GetExecution(self, request: executor_pb2.GetExecutionRequest, context: Any) -> Any:
        org = dict(context.invocation_metadata()).get(ORG_HEADER, "")
        self.asked.append((org, request.execution_id))
        status = self.statuses.get(request.execution_id)
        if status is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, "no such execution")
        return executor_pb2.GetExecutionResponse(
            execution=executor_pb2.Execution(id=request.execution_id, status=status)  # type: ignore[arg-type]
        )


@pytest.fixture
async def executor() -> AsyncIterator[tuple[ExecutorStandIn, str]]:
    stand_in = ExecutorStandIn()  # type: ignore[abstract]  # serves only GetExecution
    server = grpc.aio.server()
    executor_pb2_grpc.add_ExecutionServiceServicer_to_server(stand_in, server)
    address = f"127.0.0.1:{free_port()}"
    server.add_insecure_port(address)
    await server.start()
    yield stand_in, address
    await server.stop(None)


async def slots_held(trigger: Harness) -> set[str]:
    rows = await trigger.sql(
        "SELECT execution_id FROM trigger.concurrency_slots WHERE automation_id = :id",
        id=trigger.id("auto-1"),
    )
    return {row.execution_id for row in rows}


async def test_slots_of_executions_that_ended_unheard_are_freed(
    trigger: Harness, executor: tuple[ExecutorStandIn, str]
) -> None:
    """No lifecycle message ever reaches the trigger here (as when it was dead-lettered or lost):
    without the reconciler the ended execution's slot stays taken for good."""
    stand_in, address = executor
    await trigger.automation("auto-1", workflow())
    await trigger.publish_many([event(contact=f"c_{i}") for i in range(4)])
    done, running, unknown, failed = [job.execution_id for job in await trigger.starts()]
    stand_in.statuses.update(
        {
            done: executor_pb2.EXECUTION_STATUS_COMPLETED,
            running: executor_pb2.EXECUTION_STATUS_WAITING,
            failed: executor_pb2.EXECUTION_STATUS_FAILED,
        }
    )
    states = ExecutorStates(address, timeout_s=5.0)
    reconciler = SlotReconciler(
        trigger.svc.runtime.db, trigger.clock, states, held_after=600, interval=1, batch=2
    )
    ours = {done, running, unknown, failed}

    def asked_about_ours() -> set[str]:  # the suite's other tests leave slots of their own
        return {i for _, i in stand_in.asked if i in ours}

    try:
        await reconciler.reconcile()
        assert asked_about_ours() == set(), "held for less than held_after: nobody is asked"
        trigger.clock.advance(timedelta(minutes=11))
        for _ in range(500):  # pages of two, resuming where the last stopped
            await reconciler.reconcile()
            if asked_about_ours() == ours:
                break
    finally:
        await states.close()
    assert await slots_held(trigger) == {running, unknown}
    assert reconciler.freed == 2
    assert {org for org, i in stand_in.asked if i in ours} == {trigger.org}, (
        "asked as the slot's organization"
    )
    rows = await trigger.sql(
        "SELECT execution_id, outcome FROM trigger.enrollments WHERE org_id = :org AND ended_at IS NOT NULL",
        org=trigger.org,
    )
    assert {(r.execution_id, r.outcome) for r in rows} == {(done, "completed"), (failed, "failed")}


async def test_an_executor_that_cannot_answer_frees_nothing(trigger: Harness) -> None:
    await trigger.automation("auto-1", workflow())
    await trigger.publish_many([event(contact="c_0")])
    states = ExecutorStates(f"127.0.0.1:{free_port()}", timeout_s=1.0)
    reconciler = SlotReconciler(trigger.svc.runtime.db, trigger.clock, states, held_after=1, interval=1)
    trigger.clock.advance(timedelta(minutes=1))
    try:
        assert await reconciler.reconcile() == 0
    finally:
        await states.close()
    assert len(await slots_held(trigger)) == 1
