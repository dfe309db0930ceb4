"""GET /api/automations/scheduled lists the upcoming fires of time-based triggers too: the
executor's ListScheduled merges the trigger's ListScheduledFires with its timers, soonest first,
paged with one token, and each organization sees only its own (decision 0038)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import grpc
import pytest

from beez.api.executor.v1 import executor_pb2, executor_pb2_grpc
from beez.api.trigger.v1 import trigger_pb2
from tests.cli.conftest import beez, executor_gateway
from tests.support.inproc import running_service
from tests.support.servers import create_database, drop_database, unique_prefix
from tests.trigger.conftest import Running
from tests.trigger.schedules_support import advance, fires, started, time_workflow
from tests.trigger.support import Harness, event


@pytest.fixture
async def executor_stub(admin_url: str, nats_url: str, trigger_service: Running) -> AsyncIterator[Any]:
    """An executor whose ListScheduled asks the suite's trigger service for its fires."""
    database_url = create_database(admin_url)
    try:
        async with running_service(
            "executor",
            database_url,
            nats_url,
            unique_prefix(),
            clock=trigger_service.clock,
            trigger_addr=f"127.0.0.1:{trigger_service.svc.server.port}",
        ) as svc:
            yield executor_pb2_grpc.ExecutionServiceStub(svc.channel), svc
    finally:
        drop_database(admin_url, database_url)


async def test_list_scheduled_shows_upcoming_trigger_fires_soonest_first_and_paged(
    trigger: Harness, executor_stub: Any
) -> None:
    h = trigger
    stub, svc = executor_stub
    await h.automation("cron", time_workflow("cron", {"expression": "0 */6 * * *", "timezone": "UTC"}))
    await h.automation(
        "delay", time_workflow("delay", {"delay": {"value": 1, "unit": "hours"}}, event="form.submitted")
    )
    await h.publish(event("form.submitted", id="e-1", contact="c_1"))
    h.clock.advance(timedelta(minutes=1))
    await h.publish(event("form.submitted", id="e-2", contact="c_2"))
    await h.automation("other", time_workflow("cron", {"expression": "0 9 * * *"}), org=h.other_org)

    seen: list[executor_pb2.ScheduledWork] = []
    token = ""
    while True:
        page = await stub.ListScheduled(
            executor_pb2.ListScheduledRequest(page_size=1, page_token=token), metadata=svc.metadata(h.org)
        )
        seen.extend(page.scheduled)
        token = page.next_page_token
        if not token:
            break
    assert h.id("other") not in {work.automation_id for work in seen}  # the other organization's
    kinds = sorted(work.kind for work in seen)
    assert kinds == ["trigger_deferred", "trigger_deferred", "trigger_schedule"]
    due = [(work.due_at.ToDatetime(), work.id) for work in seen]
    assert due == sorted(due)
    assert sorted(work.contact_id for work in seen if work.kind == "trigger_deferred") == ["c_1", "c_2"]

    # filtered by automation, and straight from the trigger
    only = await stub.ListScheduled(
        executor_pb2.ListScheduledRequest(automation_id=h.id("cron")), metadata=svc.metadata(h.org)
    )
    assert [work.kind for work in only.scheduled] == ["trigger_schedule"]
    direct = await h.stub.ListScheduledFires(trigger_pb2.ListScheduledFiresRequest(), metadata=h.metadata())
    assert sorted(fire.kind for fire in direct.fires) == ["deferred", "deferred", "recurrence"]
    theirs = await h.stub.ListScheduledFires(
        trigger_pb2.ListScheduledFiresRequest(), metadata=h.metadata(h.other_org)
    )
    assert [fire.automation_id for fire in theirs.fires] == [h.id("other")]


async def test_cancel_scheduled_cancels_a_trigger_fire_through_the_executor_rpc_rest_and_cli(
    trigger: Harness, executor_stub: Any
) -> None:
    """DELETE /api/automations/scheduled/{id} with a fire's id cancels it in the trigger: a
    deferred fire is dropped, a schedule's occurrence skipped for the next one, a fan-out part-way
    through stops; another organization's id is NOT_FOUND (decision 0038)."""
    h = trigger
    stub, svc = executor_stub
    await h.automation("cron", time_workflow("cron", {"expression": "0 */6 * * *", "timezone": "UTC"}))
    await h.automation(
        "delay", time_workflow("delay", {"delay": {"value": 1, "unit": "hours"}}, event="form.submitted")
    )
    await h.publish(event("form.submitted", id="e-1", contact="c_1"))
    await h.publish(event("form.submitted", id="e-2", contact="c_2"))
    before = await fires(h)
    [occurrence] = [fire for fire in before if fire.kind == "recurrence"]
    deferred = [fire.id for fire in before if fire.kind == "deferred"]

    # another organization cannot cancel (or learn of) this one's fire; unknown timers neither
    for other_id, org in ((deferred[0], h.other_org), ("tmr_nothing", h.org), ("nothing:1", h.org)):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.CancelScheduled(
                executor_pb2.CancelScheduledRequest(id=other_id), metadata=svc.metadata(org)
            )
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    assert await fires(h) == before

    # through the executor's RPC: the deferred fire is dropped, nothing else
    await stub.CancelScheduled(
        executor_pb2.CancelScheduledRequest(id=deferred[0]), metadata=svc.metadata(h.org)
    )
    assert [fire.id for fire in await fires(h)] == [fire.id for fire in before if fire.id != deferred[0]]

    # through REST (the gateway) with the CLI: the schedule's occurrence is skipped, the next planned
    async with executor_gateway(svc.server.port) as url:
        env = {"BEEZ_API_URL": url, "BEEZ_ORG": h.org}
        done = await beez("executions", "cancel-scheduled", occurrence.id, env=env)
        assert done.exit_code == 0, done.output
        assert f"{occurrence.id}: cancelled" in done.stdout
        again = await beez("executions", "cancel-scheduled", occurrence.id, env=env)
        assert again.exit_code == 1 and "NOT_FOUND" in again.output
    [later] = [fire for fire in await fires(h) if fire.kind == "recurrence"]
    assert later.due_at == occurrence.due_at + timedelta(hours=6)
    assert [fire.id for fire in await fires(h) if fire.kind == "deferred"] == deferred[1:]

    # a fan-out part-way through (its cursor after a page): cancelling enrolls no one more
    await h.sql("UPDATE trigger.scheduled_fires SET cursor = 'c_5' WHERE id = :id RETURNING id", id=later.id)
    await stub.CancelScheduled(executor_pb2.CancelScheduledRequest(id=later.id), metadata=svc.metadata(h.org))
    [following] = [fire for fire in await fires(h) if fire.kind == "recurrence"]
    assert following.due_at == later.due_at + timedelta(hours=6)
    await advance(h, later.due_at - h.clock.now() + timedelta(minutes=1))
    assert [job.start.automation_id for job in await started(h)] == [h.id("delay")]  # c_2's, not cron
