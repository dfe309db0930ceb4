"""The trigger's pure parts: decoding, validation, the index entry and enrollment policy."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from beez.api.messages.v1.events_pb2 import Event
from beez.api.messages.v1.lifecycle_pb2 import AutomationChanged, ChangeKind
from beez.kit.bus.worker import PermanentError
from beez.trigger.consumers import decode_event
from beez.trigger.domain.index import enrollment_policy, index_entry
from beez.trigger.domain.validation import normalize_event
from beez.trigger.service import Lifecycle, merge
from tests.trigger.support import workflow

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


def test_an_event_decodes_from_protobuf_even_when_its_bytes_look_like_json() -> None:
    tricky = Event(id="x" * 123, type="list.joined")  # serialized: b"\\n{xxx..." (length 123 is "{")
    data = tricky.SerializeToString()
    assert data.lstrip()[:1] == b"{"
    assert decode_event(data, {}) == tricky
    labelled = {"Content-Type": "application/x-protobuf; type=beez.api.messages.v1.Event"}
    assert decode_event(data, labelled) == tricky


def test_an_unlabelled_json_event_decodes_in_either_spelling() -> None:
    body = {"id": "e1", "type": "list.joined", "contact_id": "c_1", "contact": {"firstName": "Ada"}}
    decoded = decode_event(json.dumps(body).encode(), {})
    assert (decoded.id, decoded.contact_id, decoded.contact.first_name) == ("e1", "c_1", "Ada")


def test_an_undecodable_event_is_permanent() -> None:
    with pytest.raises(PermanentError):
        decode_event(b'{"type": 3}', {})
    with pytest.raises(PermanentError):
        decode_event(b"\xff\xff\xff", {})


def test_normalizing_fills_defaults_and_forces_the_organization() -> None:
    raw = Event(type="list.joined", organization_id="someone-else")
    raw.contact.id = "c_7"
    event, problems = normalize_event(raw, "acme", NOW, "event", 1024)
    assert problems == []
    assert event.organization_id == "acme"
    assert event.id.startswith("evt_") and len(event.id) == 36
    assert event.contact_id == "c_7"
    assert event.occurred_at.ToDatetime(tzinfo=UTC) == NOW


@pytest.mark.parametrize(
    ("event", "field"),
    [
        (Event(), "e.type"),
        (Event(type="list..joined"), "e.type"),
        (Event(type="a" * 201), "e.type"),
        (Event(type="ok", id="white space"), "e.id"),
        (Event(type="ok", id="é"), "e.id"),
        (Event(type="ok", data={"blob": "x" * 2000}), "e"),
    ],
)
def test_normalizing_reports_each_problem_by_path(event: Event, field: str) -> None:
    _, problems = normalize_event(event, "acme", NOW, "e", 1024)
    assert [p.field for p in problems] == [field]


def test_the_index_listens_to_the_catalog_event_or_the_triggers_own() -> None:
    def entry(trigger: dict[str, object]) -> str | None:
        change = AutomationChanged(automation_id="a", revision=1, active=True, workflow=workflow(trigger))
        return index_entry(change, "acme").event_type

    assert entry({"type": "list_joined"}) == "list.joined"
    assert entry({"type": "list_joined", "event": "list.joined.vip"}) == "list.joined.vip"
    assert entry({"type": "custom_event", "event": "order.shipped"}) == "order.shipped"
    assert entry({"type": "schedule"}) is None


def test_a_deleted_automation_becomes_an_inactive_tombstone() -> None:
    change = AutomationChanged(
        kind=ChangeKind.CHANGE_KIND_DELETED, automation_id="a", revision=9, active=True, workflow=workflow()
    )
    entry = index_entry(change, "acme")
    assert (entry.active, entry.deleted, entry.workflow, entry.revision) == (False, True, b"", 9)


@pytest.mark.parametrize(
    ("run_once", "reentry", "concurrent", "expected"),
    [
        (False, "", 1, (False, 1)),
        (True, "", 4, (True, None)),
        (False, "never", 4, (True, None)),
        (False, "after_exit", 4, (False, 1)),
        (False, "always", 4, (False, 4)),
        (False, "always", 0, (False, 1)),
    ],
)
def test_settings_become_enrollment_keys(
    run_once: bool, reentry: str, concurrent: int, expected: tuple[bool, int | None]
) -> None:
    policy = enrollment_policy(run_once, reentry, concurrent, 0)
    assert (policy.once_per_contact, policy.slots_per_contact) == expected


def test_a_lifecycle_batch_merges_to_the_effect_of_its_events_in_order() -> None:
    batch = [
        Lifecycle("a", "o", None),
        Lifecycle("a", "o", "completed"),  # an end covers the start before it...
        Lifecycle("b", "o", "failed"),
        Lifecycle("b", "o", None),  # ...and after it
        Lifecycle("c", "o", "cancelled"),
        Lifecycle("c", "o", "completed"),  # the first end wins
        Lifecycle("d", "o", None),
        Lifecycle("d", "o", None),
    ]
    assert merge(batch) == (
        {("a", "o"): "completed", ("b", "o"): "failed", ("c", "o"): "cancelled"},
        [("d", "o")],
    )


def test_one_execution_id_under_two_organizations_stays_two_executions_in_a_batch() -> None:
    batch = [Lifecycle("a", "mine", None), Lifecycle("a", "theirs", "completed")]
    assert merge(batch) == ({("a", "theirs"): "completed"}, [("a", "mine")])
