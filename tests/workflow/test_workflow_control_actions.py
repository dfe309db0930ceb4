"""The automation-control types of decision 0047 in libs/workflow: validation with field paths,
calculate_value's evaluation, send_error_alert's command, and the builder's categories."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from beez.executor.builder.service import ActionTools
from beez.kit.bus.topology import Topology
from beez.workflow import catalog
from beez.workflow.amplification import Cost, worst_case
from beez.workflow.calculate import calculate_value
from beez.workflow.effects import StepError
from beez.workflow.effects_control import failure_vars, send_error_alert
from beez.workflow.errors import Issue
from beez.workflow.model import workflow_from_json
from beez.workflow.validate import validate_workflow

NOW = datetime(2026, 1, 1, tzinfo=UTC)
HOOK = {"type": "webhook", "config": {"url": "https://example.com/h"}}
CTX: dict[str, Any] = {
    "contact": {"score": 42.0, "tags": ["a", "b"]},
    "event": {"data": {"n": 3}},
    "vars": {"x": 4},
}


def check(*actions: dict[str, Any]) -> list[Issue]:
    data = {"name": "t", "trigger": {"type": "contact_created"}, "actions": list(actions)}
    return validate_workflow(workflow_from_json(data))


def failing(*branch: dict[str, Any]) -> dict[str, Any]:
    return {**HOOK, "branches": [{"name": "failed", "actions": list(branch)}]}


TOO_COSTLY = (
    "[1,2,3].map(a, [1,2,3].map(b, [1,2,3].map(c, [1,2,3].map(d,"
    " contact.tags.map(e, contact.tags.map(f, a)))))).size()"
)
RETRY = {"type": "retry_failed_action", "config": {"times": 2}}


@pytest.mark.parametrize(
    ("actions", "expected"),
    [
        ([failing(RETRY, {"type": "send_error_alert", "config": {}})], []),
        ([failing()], []),
        ([RETRY], [("actions[0].type", "retry_failed_action only runs directly in a step's failed branch")]),
        (
            [
                failing(
                    {
                        "type": "condition",
                        "config": {"conditions": [{"expression": "true"}]},
                        "branches": [{"name": "yes", "actions": [RETRY]}],
                    }
                )
            ],
            [
                (
                    "actions[0].branches[0].actions[0].branches[0].actions[0].type",
                    "retry_failed_action only runs directly in a step's failed branch",
                )
            ],
        ),
        (
            [
                {
                    "type": "wait",
                    "config": {"value": 1, "unit": "hours"},
                    "branches": [{"name": "failed", "actions": []}],
                }
            ],
            [("actions[0].branches", "wait takes no branches")],
        ),
        (
            [{**HOOK, "branches": [{"name": "failed", "actions": []}, {"name": "other", "actions": []}]}],
            [("actions[0].branches[1].name", "webhook takes only one branch, named failed")],
        ),
        (
            [failing({**RETRY, "config": {"times": 11}})],
            [("actions[0].branches[0].actions[0].config.times", None)],
        ),
        (
            [{"type": "calculate_value", "config": {"expression": "contact.score *", "name": "n"}}],
            [("actions[0].config.expression", "invalid CEL")],
        ),
        (
            [{"type": "calculate_value", "config": {"expression": "{{ contact.score }} * 2.0", "name": "n"}}],
            [("actions[0].config.expression", "is a CEL expression, not a template")],
        ),
        (
            [{"type": "calculate_value", "config": {"expression": "1 + 1", "name": "Bad-Name"}}],
            [("actions[0].config.name", None)],
        ),
        (
            [
                {
                    "type": "calculate_value",
                    "config": {
                        "expression": TOO_COSTLY,
                        "name": "n",
                    },
                }
            ],
            [("actions[0].config.expression", "is too expensive")],
        ),
        (
            [{"type": "cancel_pending_actions", "config": {"scope": "automations"}}],
            [("actions[0].config.automation_ids", "required for scope automations")],
        ),
        (
            [{"type": "cancel_pending_actions", "config": {"automation_ids": ["a"]}}],
            [("actions[0].config", "automation_ids only goes with scope automations")],
        ),
        (
            [{"type": "cancel_pending_actions", "config": {"scope": "everyone"}}],
            [("actions[0].config.scope", None)],
        ),
        (
            [{"type": "send_error_alert", "config": {"severity": "panic"}}],
            [("actions[0].config.severity", None)],
        ),
    ],
)
def test_control_steps_are_validated_with_the_path_of_each_problem(
    actions: list[dict[str, Any]], expected: list[tuple[str, str | None]]
) -> None:
    issues = check(*actions)
    assert [issue.field for issue in issues] == [path for path, _ in expected], issues
    for issue, (_, words) in zip(issues, expected, strict=True):
        assert words is None or words in issue.description, issue


@pytest.mark.parametrize(
    ("config", "value"),
    [
        ({"expression": "contact.score * 1.5 + vars.x", "name": "n"}, 67),
        ({"expression": "vars.x / 3.0", "name": "n", "decimals": 2}, 1.33),
        ({"expression": "double(contact.tags.size()) * event.data.n", "name": "n"}, 6),
        ({"expression": "contact.score > 40.0 ? 10 : 0", "name": "n"}, 10),
        ({"expression": "7 / 2", "name": "n"}, 3),
    ],
)
def test_calculate_value_gives_a_number_into_vars(config: dict[str, Any], value: float) -> None:
    effect = calculate_value(config, CTX, NOW)
    assert effect.vars == {"n": value} and effect.output == {"name": "n", "value": value}
    assert effect.command == "" and not effect.needs_contact


@pytest.mark.parametrize(
    ("expression", "category", "words"),
    [
        ("vars.x / 0.0", "calculation", "not a finite number"),
        ("vars.x * 2", "calculation", "float * int"),
        ("'a' + 'b'", "calculation", "not a number"),
        ("vars.missing + 1.0", "calculation", "cannot be evaluated"),
        ("contact.score ?", "invalid_config", "invalid CEL"),
    ],
)
def test_calculate_value_fails_permanently_on_what_is_not_a_finite_number(
    expression: str, category: str, words: str
) -> None:
    with pytest.raises(StepError) as failure:
        calculate_value({"expression": expression, "name": "n"}, CTX, NOW)
    assert failure.value.category == category
    assert words in str(failure.value)


def test_calculate_value_refuses_data_too_large_for_its_budget() -> None:
    huge = {"vars": {"items": [1.0] * 200_000}}
    with pytest.raises(StepError) as failure:
        calculate_value({"expression": "double(vars.items.map(i, i * 2.0).size())", "name": "n"}, huge, NOW)
    assert failure.value.category == "cost_budget"


def test_a_retried_step_counts_once_per_run_against_the_caps() -> None:
    """Each re-run visits the step and its failed branch again: the worst case multiplies."""
    email = {"type": "send_email", "config": {"subject": "s", "body": "b"}}
    once = {**email, "branches": [{"name": "failed", "actions": [{**RETRY, "config": {"times": 3}}, email]}]}
    workflow = workflow_from_json({"name": "t", "trigger": {"type": "contact_created"}, "actions": [once]})
    assert worst_case(workflow) == Cost(steps=4 * 3, messages=4 * 2)


def test_send_error_alert_reports_the_failure_of_its_branch() -> None:
    ctx = {"vars": failure_vars("hook", "webhook", "POST /h answered 422", "http_4xx")}
    effect = send_error_alert({}, ctx, NOW)
    assert effect.command == "alert_admins"
    assert effect.values == {
        "message": "Step hook (webhook) failed: POST /h answered 422",
        "severity": "critical",
        "failed_step_id": "hook",
        "failed_step_type": "webhook",
        "error": "POST /h answered 422",
        "error_category": "http_4xx",
    }
    plain = send_error_alert({"message": "Look at this", "severity": "info"}, {"vars": {}}, NOW)
    assert plain.values["message"] == "Look at this" and plain.values["failed_step_id"] == ""


def test_action_categories_are_the_seeds_groups_with_counts() -> None:
    categories = ActionTools({}, Topology("t")).categories()
    assert [(c.category, c.name) for c in categories] == [
        ("communication", "Communication"),
        ("crm", "CRM"),
        ("tasks", "Task & Activity"),
        ("integration", "Integrations"),
        ("analytics", "Analytics & Reporting"),
        ("control", "Automation Control"),
        ("ai", "AI"),
    ]
    counts = {c.category: c.count for c in categories}
    assert counts["control"] == 14  # the seed's fourteen automation-control actions
    assert counts == {
        name: sum(entry.category == name for entry in catalog.action_types())
        for name in catalog.ACTION_CATEGORIES
    }
