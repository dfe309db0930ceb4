"""The evaluation and template context: snake_case keys whatever the JSON spelling."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from beez.workflow.conditions import compile_conditions
from beez.workflow.context import build_context, contact_from_json, event_from_json
from beez.workflow.errors import WorkflowError
from beez.workflow.filters import filters_match
from beez.workflow.model import conditions_from_json
from beez.workflow.templates import render
from tests.support.samples import ADA

EVENT = {
    "id": "evt_01",
    "type": "list.joined",
    "occurredAt": "2026-11-26T10:00:00Z",
    "contactId": "c_123",
    "data": {"list": "New Customers", "count": 3},
    "contact": ADA,
}


def test_context_has_snake_case_keys_from_camel_case_json() -> None:
    ctx = build_context(event_from_json(EVENT), None, {"discount": "10%"}, {"id": "ex_1"})
    assert ctx["contact"]["first_name"] == "Ada"
    assert ctx["contact"]["consent"] == {"email": True, "sms": False, "whatsapp": True, "push": False}
    assert ctx["contact"]["fields"] == {"plan": "pro"}
    assert ctx["contact"]["score"] == 42
    assert ctx["event"] == {
        "id": "evt_01",
        "type": "list.joined",
        "occurred_at": "2026-11-26T10:00:00Z",
        "contact_id": "c_123",
        "data": {"list": "New Customers", "count": 3},
    }
    assert ctx["vars"] == {"discount": "10%"}
    assert ctx["execution"] == {"id": "ex_1"}


def test_snake_case_json_reads_the_same() -> None:
    snake = {
        "id": "evt_01",
        "type": "list.joined",
        "occurred_at": "2026-11-26T10:00:00Z",
        "contact_id": "c_123",
        "data": {"list": "New Customers", "count": 3},
        "contact": {**EVENT["contact"], "first_name": "Ada"},  # type: ignore[dict-item]
    }
    del snake["contact"]["firstName"]  # type: ignore[attr-defined]
    assert event_from_json(snake) == event_from_json(EVENT)


def test_an_explicit_contact_wins_over_the_events_snapshot() -> None:
    contact = contact_from_json({"id": "c_9", "first_name": "Grace"})
    ctx = build_context(event_from_json(EVENT), contact, {}, {})
    assert ctx["contact"]["first_name"] == "Grace"


def test_without_event_or_contact_the_roots_are_empty() -> None:
    assert build_context(None, None, {}, {}) == {"contact": {}, "event": {}, "vars": {}, "execution": {}}


def test_unknown_fields_in_an_event_are_reported() -> None:
    with pytest.raises(WorkflowError) as caught:
        event_from_json({"type": "x", "contact": {"nickname": "A"}})
    assert caught.value.issues[0].field == "contact.nickname"


def test_context_feeds_conditions_and_templates() -> None:
    ctx = build_context(event_from_json(EVENT), None, {}, {})
    conditions, _ = conditions_from_json(
        [
            {"field": "contact.consent.email", "operator": "equals", "value": True},
            {"field": "event.data.list", "operator": "equals", "value": "New Customers"},
            {"field": "contact.fields.plan", "operator": "in_list", "value": ["pro"]},
            {"field": "event.data.count", "operator": "greater_than", "value": 2},
        ],
        "conditions",
    )
    assert compile_conditions(conditions).evaluate(ctx, datetime(2026, 11, 26, tzinfo=UTC))
    assert render("{{ contact.first_name }} has {{ event.data.count }} items", ctx) == "Ada has 3 items"


def test_filters_are_equality_matches_on_event_data() -> None:
    data = {"list": "New Customers", "count": 3, "paid": True, "cart": {"currency": "NGN"}}
    assert filters_match({}, data)
    assert filters_match({"list": "New Customers", "count": 3.0}, data)
    assert filters_match({"cart.currency": "NGN"}, data)
    assert not filters_match({"list": "new customers"}, data)
    assert not filters_match({"paid": 1}, data)
    assert not filters_match({"missing": "x"}, data)
