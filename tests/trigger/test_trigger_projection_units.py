"""The projection's pure parts in memory: the sketch's accuracy and removal, the merge rules,
the signals, and the fields a condition reads (the automation index's ``reads``)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from beez.api.messages.v1.events_pb2 import Event
from beez.trigger.domain import sketch
from beez.trigger.domain.conditions import CONDITION_TYPES, Subject, compile_condition
from beez.trigger.domain.projection import ContactState, apply_event, view
from beez.trigger.domain.signals import Signals, country_of_phone, device_class, sentiment_label
from beez.workflow import catalog
from beez.workflow.context import event_from_json

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def test_the_sketch_reads_quantiles_within_one_percent_and_takes_values_out() -> None:
    rng = random.Random(3)
    values = [rng.lognormvariate(3, 1) for _ in range(20_000)]
    delta: sketch.Delta = {}
    for value in values:
        sketch.add(delta, "score", value, 1)
    rows = [(bucket, count, total) for (_, bucket), (count, total) in delta.items()]
    ordered = sorted(values)
    for q in (0.5, 0.9, 0.99):
        exact = ordered[int(q * (len(ordered) - 1))]
        assert abs(sketch.quantile(rows, q) - exact) / exact < 0.021  # type: ignore[operator]
    assert abs(sketch.mean(rows) - sum(values) / len(values)) < 1e-6  # type: ignore[operator]
    for value in values[:10_000]:
        sketch.add(delta, "score", value, -1)
    rest = [(bucket, count, total) for (_, bucket), (count, total) in delta.items()]
    assert sum(count for _, count, _ in rest) == 10_000
    assert abs(sketch.mean(rest) - sum(values[10_000:]) / 10_000) < 1e-6  # type: ignore[operator]


def updated(at: datetime, **snapshot: object) -> Event:
    return event_from_json(
        {
            "type": "contact.updated",
            "contactId": "c",
            "occurredAt": at.isoformat(),
            "contact": {"id": "c", **snapshot},
        }
    )


def test_an_older_snapshot_changes_no_field_and_a_newer_one_does() -> None:
    state = ContactState("c")
    signals = Signals()
    apply_event(state, updated(NOW, email="new@example.com", score=50), {}, 90, signals)
    apply_event(state, updated(NOW - timedelta(hours=1), email="old@example.com", score=10), {}, 90, signals)
    assert (state.email, state.score) == ("new@example.com", 50.0)
    apply_event(state, updated(NOW + timedelta(hours=1), email="newer@example.com"), {}, 90, signals)
    assert state.email == "newer@example.com"
    assert sum(state.counters["contact.updated"].values()) == 3


def test_signals_classify_devices_score_sentiment_and_place_phones() -> None:
    assert device_class("Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15") == "tablet"
    assert (
        device_class("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36")
        == "desktop"
    )
    assert sentiment_label(Signals().sentiment("I love it, wonderful!")) == "positive"
    assert country_of_phone("+442071838750") == "GB"
    assert country_of_phone("not a phone") is None


def test_each_condition_reads_the_fields_it_names() -> None:
    assert compile_condition("score_threshold", {"operator": "greater_than", "value": 1}).reads == {"score"}
    assert compile_condition(
        "behavior_pattern", {"event": "email.opened", "min_count": 3, "window_days": 7}
    ).reads == {"counters.email.opened"}
    plan = {"field": "contact.fields.plan", "operator": "equals", "value": "pro"}
    seats = {"field": "contact.fields.seats", "operator": "greater_than", "value": 3}
    logic = compile_condition("custom_field_logic", {"conditions": [{"any": [plan, seats]}]})
    assert logic.reads == {"plan", "seats"}
    assert logic.holds(Subject({}, {}, {"plan": "free", "seats": 5}), NOW)
    assert not logic.holds(Subject({}, {}, {"plan": "free", "seats": 1}), NOW)


def test_a_behavior_window_counts_only_its_days() -> None:
    state = ContactState("c")
    for days_ago in (0, 1, 8):
        event = event_from_json(
            {
                "type": "email.opened",
                "contactId": "c",
                "occurredAt": (NOW - timedelta(days=days_ago)).isoformat(),
            }
        )
        apply_event(state, event, {}, 90, Signals())
    three_in_week = compile_condition(
        "behavior_pattern", {"event": "email.opened", "min_count": 3, "window_days": 7}
    )
    two_in_week = compile_condition(
        "behavior_pattern", {"event": "email.opened", "min_count": 2, "window_days": 7}
    )
    subject = Subject(view(state), state.counters, {})
    assert not three_in_week.holds(subject, NOW)
    assert two_in_week.holds(subject, NOW)


def test_the_trigger_compiles_exactly_the_catalogs_condition_types() -> None:
    """A condition type added to the catalog without a compiler here (or the reverse) would be
    accepted by validation and then never fire."""
    listed = {entry.type for entry in catalog.trigger_types() if entry.category == "condition"}
    assert listed == CONDITION_TYPES
