"""PublishEvents validation and limits, ListEvents, and tenant isolation on every RPC."""

from __future__ import annotations

from datetime import timedelta

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from beez.api.messages.v1.events_pb2 import Event
from beez.api.trigger.v1 import trigger_pb2
from tests.trigger.support import Harness, event, workflow


def violations(error: grpc.aio.AioRpcError) -> dict[str, str]:
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    assert status is not None
    found: dict[str, str] = {}
    for detail in status.details:
        bad = error_details_pb2.BadRequest()
        if detail.Unpack(bad):
            found.update({v.field: v.description for v in bad.field_violations})
    return found


async def test_a_batch_with_bad_events_reports_each_by_path_and_writes_nothing(trigger: Harness) -> None:
    await trigger.automation("auto-1", workflow())
    batch = [
        event(id="ok-1"),
        Event(id="no-type", contact_id="c_1"),
        event("Not A Type!", id="bad-type"),
        event(id="has space"),
        Event(id="mismatch", type="list.joined", contact_id="c_1", contact={"id": "c_2"}),
        event(id="ok-2"),
    ]
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await trigger.publish_many(batch)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    found = violations(caught.value)
    assert set(found) == {"events[1].type", "events[2].type", "events[3].id", "events[4].contactId"}
    assert found["events[1].type"] == "is required"
    assert await trigger.sql("SELECT 1 FROM trigger.events WHERE org_id = :org", org=trigger.org) == []
    assert await trigger.outbox_jobs() == []


async def test_a_single_invalid_event_is_reported_under_event(trigger: Harness) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await trigger.publish(Event())
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert set(violations(caught.value)) == {"event.type"}


async def test_a_batch_over_the_limit_is_refused(trigger: Harness) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await trigger.publish_many([event(id=f"e{i}") for i in range(501)])
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "events" in violations(caught.value)
    accepted = await trigger.publish_many([event(id=f"e{i}", contact=f"c{i}") for i in range(500)])
    assert all(r.accepted for r in accepted)


async def test_another_orgs_events_never_start_an_orgs_automations(trigger: Harness) -> None:
    await trigger.automation("auto-1", workflow())
    await trigger.publish(event(id="same-id"), org=trigger.other_org)
    await trigger.publish(
        event("automation.triggered", data={"automation_id": trigger.id("auto-1")}), org=trigger.other_org
    )
    assert await trigger.starts() == []
    assert await trigger.starts(trigger.other_org) == []
    # ids are per organization: the same id in the first org is a new event
    assert (await trigger.publish(event(id="same-id"))).accepted
    assert len(await trigger.starts()) == 1


async def test_list_events_shows_only_the_callers_events(trigger: Harness) -> None:
    await trigger.publish(event(id="mine"))
    await trigger.publish(event(id="theirs"), org=trigger.other_org)
    mine = await trigger.stub.ListEvents(trigger_pb2.ListEventsRequest(), metadata=trigger.metadata())
    theirs = await trigger.stub.ListEvents(
        trigger_pb2.ListEventsRequest(), metadata=trigger.metadata(trigger.other_org)
    )
    assert [r.event.id for r in mine.events] == ["mine"]
    assert [r.event.id for r in theirs.events] == ["theirs"]
    assert mine.events[0].event.organization_id == trigger.org


async def test_list_events_pages_newest_first_with_the_executions_each_started(trigger: Harness) -> None:
    await trigger.automation("auto-1", workflow({"type": "list_joined", "filters": {"list": "VIP"}}))
    for i in range(7):
        data = {"list": "VIP"} if i == 2 else {}
        await trigger.publish(event(id=f"e{i}", contact=f"c{i}", data=data))
        trigger.clock.advance(timedelta(seconds=1))

    seen: list[str] = []
    token = ""
    pages = 0
    while True:
        page = await trigger.stub.ListEvents(
            trigger_pb2.ListEventsRequest(page_size=3, page_token=token), metadata=trigger.metadata()
        )
        seen += [r.event.id for r in page.events]
        pages += 1
        token = page.next_page_token
        if not token:
            break
    assert seen == [f"e{i}" for i in reversed(range(7))]
    assert pages == 3

    [started] = await trigger.starts()
    everything = await trigger.stub.ListEvents(trigger_pb2.ListEventsRequest(), metadata=trigger.metadata())
    by_id = {r.event.id: list(r.execution_ids) for r in everything.events}
    assert by_id["e2"] == [started.execution_id]
    assert by_id["e3"] == []
    assert all(r.HasField("received_at") for r in everything.events)


async def test_list_events_filters_by_type_contact_and_time(trigger: Harness) -> None:
    start = trigger.clock.now()
    await trigger.publish(event("list.joined", id="a", contact="c_1"))
    trigger.clock.advance(timedelta(minutes=5))
    await trigger.publish(event("tag.added", id="b", contact="c_1"))
    await trigger.publish(event("list.joined", id="c", contact="c_2"))

    async def ids(request: trigger_pb2.ListEventsRequest) -> list[str]:
        page = await trigger.stub.ListEvents(request, metadata=trigger.metadata())
        return [r.event.id for r in page.events]

    since = Timestamp()
    since.FromDatetime(start + timedelta(minutes=1))
    request = trigger_pb2.ListEventsRequest
    assert sorted(await ids(request(type="list.joined"))) == ["a", "c"]
    assert sorted(await ids(request(contact_id="c_1"))) == ["a", "b"]
    assert sorted(await ids(request(since=since))) == ["b", "c"]
    assert await ids(request(type="list.joined", contact_id="c_2")) == ["c"]


async def test_list_events_refuses_a_forged_page_token(trigger: Harness) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await trigger.stub.ListEvents(
            trigger_pb2.ListEventsRequest(page_token="not-a-token"), metadata=trigger.metadata()
        )
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert set(violations(caught.value)) == {"page_token"}  # the proto field, as in every service
