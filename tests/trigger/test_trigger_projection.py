"""The contact projection through the running trigger service: snapshots, counters, RFM, dates,
deletion, idempotent redelivery, the bulk import, GetContact and ListFields, per organization."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import grpc

from beez.api.messages.v1.events_pb2 import Event
from beez.api.messages.v1.lifecycle_pb2 import WaitKind
from beez.api.trigger.v1 import contacts_pb2, contacts_pb2_grpc
from beez.trigger import projection
from beez.trigger.repository import Repository
from beez.workflow.context import contact_from_json, event_from_json
from beez.workflow.model import struct_to_dict
from tests.support.rpc import rpc_error, violations
from tests.trigger.conftest import START
from tests.trigger.support import Harness


def counters(found: contacts_pb2.ProjectedContact) -> dict[str, Any]:
    """The contact's counters as plain JSON: {type: {day: count}}."""
    return struct_to_dict(found.counters)


def contacts_stub(trigger: Harness) -> contacts_pb2_grpc.ContactServiceAsyncStub:
    return contacts_pb2_grpc.ContactServiceStub(trigger.svc.channel)  # type: ignore[return-value]


def contact_event(
    type_: str,
    contact: str,
    *,
    id: str = "",
    at: datetime = START,
    snapshot: dict[str, Any] | None = None,
    data: dict[str, Any] | None = None,
) -> Event:
    body: dict[str, Any] = {
        "type": type_,
        "contactId": contact,
        "occurredAt": at.isoformat(),
        "data": dict(data or {}),
    }
    if id:
        body["id"] = id
    if snapshot is not None:
        body["contact"] = {"id": contact, **snapshot}
    return event_from_json(body)


async def get(trigger: Harness, contact: str, org: str | None = None) -> contacts_pb2.ProjectedContact:
    response: contacts_pb2.GetContactResponse = await contacts_stub(trigger).GetContact(
        contacts_pb2.GetContactRequest(contact_id=contact), metadata=trigger.metadata(org)
    )
    return response.contact


async def import_contacts(
    trigger: Harness,
    contacts: Sequence[dict[str, Any]],
    *,
    at: datetime | None = None,
    org: str | None = None,
) -> contacts_pb2.ImportContactsResponse:
    request = contacts_pb2.ImportContactsRequest(contacts=[contact_from_json(c) for c in contacts])
    if at is not None:
        request.observed_at.FromDatetime(at)
    response: contacts_pb2.ImportContactsResponse = await contacts_stub(trigger).ImportContacts(
        request, metadata=trigger.metadata(org)
    )
    return response


async def test_a_snapshot_is_projected_with_its_dates_and_custom_fields(trigger: Harness) -> None:
    snapshot = {
        "email": "ada@example.com",
        "phone": "+2348012345678",
        "tags": ["vip", "beta"],
        "lists": ["news"],
        "score": 42,
        "timezone": "Africa/Lagos",
        "fields": {"plan": "pro", "birthday": "1990-02-14", "country": "ng", "lifecycle_stage": "lead"},
    }
    await trigger.publish(contact_event("contact.created", "c_1", snapshot=snapshot))

    found = await get(trigger, "c_1")
    assert (found.contact.email, found.contact.score, found.country, found.lifecycle_stage) == (
        "ada@example.com",
        42,
        "NG",
        "lead",
    )
    assert list(found.contact.tags) == ["beta", "vip"]
    assert found.contact.fields["plan"] == "pro"
    assert dict(found.dates) == {"birthday": "1990-02-14", "created_at": START.date().isoformat()}
    [row] = await trigger.sql(
        "SELECT month_day FROM trigger.contact_dates WHERE org_id = :org AND field = 'birthday'",
        org=trigger.org,
    )
    assert row.month_day == 214
    assert counters(found)["contact.created"][START.date().isoformat()] == 1


async def test_an_older_snapshot_never_overwrites_newer_values_but_still_counts(trigger: Harness) -> None:
    await trigger.publish(
        contact_event("contact.updated", "c_1", at=START, snapshot={"fields": {"plan": "enterprise"}})
    )
    older = START - timedelta(hours=1)
    await trigger.publish(
        contact_event(
            "email.opened", "c_1", at=older, snapshot={"email": "old@example.com", "fields": {"plan": "free"}}
        )
    )

    found = await get(trigger, "c_1")
    assert found.contact.fields["plan"] == "enterprise"
    assert found.contact.email == ""
    assert counters(found)["email.opened"][older.date().isoformat()] == 1
    assert found.observed_at.ToDatetime().replace(tzinfo=START.tzinfo) == START


async def test_a_redelivered_event_changes_nothing(trigger: Harness) -> None:
    purchase = contact_event("purchase.made", "c_1", id="evt-buy-1", data={"amount": 30})
    assert (await trigger.publish(purchase)).accepted
    assert not (await trigger.publish(purchase)).accepted
    found = await get(trigger, "c_1")
    assert (found.purchase_count, found.monetary) == (1, 30.0)
    assert counters(found)["purchase.made"][START.date().isoformat()] == 1


async def test_purchases_and_payments_feed_rfm(trigger: Harness) -> None:
    await trigger.publish(
        contact_event("purchase.made", "c_1", at=START - timedelta(days=3), data={"amount": 20.5})
    )
    await trigger.publish(contact_event("payment.received", "c_1", at=START, data={"total": 100}))
    await trigger.publish(
        contact_event("purchase.made", "c_1", at=START - timedelta(days=9), data={"value": 1})
    )
    found = await get(trigger, "c_1")
    assert (found.purchase_count, found.monetary) == (3, 121.5)
    assert found.last_purchase_at.ToDatetime().replace(tzinfo=START.tzinfo) == START


async def test_counters_are_bucketed_per_day_and_old_days_pruned(trigger: Harness) -> None:
    old = START - timedelta(days=120)
    await trigger.publish(contact_event("email.opened", "c_1", at=old))
    await trigger.publish(contact_event("email.opened", "c_1", at=START))
    await trigger.publish(contact_event("email.opened", "c_1", at=START + timedelta(minutes=5)))
    found = await get(trigger, "c_1")
    assert counters(found)["email.opened"] == {START.date().isoformat(): 2}


async def test_a_deleted_contact_is_a_tombstone_its_waits_end_and_the_hooks_run(trigger: Harness) -> None:
    calls: list[tuple[str, list[str]]] = []

    async def hook(repo: Repository, org_id: str, contact_ids: Sequence[str], now: datetime) -> None:
        calls.append((org_id, list(contact_ids)))

    projection.on_contact_deleted(hook)
    try:
        await trigger.publish(
            contact_event(
                "contact.created",
                "c_1",
                snapshot={"email": "a@example.com", "fields": {"birthday": "1990-02-14"}},
            )
        )
        await trigger.register_wait("w", WaitKind.WAIT_KIND_EVENT, contact="c_1", event_type="email.opened")
        deletion = contact_event("contact.deleted", "c_1", id="evt-del", at=START + timedelta(minutes=1))
        await trigger.publish(deletion)
        await trigger.publish(deletion)
        await trigger.publish(
            contact_event(
                "contact.updated", "c_1", at=START + timedelta(minutes=2), snapshot={"email": "b@example.com"}
            )
        )
    finally:
        projection._ON_CONTACT_DELETED.remove(hook)

    found = await get(trigger, "c_1")
    assert found.deleted and found.contact.email == "" and not found.dates
    assert await trigger.open_wait_ids() == set()
    [wait] = await trigger.sql("SELECT closed_reason FROM trigger.waits WHERE id = :id", id=trigger.id("w"))
    assert wait.closed_reason == "contact_deleted"
    assert calls == [(trigger.org, ["c_1"])]


async def test_a_contact_created_after_its_deletion_comes_back(trigger: Harness) -> None:
    await trigger.publish(contact_event("contact.deleted", "c_1", at=START))
    await trigger.publish(
        contact_event(
            "contact.created", "c_1", at=START + timedelta(days=1), snapshot={"email": "new@example.com"}
        )
    )
    found = await get(trigger, "c_1")
    assert (found.deleted, found.contact.email) == (False, "new@example.com")


async def test_the_projection_and_its_rpcs_are_per_organization(trigger: Harness) -> None:
    await trigger.publish(
        contact_event(
            "contact.created", "c_1", snapshot={"email": "mine@example.com", "fields": {"plan": "pro"}}
        )
    )
    await trigger.publish(
        contact_event("contact.created", "c_1", snapshot={"email": "theirs@example.com"}),
        org=trigger.other_org,
    )
    assert (await get(trigger, "c_1")).contact.email == "mine@example.com"
    assert (await get(trigger, "c_1", trigger.other_org)).contact.email == "theirs@example.com"
    error = await rpc_error(get(trigger, "c_2"))
    assert error.code() == grpc.StatusCode.NOT_FOUND
    other_fields = await contacts_stub(trigger).ListFields(
        contacts_pb2.ListFieldsRequest(), metadata=trigger.metadata(trigger.other_org)
    )
    assert "plan" not in {f.name for f in other_fields.fields}
    await import_contacts(trigger, [{"id": "c_9", "email": "imported@example.com"}], org=trigger.other_org)
    assert (await rpc_error(get(trigger, "c_9"))).code() == grpc.StatusCode.NOT_FOUND


async def test_list_fields_names_contact_system_and_seen_custom_fields_with_types(trigger: Harness) -> None:
    await trigger.publish(
        contact_event(
            "contact.created",
            "c_1",
            snapshot={"fields": {"plan": "pro", "seats": 12, "renewal_date": "2027-01-31", "trial": True}},
        )
    )
    response = await contacts_stub(trigger).ListFields(
        contacts_pb2.ListFieldsRequest(), metadata=trigger.metadata()
    )
    fields = {f.name: (f.type, f.kind) for f in response.fields}
    custom = contacts_pb2.FIELD_KIND_CUSTOM
    assert fields["plan"] == ("string", custom)
    assert fields["seats"] == ("number", custom)
    assert fields["renewal_date"] == ("date", custom)
    assert fields["trial"] == ("boolean", custom)
    assert fields["email"] == ("string", contacts_pb2.FIELD_KIND_CONTACT)
    assert fields["last_activity_at"] == ("datetime", contacts_pb2.FIELD_KIND_SYSTEM)


async def test_import_projects_complete_snapshots_and_never_overwrites_newer_ones(trigger: Harness) -> None:
    response = await import_contacts(
        trigger,
        [
            {
                "id": "c_1",
                "email": "one@example.com",
                "tags": ["a"],
                "fields": {"renewal_date": "2027-03-01"},
            },
            {"id": "c_2", "email": "two@example.com", "score": 70},
        ],
        at=START,
    )
    assert (response.imported, response.unchanged) == (2, 0)
    assert (await get(trigger, "c_1")).dates["renewal_date"] == "2027-03-01"
    assert (await get(trigger, "c_2")).contact.score == 70

    stale = await import_contacts(
        trigger, [{"id": "c_1", "email": "stale@example.com"}], at=START - timedelta(days=1)
    )
    assert (stale.imported, stale.unchanged) == (0, 1)
    assert (await get(trigger, "c_1")).contact.email == "one@example.com"


async def test_import_refuses_bad_batches_naming_the_contacts(trigger: Harness) -> None:
    error = await rpc_error(
        import_contacts(trigger, [{"id": "c_1"}, {"email": "x@example.com"}, {"id": "c_1"}])
    )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violations(error) == ["contacts[1].id", "contacts[2].id"]
    error = await rpc_error(import_contacts(trigger, []))
    assert violations(error) == ["contacts"]
