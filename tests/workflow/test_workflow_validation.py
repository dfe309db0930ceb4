"""Validation: one test per rule, each asserting the exact path of its issue."""

from __future__ import annotations

from typing import Any

import pytest

from beez.api.workflow.v1.workflow_pb2 import Workflow
from beez.workflow.errors import Issue
from beez.workflow.model import workflow_from_json
from beez.workflow.validate import MAX_STEPS, validate_workflow

TAG = {"type": "add_tag", "config": {"tag": "x"}}
YES = [{"field": "contact.score", "operator": "greater_than", "value": 50}]


def check(*actions: dict[str, Any], **top: Any) -> list[Issue]:
    """The issues of a minimal valid workflow with the given actions and top-level overrides."""
    data: dict[str, Any] = {
        "name": "test",
        "trigger": {"type": "contact_created"},
        "actions": list(actions) or [TAG],
    }
    data.update(top)
    return validate_workflow(workflow_from_json(data))


def fields(issues: list[Issue]) -> list[str]:
    return [issue.field for issue in issues]


def loop(body: list[dict[str, Any]], times: int = 2) -> dict[str, Any]:
    return {"type": "loop", "config": {"times": times}, "branches": [{"name": "body", "actions": body}]}


def test_onboarding_example_validates_clean(onboarding: Workflow) -> None:
    assert validate_workflow(onboarding) == []


def test_name_is_required() -> None:
    assert check(name=" ") == [Issue("name", "is required")]


def test_trigger_type_is_required() -> None:
    assert fields(check(trigger={})) == ["trigger.type"]


def test_unknown_trigger_type() -> None:
    assert check(trigger={"type": "sundial"}) == [Issue("trigger.type", "unknown trigger type 'sundial'")]


def test_custom_event_needs_trigger_event() -> None:
    assert fields(check(trigger={"type": "custom_event"})) == ["trigger.event"]
    assert check(trigger={"type": "custom_event", "event": "order.shipped"}) == []


def test_trigger_event_must_look_like_an_event_type() -> None:
    assert fields(check(trigger={"type": "custom_event", "event": "order shipped!"})) == ["trigger.event"]


def test_trigger_filters_must_be_scalars() -> None:
    issues = check(trigger={"type": "list_joined", "filters": {"list": "VIP", "tags": ["a"], "n": {"x": 1}}})
    assert fields(issues) == ["trigger.filters.n", "trigger.filters.tags"]


def test_trigger_config_takes_no_unknown_settings() -> None:
    assert check(trigger={"type": "tag_added", "config": {"cron": "* * * * *"}}) == [
        Issue("trigger.config.cron", "unknown field")
    ]


def test_entry_conditions_must_compile() -> None:
    issues = check(
        conditions=[
            {"field": "contact.score", "operator": "bigger", "value": 1},
            {"field": "contact.score", "operator": "greater_than", "value": "high"},
            {"field": "order.total", "operator": "equals", "value": 1},
            {"expression": "contact.score >"},
        ]
    )
    assert fields(issues) == [
        "conditions[0].operator",
        "conditions[1].value",
        "conditions[2].field",
        "conditions[3].expression",
    ]


def test_at_least_one_action_is_required() -> None:
    assert validate_workflow(workflow_from_json({"name": "x", "trigger": {"type": "contact_created"}})) == [
        Issue("actions", "at least one action is required")
    ]


def test_action_type_is_required_and_must_be_known() -> None:
    issues = check(TAG, {"config": {}}, {"type": "send_fax"})
    assert issues == [
        Issue("actions[1].type", "is required"),
        Issue("actions[2].type", "unknown action type 'send_fax'"),
    ]


def test_unknown_types_are_found_deep_in_branches() -> None:
    issues = check(
        {
            "type": "condition",
            "config": {"conditions": YES},
            "branches": [
                {"name": "yes", "actions": [TAG]},
                {"name": "no", "actions": [TAG, {"type": "dance"}]},
            ],
        }
    )
    assert fields(issues) == ["actions[0].branches[1].actions[1].type"]


def test_missing_required_config_points_at_the_missing_field() -> None:
    assert check({"type": "send_email", "config": {"body": "Hello"}}) == [
        Issue("actions[0].config.subject", "required when no template is given")
    ]


def test_config_breaking_the_schema_is_reported_under_config() -> None:
    issues = check(
        {"type": "webhook", "config": {"url": "not a url", "method": "FETCH", "colour": "red"}},
        {"type": "create_task", "config": {"title": "t", "due_in_hours": 0}},
    )
    assert fields(issues) == [
        "actions[0].config.colour",
        "actions[0].config.method",
        "actions[0].config.url",
        "actions[1].config.due_in_hours",
    ]


def test_templates_in_config_must_parse() -> None:
    issues = check(
        {"type": "send_sms", "config": {"body": "Hi {{ contact.first_name"}},
        {"type": "webhook", "config": {"url": "https://x.example", "headers": {"X-Id": "{% if %}"}}},
        {"type": "send_sms", "config": {"body": "{{ contact.first_name | shout }}"}},
    )
    assert fields(issues) == [
        "actions[0].config.body",
        "actions[1].config.headers.X-Id",
        "actions[2].config.body",
    ]
    assert all(issue.description.startswith("invalid template") for issue in issues)


def test_templates_in_control_configs_must_parse_but_conditions_are_not_templates() -> None:
    issues = check(
        {
            "type": "wait_for_event",
            "config": {
                "event": "order.shipped",
                "filters": {"order": "{{ event.data.order_id"},
                "timeout": {"value": 1, "unit": "days"},
            },
        },
        {
            "type": "condition",
            "config": {
                "conditions": [{"field": "contact.first_name", "operator": "contains", "value": "{{"}]
            },
            "branches": [{"name": "yes", "actions": [TAG]}],
        },
    )
    assert fields(issues) == ["actions[0].config.filters.order"]


def test_branches_on_a_type_that_takes_none() -> None:
    assert check({**TAG, "branches": [{"name": "yes", "actions": [TAG]}]}) == [
        Issue("actions[0].branches[0].name", "add_tag takes only one branch, named failed")
    ]
    assert check({"type": "stop", "branches": [{"name": "failed", "actions": [TAG]}]}) == [
        Issue("actions[0].branches", "stop takes no branches")
    ]


def test_unknown_and_duplicate_branch_names() -> None:
    issues = check(
        {
            "type": "condition",
            "config": {"conditions": YES},
            "branches": [
                {"name": "yes", "actions": [TAG]},
                {"name": "maybe", "actions": [TAG]},
                {"name": "yes", "actions": [TAG]},
                {"actions": [TAG]},
            ],
        }
    )
    assert issues == [
        Issue("actions[0].branches[1].name", "must be one of yes, no"),
        Issue("actions[0].branches[2].name", "duplicate branch 'yes'"),
        Issue("actions[0].branches[3].name", "is required"),
    ]


def test_condition_needs_a_yes_or_no_branch_and_conditions() -> None:
    assert check({"type": "condition", "config": {"conditions": YES}}) == [
        Issue("actions[0].branches", "needs a yes or a no branch")
    ]
    only_no = {
        "type": "condition",
        "config": {"conditions": YES},
        "branches": [{"name": "no", "actions": [TAG]}],
    }
    assert check(only_no) == []
    assert fields(check({"type": "condition", "branches": [{"name": "yes", "actions": [TAG]}]})) == [
        "actions[0].config.conditions"
    ]


def test_conditions_in_a_condition_step_must_compile() -> None:
    issues = check(
        {
            "type": "condition",
            "config": {"conditions": [{"field": "contact.score", "operator": "between", "value": [10]}]},
            "branches": [{"name": "yes", "actions": [TAG]}],
        }
    )
    assert fields(issues) == ["actions[0].config.conditions[0].value"]


def test_wait_for_event_needs_event_and_timeout() -> None:
    issues = check({"type": "wait_for_event", "config": {"filters": {"link": "x"}}})
    assert fields(issues) == ["actions[0].config.event", "actions[0].config.timeout"]


def test_wait_until_conditions_must_compile() -> None:
    issues = check(
        {
            "type": "wait_until",
            "config": {
                "conditions": [{"field": "contact.tags", "operator": "has_tag"}],
                "timeout": {"value": 2, "unit": "days"},
            },
            "branches": [{"name": "met", "actions": [TAG]}],
        }
    )
    assert fields(issues) == ["actions[0].config.conditions[0].value"]


def test_switch_rules() -> None:
    issues = check(
        {
            "type": "switch",
            "branches": [
                {"name": "vip", "conditions": YES, "actions": [TAG]},
                {"name": "plain", "actions": [TAG]},
                {"name": "default", "conditions": YES, "actions": [TAG]},
                {
                    "name": "bad",
                    "conditions": [{"field": "contact.score", "operator": "nope"}],
                    "actions": [],
                },
            ],
        }
    )
    assert fields(issues) == [
        "actions[0].branches[1].conditions",
        "actions[0].branches[2].conditions",
        "actions[0].branches[3].conditions[0].operator",
    ]


def test_switch_needs_a_conditioned_branch() -> None:
    assert check({"type": "switch", "branches": [{"name": "default", "actions": [TAG]}]}) == [
        Issue("actions[0].branches", "needs at least one branch with conditions")
    ]


def test_random_split_needs_two_positively_weighted_branches() -> None:
    assert fields(check({"type": "random_split", "branches": [{"name": "a", "weight": 1}]})) == [
        "actions[0].branches"
    ]
    issues = check(
        {"type": "random_split", "branches": [{"name": "a", "weight": 1}, {"name": "b", "weight": 0}]}
    )
    assert issues == [Issue("actions[0].branches[1].weight", "must be positive")]


def test_weights_and_branch_conditions_only_where_they_mean_something() -> None:
    issues = check(
        {
            "type": "condition",
            "config": {"conditions": YES},
            "branches": [{"name": "yes", "weight": 3, "conditions": YES, "actions": [TAG]}],
        }
    )
    assert fields(issues) == ["actions[0].branches[0].weight", "actions[0].branches[0].conditions"]


def test_loop_needs_a_body() -> None:
    assert check({"type": "loop", "config": {"times": 2}}) == [
        Issue("actions[0].branches", "needs a body branch with at least one action")
    ]


def test_loops_must_be_bounded() -> None:
    issues = check(
        loop([TAG], times=5000), {**loop([TAG]), "config": {"over": "event.data.items", "max_items": 5000}}
    )
    assert fields(issues) == ["actions[0].config.times", "actions[1].config.max_items"]
    assert check({**loop([TAG]), "config": {"over": "event.data.items"}}) == []  # defaults to 100 items


def test_loops_nest_at_most_three_deep() -> None:
    assert check(loop([loop([loop([TAG])])])) == []
    assert check(loop([loop([loop([loop([TAG])])])])) == [
        Issue(
            "actions[0].branches[0].actions[0].branches[0].actions[0].branches[0].actions[0]",
            "loops nest more than 3 deep",
        )
    ]


@pytest.mark.parametrize(
    ("value", "unit", "valid"),
    [
        (1, "years", False),
        (12, "months", True),
        (13, "months", False),
        (365, "days", True),
        (366, "days", False),
        (52, "weeks", True),
        (53, "weeks", False),
        (8760, "hours", True),
        (8761, "hours", False),
        (0, "minutes", False),
        (-5, "seconds", False),
    ],
)
def test_delays_are_positive_and_at_most_a_year(value: int, unit: str, valid: bool) -> None:
    issues = check({**TAG, "delay": {"value": value, "unit": unit}})
    expected = [] if valid else ["actions[0].delay.unit" if unit == "years" else "actions[0].delay.value"]
    assert fields(issues) == expected


def test_wait_and_timeouts_are_at_most_a_year() -> None:
    issues = check(
        {"type": "wait", "config": {"value": 13, "unit": "months"}},
        {"type": "wait", "config": {"value": 0, "unit": "days"}},
        {
            "type": "wait_for_event",
            "config": {"event": "link.clicked", "timeout": {"value": 400, "unit": "days"}},
        },
        {"type": "wait_until", "config": {"conditions": YES, "timeout": {"value": 53, "unit": "weeks"}}},
    )
    assert issues == [
        Issue("actions[0].config.value", "must not be longer than 1 year"),
        Issue("actions[1].config.value", "must be at least 1"),
        Issue("actions[2].config.timeout.value", "must not be longer than 1 year"),
        Issue("actions[3].config.timeout.value", "must not be longer than 1 year"),
    ]


@pytest.mark.parametrize(
    ("settings", "path"),
    [
        ({"reentry": "sometimes"}, "settings.reentry"),
        ({"runOnce": True, "reentry": "always"}, "settings.reentry"),
        ({"priority": "urgent"}, "settings.priority"),
        ({"timezone": "Mars/Olympus"}, "settings.timezone"),
        ({"quietHours": {"start": "21:00", "end": "8am"}}, "settings.quietHours.end"),
        ({"quietHours": {"start": "25:00", "end": "08:00"}}, "settings.quietHours.start"),
        ({"quietHours": {"start": "08:00", "end": "08:00"}}, "settings.quietHours"),
        ({"maxExecutions": -1}, "settings.maxExecutions"),
        ({"maxConcurrentPerContact": 0}, "settings.maxConcurrentPerContact"),
    ],
)
def test_settings_rules(settings: dict[str, Any], path: str) -> None:
    assert fields(check(settings=settings)) == [path]


def test_good_settings_pass() -> None:
    settings = {
        "runOnce": False,
        "reentry": "after_exit",
        "priority": "high",
        "timezone": "Africa/Lagos",
        "quietHours": {"start": "21:00", "end": "08:00"},
        "maxExecutions": 0,
        "maxConcurrentPerContact": 1,
    }
    assert check(settings=settings) == []


def test_goal_needs_an_event_or_conditions() -> None:
    assert check(goal={"filters": {}}) == [Issue("goal", "needs an event or conditions")]
    assert check(goal={"conditions": YES}) == []


def test_goal_conditions_must_compile() -> None:
    issues = check(
        goal={"conditions": [{"field": "contact.score", "operator": "greater_than", "value": "lots"}]}
    )
    assert fields(issues) == ["goal.conditions[0].value"]


def test_goal_filters_need_an_event_and_must_be_scalars() -> None:
    assert fields(check(goal={"conditions": YES, "filters": {"product": "x"}})) == ["goal.filters"]
    assert fields(check(goal={"event": "purchase.made", "filters": {"product": ["x"]}})) == [
        "goal.filters.product"
    ]


def test_duplicate_ids_are_reported_where_repeated() -> None:
    issues = check(
        {"id": "a", **TAG},
        {
            "id": "b",
            "type": "condition",
            "config": {"conditions": YES},
            "branches": [{"name": "yes", "actions": [{"id": "a", **TAG}]}],
        },
    )
    assert issues == [
        Issue("actions[1].branches[0].actions[0].id", "duplicate id 'a' (also at actions[0].id)")
    ]


def test_ids_have_a_safe_form() -> None:
    assert fields(check({"id": "has space", **TAG})) == ["actions[0].id"]


def test_workflow_size_is_limited() -> None:
    issues = check(*([TAG] * (MAX_STEPS + 1)))
    assert issues == [Issue("actions", f"has {MAX_STEPS + 1} steps; at most {MAX_STEPS} are allowed")]


def test_branch_depth_is_limited() -> None:
    step: dict[str, Any] = TAG
    for _ in range(11):
        step = {
            "type": "condition",
            "config": {"conditions": YES},
            "branches": [{"name": "yes", "actions": [step]}],
        }
    issues = check(step)
    assert fields(issues) == ["actions[0]" + ".branches[0].actions[0]" * 10 + ".branches[0]"]
    assert issues[0].description == "branches nest more than 10 deep"


def test_a_workflow_with_many_problems_reports_them_all_at_once() -> None:
    workflow = workflow_from_json(
        {
            "name": "",
            "trigger": {"type": "custom_event"},
            "conditions": [{"field": "contact.score", "operator": "approximately", "value": 3}],
            "actions": [
                {"type": "send_email", "config": {"body": "Hi {{ contact.first_name"}},
                {"type": "wait", "config": {"value": 2, "unit": "years"}},
                {
                    "id": "dup",
                    "type": "wait_for_event",
                    "config": {"event": "link.clicked", "timeout": {"value": 24, "unit": "hours"}},
                    "branches": [{"name": "clicked", "actions": [{"id": "dup", "type": "teleport"}]}],
                },
                {"type": "add_tag", "config": {}, "delay": {"value": 2, "unit": "weeks"}},
            ],
            "goal": {},
            "settings": {"reentry": "sometimes", "timezone": "Nowhere/Special", "priority": "urgent"},
        }
    )
    assert fields(validate_workflow(workflow)) == [
        "name",
        "trigger.event",
        "conditions[0].operator",
        "actions[0].config.subject",
        "actions[0].config.body",
        "actions[1].config.unit",
        "actions[2].branches[0].name",
        "actions[2].branches[0].actions[0].id",
        "actions[2].branches[0].actions[0].type",
        "actions[3].config.tag",
        "goal",
        "settings.reentry",
        "settings.priority",
        "settings.timezone",
    ]
