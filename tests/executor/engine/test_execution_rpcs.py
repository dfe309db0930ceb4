"""The execution RPCs: tenant isolation, pagination, search, validation and scheduled work."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, cast

import grpc
from google.protobuf import json_format, timestamp_pb2

from beez.api.executor.v1 import executor_pb2
from beez.api.messages.v1 import lifecycle_pb2
from tests.executor.engine.conftest import Executor, Flow
from tests.executor.samples import ADA
from tests.support.rpc import rpc_error, violations

UNKNOWN_STATUS = cast(executor_pb2.ExecutionStatus, 99)
PAUSE = {"actions": [{"id": "pause", "type": "wait", "config": {"value": 1, "unit": "days"}}]}
QUICK = {"actions": [{"id": "one", "type": "test_record"}]}


def ts(flow: Flow, **delta: float) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(flow.clock.now() + timedelta(**delta))
    return stamp


async def test_every_rpc_is_scoped_to_the_callers_organization(flow: Flow, executor: Executor) -> None:
    execution_id = await flow.start(PAUSE, automation_id="auto_iso")
    await flow.settled(execution_id, "waiting")
    [work] = await flow.scheduled(execution_id)
    stranger = [("x-org-id", f"{flow.org}_other")]
    stub = flow.stub

    calls: dict[str, Callable[[], Awaitable[Any]]] = {
        "get": lambda: stub.GetExecution(
            executor_pb2.GetExecutionRequest(execution_id=execution_id), metadata=stranger
        ),
        "cancel": lambda: stub.CancelExecution(
            executor_pb2.CancelExecutionRequest(execution_id=execution_id), metadata=stranger
        ),
        "retry": lambda: stub.RetryExecution(
            executor_pb2.RetryExecutionRequest(execution_id=execution_id), metadata=stranger
        ),
        "cancel_scheduled": lambda: stub.CancelScheduled(
            executor_pb2.CancelScheduledRequest(id=work.id), metadata=stranger
        ),
    }
    for name, call in calls.items():
        error = await rpc_error(call())
        assert error.code() == grpc.StatusCode.NOT_FOUND, name

    listed = await stub.ListExecutions(
        executor_pb2.ListExecutionsRequest(automation_id="auto_iso"), metadata=stranger
    )
    searched = await stub.SearchExecutions(
        executor_pb2.SearchExecutionsRequest(automation_id="auto_iso", contact_id="c_ada"), metadata=stranger
    )
    history = await stub.GetContactHistory(
        executor_pb2.GetContactHistoryRequest(contact_id="c_ada"), metadata=stranger
    )
    scheduled = await stub.ListScheduled(executor_pb2.ListScheduledRequest(), metadata=stranger)
    assert not listed.executions and not searched.executions and not history.executions
    assert not scheduled.scheduled

    # the owner still sees (and controls) all of it
    assert (await flow.get(execution_id)).status == executor_pb2.EXECUTION_STATUS_WAITING
    assert [w.id for w in await flow.scheduled(execution_id)] == [work.id]
    owner = await stub.ListExecutions(
        executor_pb2.ListExecutionsRequest(automation_id="auto_iso"), metadata=flow.metadata
    )
    assert [ex.id for ex in owner.executions] == [execution_id]
    missing = await rpc_error(
        stub.GetExecution(executor_pb2.GetExecutionRequest(execution_id="nope"), metadata=flow.metadata)
    )
    assert missing.code() == grpc.StatusCode.NOT_FOUND
    unauthenticated = await rpc_error(
        stub.GetExecution(executor_pb2.GetExecutionRequest(execution_id=execution_id))
    )
    assert unauthenticated.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_list_executions_pages_newest_first(flow: Flow) -> None:
    ids = []
    for n in range(5):
        ids.append(
            await flow.start(
                QUICK, automation_id="auto_list", created_at=flow.clock.now() + timedelta(seconds=n)
            )
        )
    await flow.start(QUICK, automation_id="auto_other")
    for execution_id in ids:
        await flow.settled(execution_id, "completed")

    seen: list[str] = []
    token = ""
    pages = 0
    while True:
        page = await flow.stub.ListExecutions(
            executor_pb2.ListExecutionsRequest(automation_id="auto_list", page_size=2, page_token=token),
            metadata=flow.metadata,
        )
        seen.extend(ex.id for ex in page.executions)
        pages += 1
        token = page.next_page_token
        if not token:
            break
    assert seen == list(reversed(ids))
    assert pages == 3
    assert not page.executions[0].steps  # lists carry no step logs


async def test_search_filters_by_contact_status_and_date(flow: Flow) -> None:
    early = await flow.start(QUICK, automation_id="auto_s", created_at=flow.clock.now() - timedelta(days=3))
    done = await flow.start(QUICK, automation_id="auto_s")
    waiting = await flow.start(PAUSE, automation_id="auto_s")
    other = await flow.start(QUICK, automation_id="auto_s", contact={**ADA, "id": "c_bob"})
    for execution_id in (early, done, other):
        await flow.settled(execution_id, "completed")
    await flow.settled(waiting, "waiting")

    async def search(**fields: Any) -> list[str]:
        response = await flow.stub.SearchExecutions(
            executor_pb2.SearchExecutionsRequest(automation_id="auto_s", **fields), metadata=flow.metadata
        )
        return sorted(ex.id for ex in response.executions)

    assert await search(contact_id="c_bob") == [other]
    assert await search(statuses=[executor_pb2.EXECUTION_STATUS_WAITING]) == [waiting]
    assert await search(contact_id="c_ada", statuses=[executor_pb2.EXECUTION_STATUS_COMPLETED]) == sorted(
        [early, done]
    )
    assert await search(start_time=ts(flow, days=-1)) == sorted([done, waiting, other])
    assert await search(end_time=ts(flow, days=-1)) == [early]
    assert len(await search(page_size=1)) == 1


async def test_contact_history_lists_every_automation_for_the_contact(flow: Flow) -> None:
    first = await flow.start(QUICK, automation_id="auto_a", contact={**ADA, "id": "c_hist"})
    second = await flow.start(
        QUICK,
        automation_id="auto_b",
        contact={**ADA, "id": "c_hist"},
        created_at=flow.clock.now() + timedelta(seconds=1),
    )
    await flow.start(QUICK, automation_id="auto_a")
    for execution_id in (first, second):
        await flow.settled(execution_id, "completed")
    page = await flow.stub.GetContactHistory(
        executor_pb2.GetContactHistoryRequest(contact_id="c_hist", page_size=1), metadata=flow.metadata
    )
    assert [ex.id for ex in page.executions] == [second]
    rest = await flow.stub.GetContactHistory(
        executor_pb2.GetContactHistoryRequest(contact_id="c_hist", page_token=page.next_page_token),
        metadata=flow.metadata,
    )
    assert [ex.id for ex in rest.executions] == [first]
    assert rest.next_page_token == ""


async def test_bad_requests_name_the_fields_at_fault(flow: Flow) -> None:
    stub, meta = flow.stub, flow.metadata
    cases: list[tuple[Awaitable[Any], list[str]]] = [
        (stub.ListExecutions(executor_pb2.ListExecutionsRequest(), metadata=meta), ["automation_id"]),
        (
            stub.ListExecutions(
                executor_pb2.ListExecutionsRequest(automation_id="a", page_size=-1, page_token="%%"),
                metadata=meta,
            ),
            ["page_size", "page_token"],
        ),
        (stub.GetExecution(executor_pb2.GetExecutionRequest(), metadata=meta), ["execution_id"]),
        (
            stub.SearchExecutions(
                executor_pb2.SearchExecutionsRequest(
                    automation_id="a",
                    statuses=[UNKNOWN_STATUS],
                    start_time=ts(flow),
                    end_time=ts(flow, days=-1),
                ),
                metadata=meta,
            ),
            ["statuses[0]", "end_time"],
        ),
        (stub.CancelExecution(executor_pb2.CancelExecutionRequest(), metadata=meta), ["execution_id"]),
        (stub.RetryExecution(executor_pb2.RetryExecutionRequest(), metadata=meta), ["execution_id"]),
        (
            stub.ListScheduled(executor_pb2.ListScheduledRequest(page_token="garbage"), metadata=meta),
            ["page_token"],
        ),
        (stub.CancelScheduled(executor_pb2.CancelScheduledRequest(), metadata=meta), ["id"]),
        (stub.GetContactHistory(executor_pb2.GetContactHistoryRequest(), metadata=meta), ["contact_id"]),
    ]
    for call, fields in cases:
        error = await rpc_error(call)
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert violations(error) == fields


async def test_retry_refuses_an_execution_that_has_not_failed(flow: Flow) -> None:
    execution_id = await flow.start(QUICK)
    await flow.settled(execution_id, "completed")
    error = await rpc_error(
        flow.stub.RetryExecution(
            executor_pb2.RetryExecutionRequest(execution_id=execution_id), metadata=flow.metadata
        )
    )
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION


async def test_cancelling_scheduled_work_deletes_it_and_cancels_its_execution(flow: Flow) -> None:
    execution_id = await flow.start(PAUSE, automation_id="auto_sched")
    await flow.settled(execution_id, "waiting")
    listed = await flow.stub.ListScheduled(
        executor_pb2.ListScheduledRequest(automation_id="auto_sched"), metadata=flow.metadata
    )
    [work] = listed.scheduled
    assert (work.execution_id, work.automation_id, work.contact_id, work.kind) == (
        execution_id,
        "auto_sched",
        "c_ada",
        "delay",
    )

    await flow.stub.CancelScheduled(executor_pb2.CancelScheduledRequest(id=work.id), metadata=flow.metadata)
    assert await flow.scheduled(execution_id) == []
    cancelled = await flow.get(execution_id)
    assert cancelled.status == executor_pb2.EXECUTION_STATUS_CANCELLED
    assert [s.status for s in cancelled.steps] == [executor_pb2.STEP_STATUS_SKIPPED]
    error = await rpc_error(
        flow.stub.CancelScheduled(executor_pb2.CancelScheduledRequest(id=work.id), metadata=flow.metadata)
    )
    assert error.code() == grpc.StatusCode.NOT_FOUND


async def test_scheduled_work_pages_soonest_first(flow: Flow) -> None:
    runs = []
    for hours in (3, 1, 2):
        runs.append(
            await flow.start({"actions": [{"type": "wait", "config": {"value": hours, "unit": "hours"}}]})
        )
    for execution_id in runs:
        await flow.settled(execution_id, "waiting")
    first = await flow.stub.ListScheduled(
        executor_pb2.ListScheduledRequest(page_size=2), metadata=flow.metadata
    )
    rest = await flow.stub.ListScheduled(
        executor_pb2.ListScheduledRequest(page_token=first.next_page_token), metadata=flow.metadata
    )
    order = [w.execution_id for w in [*first.scheduled, *rest.scheduled]]
    assert order == [runs[1], runs[2], runs[0]]


async def test_step_logs_mask_personal_data(flow: Flow) -> None:
    execution_id = await flow.start(
        {"actions": [{"id": "mail", "type": "test_record", "config": {"note": "call +2348012345678"}}]}
    )
    done = await flow.settled(execution_id, "completed")
    result = json_format.MessageToDict(done.steps[0].result)
    assert result["to"] == "a***@example.com"
    assert result["config"]["note"] == "call +234****5678"


async def test_lifecycle_events_reach_the_executions_stream(flow: Flow, executor: Executor) -> None:
    execution_id = await flow.start(QUICK, created_at=flow.clock.now() - timedelta(seconds=2))
    await flow.settled(execution_id, "completed")
    subject = executor.topology.executions(flow.org, "*")
    sub = await executor.js.subscribe(subject, ordered_consumer=True)
    kinds: list[int] = []
    try:
        while len(kinds) < 3:
            msg = await sub.next_msg(timeout=5)
            event = lifecycle_pb2.ExecutionEvent.FromString(msg.data)
            assert event.execution_id == execution_id
            kinds.append(event.kind)
            if event.kind == lifecycle_pb2.EXECUTION_EVENT_KIND_COMPLETED:
                assert event.queue_wait_ms == 2000
                assert msg.subject.endswith(f".executions.{flow.org}.completed")
    finally:
        await sub.unsubscribe()
    assert kinds == [
        lifecycle_pb2.EXECUTION_EVENT_KIND_STARTED,
        lifecycle_pb2.EXECUTION_EVENT_KIND_STEP_COMPLETED,
        lifecycle_pb2.EXECUTION_EVENT_KIND_COMPLETED,
    ]
    await asyncio.sleep(0)
