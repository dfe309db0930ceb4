"""Bus dead letters: folded from the DLQ stream, listed, shown masked, re-driven once, purged.

Dead letters arrive the way the pull worker writes them (``dlq.<consumer>`` with ``Beez-Dlq-*``
headers); one test makes the real job consumer dead-letter a forged job end to end.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any, cast

import grpc
from sqlalchemy import func, select

from beez.api.executor.v1 import dead_letters_pb2, dead_letters_pb2_grpc
from beez.api.messages.v1 import jobs_pb2
from beez.executor import models
from beez.executor.dlq.domain import REDRIVE_OF, arrival
from beez.executor.dlq.service import DeadLetters
from beez.kit.bus import headers as h
from tests.executor.engine import fakes
from tests.executor.engine.conftest import Executor, Flow
from tests.executor.samples import ADA
from tests.support.rpc import rpc_error, violations

QUICK = {"actions": [{"id": "one", "type": "test_record"}]}
DLQ = dead_letters_pb2
STATE_DEAD = DLQ.DeadLetterState.DEAD_LETTER_STATE_DEAD
STATE_REDRIVEN = DLQ.DeadLetterState.DEAD_LETTER_STATE_REDRIVEN


def stub(executor: Executor) -> Any:
    return dead_letters_pb2_grpc.DeadLetterServiceStub(executor.svc.channel)


async def dead_letter(
    flow: Flow,
    subject: str,
    payload: bytes,
    *,
    consumer: str = "executor-jobs-normal",
    error: str = "TimeoutError: ",
    content_type: str = "application/x-protobuf; type=beez.api.messages.v1.Job",
) -> str:
    """Publishes a dead letter as :class:`~beez.kit.bus.worker.PullWorker` does; its DLQ msg id."""
    seq = uuid.uuid4().int % 10**9
    msg_id = f"dlq:{consumer}:T_JOBS:{seq}"
    headers = {
        h.CONTENT_TYPE: content_type,
        h.ORG_ID: flow.org,
        h.DLQ_ORIGINAL_MSG_ID: f"orig:{seq}",
        h.DLQ_ERROR: error,
        h.DLQ_STREAM: "T_JOBS",
        h.DLQ_SUBJECT: subject,
        h.DLQ_SEQUENCE: str(seq),
        h.DLQ_DELIVERIES: "6",
        h.DLQ_CONSUMER: consumer,
        h.MSG_ID: msg_id,
    }
    await flow.executor.js.publish(flow.executor.topology.dlq(consumer), payload, headers=headers)
    return msg_id


async def dead_start(flow: Flow, execution_id: str | None = None, **options: Any) -> jobs_pb2.Job:
    """A START job for ``QUICK`` (its workflow announced) that a job consumer gave up on."""
    job = flow.start_job(QUICK, execution_id=execution_id, **options)
    await flow.announce(job.start)
    await dead_letter(flow, flow.executor.topology.jobs("normal", flow.org), job.SerializeToString())
    return job


async def listed(flow: Flow, count: int, timeout: float = 10.0, **filters: Any) -> list[DLQ.DeadLetter]:
    """The organization's dead letters, once ``count`` of them are stored."""
    deadline = asyncio.get_running_loop().time() + timeout
    found: list[DLQ.DeadLetter] = []
    while asyncio.get_running_loop().time() < deadline:
        response = await stub(flow.executor).ListDeadLetters(
            DLQ.ListDeadLettersRequest(page_size=200, **filters), metadata=flow.metadata
        )
        found = list(response.dead_letters)
        if len(found) >= count:
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"expected {count} dead letters, have {len(found)}")


async def test_a_job_the_consumer_gives_up_on_is_listed_with_its_consumer_and_category(flow: Flow) -> None:
    job = flow.start_job(QUICK)
    job.organization_id = f"{flow.org}_forged"  # the subject names flow.org: refused at once
    await flow.publish(job, f"start:{job.execution_id}", announce=False)

    [letter] = await listed(flow, 1)
    assert letter.consumer == "executor-jobs-normal"
    assert letter.subject == flow.executor.topology.jobs("normal", flow.org)
    assert letter.error_category == "permanent"
    assert "PermanentError" in letter.error
    assert letter.state == STATE_DEAD
    assert letter.stream_sequence > 0
    # when the DLQ stream stored it, not when (by the service's clock) it was folded in
    stored = letter.dead_lettered_at.ToDatetime(tzinfo=UTC)
    assert abs((stored - datetime.now(UTC)).total_seconds()) < 60


async def test_show_masks_the_payload_and_headers(flow: Flow) -> None:
    await dead_start(flow)
    [letter] = await listed(flow, 1)
    shown = (
        await stub(flow.executor).GetDeadLetter(
            DLQ.GetDeadLetterRequest(id=letter.id), metadata=flow.metadata
        )
    ).dead_letter
    assert ADA["email"] not in shown.payload
    assert "***@" in shown.payload
    assert '"executionId"' in shown.payload  # decoded as the Job it is
    assert shown.headers[h.ORG_ID] == flow.org
    assert shown.payload_size > 0


async def test_redrive_runs_the_job_once_and_a_second_redrive_sends_nothing(
    flow: Flow, provider: fakes.Provider
) -> None:
    job = await dead_start(flow)
    [letter] = await listed(flow, 1)
    api = stub(flow.executor)

    first = await api.RedriveDeadLetter(DLQ.RedriveDeadLetterRequest(id=letter.id), metadata=flow.metadata)
    assert first.redriven and first.dead_letter.state == STATE_REDRIVEN
    assert first.dead_letter.redrive_count == 1
    await flow.settled(job.execution_id, "completed")

    again = await api.RedriveDeadLetter(DLQ.RedriveDeadLetterRequest(id=letter.id), metadata=flow.metadata)
    assert not again.redriven and again.dead_letter.redrive_count == 1
    sent = [row for row in await flow.outbox(".jobs.") if row[1].startswith("redrive:")]
    assert [msg_id for _, msg_id, _ in sent] == [f"redrive:{letter.id}:1"]
    assert sent[0][2] == job.SerializeToString()
    await asyncio.sleep(0.3)
    assert [c.idempotency_key for c in provider.calls if c.execution_id == job.execution_id] == [
        f"exec:{job.execution_id}:step:0:attempt:1"
    ]


async def test_redrive_carries_the_original_headers_and_names_the_dead_letter(flow: Flow) -> None:
    await dead_start(flow)
    [letter] = await listed(flow, 1)
    await stub(flow.executor).RedriveDeadLetter(
        DLQ.RedriveDeadLetterRequest(id=letter.id), metadata=flow.metadata
    )
    t = models.outbox
    async with flow.executor.svc.runtime.db.transaction() as session:
        headers = await session.scalar(select(t.c.headers).where(t.c.msg_id == f"redrive:{letter.id}:1"))
    assert headers is not None
    assert headers[REDRIVE_OF] == letter.id
    assert headers[h.REDRIVE_OF_MESSAGE] == f"orig:{letter.stream_sequence}"  # the original's identity
    assert headers[h.ORG_ID] == flow.org
    assert headers[h.CONTENT_TYPE].endswith("type=beez.api.messages.v1.Job")
    assert not any(name.startswith("Beez-Dlq-") for name in headers)


async def test_redriving_a_message_already_processed_changes_nothing(
    flow: Flow, provider: fakes.Provider
) -> None:
    execution_id = await flow.start(QUICK)
    await flow.settled(execution_id, "completed")
    await dead_start(flow, execution_id=execution_id)
    [letter] = await listed(flow, 1)

    await stub(flow.executor).RedriveDeadLetter(
        DLQ.RedriveDeadLetterRequest(id=letter.id), metadata=flow.metadata
    )
    await asyncio.sleep(0.5)
    execution = await flow.settled(execution_id, "completed")
    assert len(execution.steps) == 1
    assert len([c for c in provider.calls if c.execution_id == execution_id]) == 1


async def test_bulk_redrive_takes_batches_until_none_remain(flow: Flow, provider: fakes.Provider) -> None:
    jobs = [await dead_start(flow) for _ in range(12)]
    await dead_letter(
        flow, flow.executor.topology.jobs("normal", flow.org), b"x", consumer="executor-jobs-low"
    )
    await listed(flow, 13)
    api = stub(flow.executor)

    progress = []
    while True:
        done = await api.RedriveDeadLetters(
            DLQ.RedriveDeadLettersRequest(consumer="executor-jobs-normal", limit=5), metadata=flow.metadata
        )
        progress.append((done.redriven, done.remaining))
        if not done.remaining:
            break
    assert progress == [(5, 7), (5, 2), (2, 0)]
    for job in jobs:
        await flow.settled(job.execution_id, "completed")
    again = await api.RedriveDeadLetters(
        DLQ.RedriveDeadLettersRequest(consumer="executor-jobs-normal"), metadata=flow.metadata
    )
    assert (again.redriven, again.remaining) == (0, 0)
    keys = [c.idempotency_key for c in provider.calls if c.execution_id in {j.execution_id for j in jobs}]
    assert len(keys) == len(set(keys)) == 12
    [other] = await listed(flow, 1, consumer="executor-jobs-low")
    assert other.state == STATE_DEAD


async def test_another_organizations_dead_letter_is_not_found(flow: Flow) -> None:
    await dead_start(flow)
    [letter] = await listed(flow, 1)
    api = stub(flow.executor)
    stranger = [("x-org-id", f"{flow.org}_other")]
    for call in (
        api.GetDeadLetter(DLQ.GetDeadLetterRequest(id=letter.id), metadata=stranger),
        api.RedriveDeadLetter(DLQ.RedriveDeadLetterRequest(id=letter.id), metadata=stranger),
        api.PurgeDeadLetters(DLQ.PurgeDeadLettersRequest(id=letter.id), metadata=stranger),
    ):
        assert (await rpc_error(call)).code() == grpc.StatusCode.NOT_FOUND
    response = await api.ListDeadLetters(DLQ.ListDeadLettersRequest(), metadata=stranger)
    assert not response.dead_letters
    bulk = await api.RedriveDeadLetters(DLQ.RedriveDeadLettersRequest(), metadata=stranger)
    assert (bulk.redriven, bulk.remaining) == (0, 0)
    by_filter = await api.PurgeDeadLetters(
        DLQ.PurgeDeadLettersRequest(consumer=letter.consumer), metadata=stranger
    )
    assert by_filter.purged == 0
    [still] = await listed(flow, 1)
    assert still.state == STATE_DEAD


async def test_redrive_and_purge_need_the_admin_role(flow: Flow) -> None:
    await dead_start(flow)
    [letter] = await listed(flow, 1)
    api = stub(flow.executor)
    editor = [*flow.metadata, ("x-roles", "editor")]
    for call in (
        api.RedriveDeadLetter(DLQ.RedriveDeadLetterRequest(id=letter.id), metadata=editor),
        api.RedriveDeadLetters(DLQ.RedriveDeadLettersRequest(), metadata=editor),
        api.PurgeDeadLetters(DLQ.PurgeDeadLettersRequest(id=letter.id), metadata=editor),
    ):
        assert (await rpc_error(call)).code() == grpc.StatusCode.PERMISSION_DENIED
    viewer = [*flow.metadata, ("x-roles", "viewer")]
    shown = await api.GetDeadLetter(DLQ.GetDeadLetterRequest(id=letter.id), metadata=viewer)
    assert shown.dead_letter.state == STATE_DEAD


async def test_list_filters_and_pages(flow: Flow) -> None:
    subject = flow.executor.topology.jobs("normal", flow.org)
    for _ in range(3):
        await dead_letter(flow, subject, b"a", consumer="executor-jobs-normal", error="PermanentError: bad")
    for _ in range(2):
        await dead_letter(flow, subject, b"b", consumer="executor-jobs-high", error="OperationalError: db")
    await listed(flow, 5)
    permanent = await listed(flow, 3, error_category="permanent")
    assert {d.consumer for d in permanent} == {"executor-jobs-normal"} and len(permanent) == 3
    unavailable = await listed(flow, 2, error_category="unavailable")
    assert {d.consumer for d in unavailable} == {"executor-jobs-high"} and len(unavailable) == 2

    api = stub(flow.executor)
    seen: list[str] = []
    token = ""
    while True:
        page = await api.ListDeadLetters(
            DLQ.ListDeadLettersRequest(page_size=2, page_token=token), metadata=flow.metadata
        )
        seen += [d.id for d in page.dead_letters]
        token = page.next_page_token
        if not token:
            break
    assert len(seen) == len(set(seen)) == 5
    first = await api.ListDeadLetters(DLQ.ListDeadLettersRequest(page_size=2), metadata=flow.metadata)
    error = await rpc_error(
        api.ListDeadLetters(
            DLQ.ListDeadLettersRequest(page_size=2, page_token=first.next_page_token, consumer="x"),
            metadata=flow.metadata,
        )
    )
    assert violations(error) == ["page_token"]


async def test_bad_filters_and_an_unbounded_purge_are_invalid(flow: Flow) -> None:
    api = stub(flow.executor)
    error = await rpc_error(
        api.ListDeadLetters(DLQ.ListDeadLettersRequest(error_category="nope"), metadata=flow.metadata)
    )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and violations(error) == ["error_category"]
    error = await rpc_error(api.PurgeDeadLetters(DLQ.PurgeDeadLettersRequest(), metadata=flow.metadata))
    assert violations(error) == ["id"]
    error = await rpc_error(
        api.RedriveDeadLetters(DLQ.RedriveDeadLettersRequest(limit=5000), metadata=flow.metadata)
    )
    assert violations(error) == ["limit"]
    error = await rpc_error(
        api.RedriveDeadLetters(DLQ.RedriveDeadLettersRequest(limit=-1), metadata=flow.metadata)
    )
    assert violations(error) == ["limit"]
    error = await rpc_error(
        api.ListDeadLetters(DLQ.ListDeadLettersRequest(page_size=-1), metadata=flow.metadata)
    )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT and violations(error) == ["page_size"]
    later, earlier = DLQ.ListDeadLettersRequest(), datetime(2026, 1, 1, tzinfo=UTC)
    later.start_time.FromDatetime(earlier)
    later.end_time.FromDatetime(earlier)
    error = await rpc_error(api.ListDeadLetters(later, metadata=flow.metadata))
    assert violations(error) == ["end_time"]
    error = await rpc_error(
        api.ListDeadLetters(DLQ.ListDeadLettersRequest(state=cast(Any, 7)), metadata=flow.metadata)
    )
    assert violations(error) == ["state"]


async def test_purge_by_id_and_by_filter(flow: Flow) -> None:
    subject = flow.executor.topology.jobs("normal", flow.org)
    for _ in range(3):
        await dead_letter(flow, subject, b"a", consumer="executor-jobs-normal")
    await dead_letter(flow, subject, b"b", consumer="executor-jobs-high")
    letters = await listed(flow, 4)
    api = stub(flow.executor)
    one = next(d for d in letters if d.consumer == "executor-jobs-high")
    purged = await api.PurgeDeadLetters(DLQ.PurgeDeadLettersRequest(id=one.id), metadata=flow.metadata)
    assert purged.purged == 1
    purged = await api.PurgeDeadLetters(
        DLQ.PurgeDeadLettersRequest(consumer="executor-jobs-normal"), metadata=flow.metadata
    )
    assert purged.purged == 3
    response = await api.ListDeadLetters(DLQ.ListDeadLettersRequest(), metadata=flow.metadata)
    assert not response.dead_letters


async def test_an_automation_change_is_not_redriven_by_the_executor(flow: Flow) -> None:
    await dead_letter(
        flow,
        flow.executor.topology.automation_changed(flow.org),
        b"change",
        consumer="trigger-automations",
        content_type="application/octet-stream",
    )
    [letter] = await listed(flow, 1)
    api = stub(flow.executor)
    error = await rpc_error(
        api.RedriveDeadLetter(DLQ.RedriveDeadLetterRequest(id=letter.id), metadata=flow.metadata)
    )
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    bulk = await api.RedriveDeadLetters(DLQ.RedriveDeadLettersRequest(), metadata=flow.metadata)
    assert (bulk.redriven, bulk.remaining) == (0, 0)


async def test_a_dead_letter_delivered_twice_is_stored_once(flow: Flow) -> None:
    executor = flow.executor
    service = DeadLetters(executor.svc.runtime.db, executor.topology, executor.clock)
    headers = {
        h.MSG_ID: f"dlq:x:T_JOBS:{uuid.uuid4().hex}",
        h.DLQ_SUBJECT: executor.topology.jobs("low", flow.org),
    }
    letter = arrival(executor.topology, executor.topology.dlq("x"), b"p", headers, 7)
    assert await service.store(letter)
    assert not await service.store(letter)
    t = models.BusDeadLetter
    async with executor.svc.runtime.db.transaction() as session:
        count = await session.scalar(select(func.count()).where(t.dlq_msg_id == headers[h.MSG_ID]))
    assert count == 1
