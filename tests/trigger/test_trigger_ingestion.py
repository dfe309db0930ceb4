"""Both ways in, one ingestion: gRPC and events straight on NATS, each event once."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from nats.js import api

from beez.api.messages.v1.events_pb2 import Event
from beez.kit import db as kit_db
from beez.kit.bus.headers import REDRIVE_OF_MESSAGE
from beez.kit.bus.limits import edge_limit, event_limit
from beez.kit.grpc.errors import InvalidArgument
from beez.trigger import repository
from beez.trigger.ingest import Ingestor
from beez.trigger.repository import enrollments
from tests.trigger.support import Harness, event, workflow


async def test_the_same_event_published_twice_starts_one_execution(trigger: Harness) -> None:
    await trigger.automation("auto-1", workflow())
    first = await trigger.publish(event(id="evt-1"))
    second = await trigger.publish(event(id="evt-1", contact="c_2"))
    assert (first.accepted, second.accepted) == (True, False)
    assert len(await trigger.starts()) == 1


async def test_a_repeated_id_within_one_batch_is_accepted_once(trigger: Harness) -> None:
    await trigger.automation("auto-1", workflow())
    results = await trigger.publish_many([event(id="e1"), event(id="e1", contact="c_2"), event(id="e2")])
    assert [(r.event_id, r.accepted) for r in results] == [("e1", True), ("e1", False), ("e2", True)]
    # e1 and e2 are about c_1, whose one concurrency slot e1 took
    assert len(await trigger.starts()) == 1


async def test_an_event_without_an_id_gets_one(trigger: Harness) -> None:
    result = await trigger.publish(event())
    assert result.accepted
    assert result.event_id.startswith("evt_")
    [row] = await trigger.sql("SELECT event_id FROM trigger.events WHERE org_id = :org", org=trigger.org)
    assert row.event_id == result.event_id


async def test_an_event_on_nats_is_ingested_with_the_org_of_its_subject(trigger: Harness) -> None:
    await trigger.automation("auto-1", workflow())
    await trigger.automation("auto-x", workflow(), org=trigger.other_org)
    evt = event(id="nats-1")
    evt.organization_id = trigger.other_org  # the body never decides the organization
    await trigger.publish_nats(evt, msg_id="nats-1")

    [job] = await trigger.starts()
    assert job.organization_id == trigger.org
    assert job.start.automation_id == trigger.id("auto-1")
    assert job.start.event.organization_id == trigger.org
    assert await trigger.starts(trigger.other_org) == []
    rows = await trigger.sql("SELECT org_id FROM trigger.events WHERE event_id = 'nats-1'")
    assert [row.org_id for row in rows] == [trigger.org]


async def test_a_json_event_on_nats_takes_its_type_from_the_subject(trigger: Harness) -> None:
    await trigger.automation("auto-1", workflow({"type": "form_submitted", "filters": {"form": "demo"}}))
    body = {"id": "json-1", "contactId": "c_9", "data": {"form": "demo"}, "contact": {"firstName": "Ada"}}
    await trigger.publish_nats(
        json.dumps(body).encode(),
        type_="form.submitted",
        msg_id="json-1",
        headers={"Content-Type": "application/json"},
    )
    [job] = await trigger.starts()
    assert job.start.event.type == "form.submitted"
    assert job.start.event.contact.first_name == "Ada"
    assert job.start.contact_id == "c_9"


async def test_an_event_sent_by_rpc_and_again_on_nats_starts_one_execution(trigger: Harness) -> None:
    await trigger.automation("auto-1", workflow())
    assert (await trigger.publish(event(id="both-1"))).accepted
    await trigger.publish_nats(event(id="both-1"), msg_id="both-1")
    assert len(await trigger.starts()) == 1

    await trigger.publish_nats(event(id="both-2", contact="c_2"), msg_id="both-2")
    assert not (await trigger.publish(event(id="both-2", contact="c_2"))).accepted
    assert len(await trigger.starts()) == 2


async def test_an_event_on_nats_without_an_id_takes_its_message_id(trigger: Harness) -> None:
    """So every delivery of the message is the same event."""
    await trigger.automation("auto-1", workflow())
    await trigger.publish_nats(event(), msg_id="transport-1")
    rows = await trigger.sql("SELECT event_id FROM trigger.events WHERE org_id = :org", org=trigger.org)
    assert [row.event_id for row in rows] == ["transport-1"]
    assert len(await trigger.starts()) == 1


async def test_a_redriven_event_without_an_id_that_was_ingested_after_all_starts_nothing_again(
    trigger: Harness,
) -> None:
    """A dead letter's re-drive has a Nats-Msg-Id of its own; the original's identity comes along
    in Beez-Redrive-Of-Message (decision 0029), so the event keeps the id it was ingested under."""
    await trigger.automation("auto-1", workflow())
    await trigger.publish_nats(event(), msg_id="transport-2")
    await trigger.publish_nats(
        event(),
        msg_id="redrive:dl_1:1",
        headers={REDRIVE_OF_MESSAGE: "transport-2", "Beez-Redrive-Of": "dl_1"},
    )
    rows = await trigger.sql("SELECT event_id FROM trigger.events WHERE org_id = :org", org=trigger.org)
    assert [row.event_id for row in rows] == ["transport-2"]
    assert len(await trigger.starts()) == 1


async def test_an_invalid_event_on_nats_is_dead_lettered(trigger: Harness) -> None:
    dlq = await trigger.js.pull_subscribe(
        trigger.topology.dlq("trigger-events"),
        stream=trigger.topology.stream("DLQ"),
        config=api.ConsumerConfig(deliver_policy=api.DeliverPolicy.NEW),
    )
    try:
        await trigger.publish_nats(
            Event(id="bad-1", type="tag.added"), type_="list.joined", msg_id="bad-1"
        )  # the body's type contradicts the subject
        [dead] = await dlq.fetch(1, timeout=5)
        assert dead.headers is not None
        assert "tag.added" in dead.headers["Beez-Dlq-Error"]
        assert await trigger.sql("SELECT 1 FROM trigger.events WHERE org_id = :org", org=trigger.org) == []
    finally:
        await dlq.unsubscribe()


async def test_concurrent_copies_of_one_event_start_one_execution(trigger: Harness) -> None:
    await trigger.automation(
        "auto-1", workflow(settings={"reentry": "always", "maxConcurrentPerContact": 50})
    )
    results = await asyncio.gather(*(trigger.publish(event(id="race-1")) for _ in range(10)))
    assert sum(r.accepted for r in results) == 1
    assert len(await trigger.starts()) == 1


async def test_events_of_several_organizations_share_one_transaction_and_stay_apart(trigger: Harness) -> None:
    """The events consumer batches by a hash of the organization, so one ingestion may hold many
    organizations: each event still matches only its own organization's automations."""
    await trigger.automation("auto-1", workflow())
    await trigger.automation("auto-x", workflow(), org=trigger.other_org)
    runtime = trigger.svc.runtime
    ingestor = Ingestor(
        runtime.db, runtime.clock, runtime.topology, max_event_bytes=65536, compiled_cache_size=16
    )
    mine, theirs, again = event(id="m1"), event(id="t1", contact="c_9"), event(id="m1")
    for org, evt in ((trigger.org, mine), (trigger.other_org, theirs)):
        evt.organization_id = org
    results = await ingestor.ingest_many(
        [(trigger.org, mine), (trigger.other_org, theirs), (trigger.org, again)]
    )

    assert [(r.event_id, r.accepted, len(r.execution_ids)) for r in results] == [
        ("m1", True, 1),
        ("t1", True, 1),
        ("m1", False, 0),
    ]
    [own] = await trigger.starts()
    [other] = await trigger.starts(trigger.other_org)
    assert (own.start.automation_id, own.execution_id) == (trigger.id("auto-1"), results[0].execution_ids[0])
    assert (other.start.automation_id, other.organization_id) == (trigger.id("auto-x"), trigger.other_org)
    [row] = await trigger.sql(
        "SELECT count(DISTINCT xmin::text) AS transactions FROM trigger.events WHERE event_id IN ('m1', 't1')"
    )
    assert row.transactions == 1


async def test_a_batch_of_many_organizations_costs_the_round_trips_of_one(
    trigger: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Recording, matching reads and enrolment are set-based across the batch's organizations:
    a batch from five tenants goes to PostgreSQL in as many round trips as one tenant's, and
    each tenant's event (all five with the same id) starts its own execution."""
    orgs = [trigger.org, trigger.other_org, *(f"{trigger.org}-{i}" for i in range(3))]
    for index, org in enumerate(orgs):
        await trigger.automation(f"auto-{index}", workflow(), org=org)
    runtime = trigger.svc.runtime
    ingestor = Ingestor(
        runtime.db, runtime.clock, runtime.topology, max_event_bytes=65536, compiled_cache_size=16
    )
    round_trips = 0
    real = kit_db.pipelined

    async def counted(*args: Any, **kwargs: Any) -> Any:
        nonlocal round_trips
        round_trips += 1
        return await real(*args, **kwargs)

    monkeypatch.setattr(repository, "pipelined", counted)  # ingestion's lookups
    monkeypatch.setattr(enrollments, "pipelined", counted)  # the set-based enrolment
    items = []
    for index, org in enumerate(orgs):
        evt = event(id="same-id", contact=f"c_{index}")  # an event id is an organization's own
        evt.organization_id = org
        items.append((org, evt))
    results = await ingestor.ingest_many(items)

    assert [len(r.execution_ids) for r in results] == [1] * 5
    assert len({r.execution_ids[0] for r in results}) == 5
    assert round_trips == 2  # the lookups of every organization, then every enrolment
    for index, org in enumerate(orgs):
        [start] = await trigger.starts(org)
        assert start.start.automation_id == trigger.id(f"auto-{index}")


async def test_an_event_over_a_quarter_of_max_payload_is_refused_whatever_the_setting(
    trigger: Harness,
) -> None:
    """The configured limit is only a lower bound: the server's max_payload/4 caps it, so an
    accepted event always fits a START job next to any accepted workflow (decision 0026)."""
    runtime = trigger.svc.runtime
    assert runtime.nc is not None
    limit = event_limit(runtime.nc.max_payload)
    ingestor = Ingestor(
        runtime.db,
        runtime.clock,
        runtime.topology,
        max_event_bytes=edge_limit(16 * 1024 * 1024, event_limit, lambda: runtime.nc),
        compiled_cache_size=16,
    )
    big = event(id="big-1", data={"blob": "x" * limit})

    with pytest.raises(InvalidArgument) as err:
        ingestor.prepare(trigger.org, [big], ["event"])

    assert [(v.field, v.description) for v in err.value.violations] == [
        ("event", f"is larger than {limit} bytes")
    ]
    [fits] = ingestor.prepare(trigger.org, [event(id="ok-1", data={"blob": "x" * (limit - 4096)})], ["event"])
    assert fits.id == "ok-1"
