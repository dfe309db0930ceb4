"""GET /api/automations/scheduled lists the upcoming fires of time-based triggers too: the
executor's ListScheduled merges the trigger's ListScheduledFires with its timers, soonest first,
paged with one token, and each organization sees only its own (decision 0038)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from beez.api.executor.v1 import executor_pb2, executor_pb2_grpc
from beez.api.trigger.v1 import trigger_pb2
from tests.support.inproc import running_service
from tests.support.servers import create_database, drop_database, unique_prefix
from tests.trigger.conftest import Running
from tests.trigger.schedules_support import time_workflow
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
