"""Event triggers: which data fires each type, why other data does not, and what their schemas refuse."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from beez.api.workflow.v1.workflow_pb2 import Trigger
from beez.workflow import catalog
from beez.workflow.conditions.explain import evaluate_parts
from beez.workflow.model import conditions_from_json, struct_to_dict, workflow_from_json
from beez.workflow.triggering import CART_WAIT_ID, Miss, TriggerMatcher, explain, started_workflow
from beez.workflow.validate import trigger_issues, validate_workflow

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


def trigger(
    type_: str, *, filters: dict[str, Any] | None = None, config: dict[str, Any] | None = None
) -> Trigger:
    body: dict[str, Any] = {"type": type_}
    if filters:
        body["filters"] = filters
    if config:
        body["config"] = config
    wf = workflow_from_json(
        {"name": "t", "trigger": body, "actions": [{"type": "add_tag", "config": {"tag": "x"}}]}
    )
    return wf.trigger


@pytest.mark.parametrize(
    ("type_", "config", "fires", "misses"),
    [
        ("contact_updated", {"field": "plan"}, {"changed": ["plan", "email"]}, {"changed": ["email"]}),
        ("whatsapp_received", {"contains": "STOP"}, {"text": "please stop it"}, {"text": "hello"}),
        ("sms_received", {"contains": "yes"}, {"text": "YES!"}, {"text": "no"}),
        ("message_received", {"contains": "help"}, {"text": "Help me"}, {}),
        ("purchase_made", {"min_amount": 100}, {"amount": 100}, {"amount": 99.5}),
        ("payment_received", {"min_amount": 10}, {"amount": 12}, {"amount": "12"}),
        (
            "score_changed",
            {"threshold": 80},
            {"old_score": 70, "new_score": 80},
            {"old_score": 80, "new_score": 95},
        ),
        (
            "score_changed",
            {"threshold": 50, "direction": "down"},
            {"old_score": 55, "new_score": 40},
            {"old_score": 40, "new_score": 60},
        ),
        (
            "score_changed",
            {"threshold": 50, "direction": "either"},
            {"old_score": 40, "new_score": 60},
            {"old_score": 60, "new_score": 70},
        ),
        (
            "lifecycle_stage_changed",
            {"from": "lead", "to": "customer"},
            {"old_stage": "lead", "new_stage": "customer"},
            {"old_stage": "subscriber", "new_stage": "customer"},
        ),
        (
            "subscription_status_changed",
            {"status": "unsubscribed", "channel": "email"},
            {"status": "unsubscribed", "channel": "email"},
            {"status": "unsubscribed", "channel": "sms"},
        ),
        (
            "automation_completed",
            {"automation_id": "a-1", "outcome": "failed"},
            {"automation_id": "a-1", "outcome": "failed"},
            {"automation_id": "a-1", "outcome": "completed"},
        ),
    ],
)
def test_config_rules_fire_on_matching_data_and_name_the_config_field_otherwise(
    type_: str, config: dict[str, Any], fires: dict[str, Any], misses: dict[str, Any]
) -> None:
    matcher = TriggerMatcher(trigger(type_, config=config))
    assert matcher.matches(fires)
    assert matcher.misses(fires) == []
    assert not matcher.matches(misses)
    [miss] = matcher.misses(misses)
    assert miss.field.startswith("trigger.config.")
    assert miss.field.removeprefix("trigger.config.") in config


def test_filters_name_each_failing_filter_and_the_value_seen() -> None:
    t = trigger("email_opened", filters={"campaign": "spring", "template": "promo"})
    assert explain(t, "email.opened", {"campaign": "spring", "template": "promo"}) == []
    assert sorted(explain(t, "email.opened", {"campaign": "autumn"}), key=lambda miss: miss.field) == [
        Miss("trigger.filters.campaign", "event.data.campaign is 'autumn', not 'spring'"),
        Miss("trigger.filters.template", "event.data.template is missing, not 'promo'"),
    ]


def test_an_event_of_another_type_is_a_miss_on_trigger_event() -> None:
    [miss] = explain(trigger("email_opened"), "email.clicked", {})
    assert miss == Miss("trigger.event", "listens to email.opened, not email.clicked")


def test_every_event_trigger_has_an_object_config_schema_with_bounded_texts() -> None:
    def texts(schema: Any) -> list[dict[str, Any]]:
        found = []
        if isinstance(schema, dict):
            if schema.get("type") == "string":
                found.append(schema)
            for value in schema.values():
                found += texts(value)
        return found

    for entry in catalog.trigger_types():
        assert entry.category in catalog.TRIGGER_CATEGORIES
        assert entry.config_schema["type"] == "object"
        assert entry.config_schema["additionalProperties"] is False
        assert all("maxLength" in text for text in texts(entry.config_schema)), entry.type
        assert all("maxLength" in prop for prop in entry.filters_schema.get("properties", {}).values())


@pytest.mark.parametrize(
    ("body", "violations"),
    [
        ({"type": "score_changed"}, [("trigger.config.threshold", "is required")]),
        (
            {"type": "score_changed", "config": {"threshold": 80, "direction": "sideways"}},
            [("trigger.config.direction", "must be one of up, down, either")],
        ),
        ({"type": "cart_abandoned"}, [("trigger.config.within", "is required")]),
        (
            {"type": "cart_abandoned", "config": {"within": {"value": 0, "unit": "hours"}}},
            [("trigger.config.within.value", "must be at least 1")],
        ),
        (
            {"type": "automation_completed", "config": {"outcome": "exploded"}},
            [("trigger.config.outcome", "must be one of completed, failed, cancelled")],
        ),
        (
            {"type": "email_opened", "filters": {"campaign": "x" * 1001}},
            [("trigger.filters.campaign", "must have at most 1000 characters")],
        ),
        (
            {"type": "whatsapp_received", "config": {"contains": "x" * 201}},
            [("trigger.config.contains", "must have at most 200 characters")],
        ),
        (
            {"type": "api_webhook_received", "config": {"hook": "h"}},
            [("trigger.config.hook", "unknown field")],
        ),
    ],
)
def test_invalid_trigger_configs_are_field_violations_naming_the_path(
    body: dict[str, Any], violations: list[tuple[str, str | None]]
) -> None:
    t = Trigger(type=body["type"])
    t.filters.update(body.get("filters", {}))
    t.config.update(body.get("config", {}))
    issues = [(issue.field, issue.description) for issue in trigger_issues(t)]
    assert [path for path, _ in issues] == [path for path, _ in violations]
    for (_, got), (_, wanted) in zip(issues, violations, strict=True):
        assert wanted is None or got == wanted


def test_cart_abandoned_starts_the_actions_behind_a_wait_for_the_checkout() -> None:
    wf = workflow_from_json(
        {
            "name": "Cart rescue",
            "trigger": {"type": "cart_abandoned", "config": {"within": {"value": 2, "unit": "hours"}}},
            "actions": [{"id": "remind", "type": "send_email", "config": {"template": "cart"}}],
        }
    )
    assert validate_workflow(wf) == []
    started = started_workflow(wf)
    [wait] = started.actions
    assert (wait.id, wait.type) == (CART_WAIT_ID, "wait_for_event")
    assert struct_to_dict(wait.config) == {
        "event": "checkout.completed",
        "timeout": {"value": 2, "unit": "hours"},
    }
    event_branch, timeout_branch = wait.branches
    assert (event_branch.name, [a.type for a in event_branch.actions]) == ("event", ["stop"])
    assert (timeout_branch.name, list(timeout_branch.actions)) == ("timeout", list(wf.actions))
    assert validate_workflow(started) == []  # the engine runs a valid workflow
    other = workflow_from_json(
        {**{"name": "x"}, "trigger": {"type": "tag_added"}, "actions": [{"type": "stop"}]}
    )
    assert started_workflow(other) is other


def test_conditions_evaluate_whole_and_by_part_within_the_cost_budget() -> None:
    conditions, _ = conditions_from_json(
        [
            {"field": "contact.score", "operator": "greater_than", "value": 50},
            {
                "any": [
                    {"field": "contact.tags", "operator": "has_tag", "value": "vip"},
                    {"not": {"field": "event.data.plan", "operator": "equals", "value": "free"}},
                ]
            },
        ],
        "conditions",
    )
    ctx = {"contact": {"score": 70, "tags": ["lead"]}, "event": {"data": {"plan": "free"}}}
    evaluation = evaluate_parts(conditions, ctx, NOW)
    assert evaluation.result is False
    assert [(p.path, p.result) for p in evaluation.parts] == [
        ("conditions[0]", True),
        ("conditions[1]", False),
        ("conditions[1].any[0]", False),
        ("conditions[1].any[1]", False),
        ("conditions[1].any[1].not", True),
    ]
    huge = {"contact": {"tags": [f"t{i}" for i in range(200_000)]}}
    costly, _ = conditions_from_json(
        [{"expression": "contact.tags.all(a, contact.tags.exists(b, a == b))"}], "conditions"
    )
    refused = evaluate_parts(costly, huge, NOW)
    assert refused.result is None
    assert "cost budget" in refused.error
    assert refused.parts[0].result is None
