"""Every condition has a cost budget: refused at validation when its estimate is over it, and
never run on data that would make it cost more (issue 12, section 1)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from google.protobuf import json_format

from beez.api.workflow.v1.workflow_pb2 import Condition
from beez.workflow.conditions import compile_conditions, condition_issues
from beez.workflow.conditions.cost import MAX_COST, cost_budget, estimate_source, set_cost_budget
from beez.workflow.conditions.syntax import parse
from beez.workflow.errors import ConditionBudgetError, Issue
from beez.workflow.model import workflow_from_json
from beez.workflow.validate import validate_workflow

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def nested_expression(depth: int = 6, size: int = 4000) -> str:
    """Nested ``all`` over event data (~10^12 steps on lists of 100 items), padded to ``size``
    characters (at most 4,096 fit in an expression)."""
    body = "x0 > 0.0"
    for level in range(depth, 0, -1):
        body = f"event.data.items.all(x{level}, {body} && x{level} != 'q')"
    return body + " && true" * ((size - len(body)) // 8)


@pytest.fixture
def budget() -> Iterator[None]:
    yield
    set_cost_budget(MAX_COST)


def test_a_nested_comprehension_is_refused_at_validation_naming_its_path() -> None:
    expression = nested_expression()
    assert len(expression) > 3900
    workflow = workflow_from_json(
        {
            "name": "costly",
            "trigger": {"type": "list_joined", "filters": {"list": "New Customers"}},
            "actions": [
                {
                    "type": "condition",
                    "config": {"conditions": [{"expression": expression}]},
                    "branches": [{"name": "yes", "actions": [{"type": "stop"}]}],
                }
            ],
        }
    )

    issues = validate_workflow(workflow)

    assert [issue.field for issue in issues] == ["actions[0].config.conditions[0].expression"]
    estimate = estimate_source(f"({expression})")
    assert estimate > 10**12
    assert f"more than the budget of {MAX_COST}" in issues[0].description
    assert "is too expensive: its cost is estimated at" in issues[0].description


def test_ordinary_conditions_are_within_budget() -> None:
    conditions: list[dict[str, Any]] = [
        {"field": "contact.score", "operator": "greater_than", "value": 80},
        {"field": "contact.tags", "operator": "has_any_tags", "value": ["vip", "lead"]},
        {"field": "contact.fields.joined", "operator": "within_last", "value": {"value": 7, "unit": "days"}},
        {"expression": "event.data.items.exists(i, i.sku == 'book') && size(contact.tags) < 50"},
        {"expression": "contact.tags.filter(t, t.startsWith('vip')).size() > 0"},
    ]
    parsed = [json_format.ParseDict(item, Condition()) for item in conditions]

    assert condition_issues(parsed) == []


def test_a_list_over_budget_only_as_a_whole_is_named_at_the_list() -> None:
    one = {"expression": "contact.tags.filter(t, t.startsWith('vip')).size() > 0"}
    parsed = [json_format.ParseDict(one, Condition()) for _ in range(4)]

    issues = condition_issues(parsed, "goal.conditions")

    assert [issue.field for issue in issues] == ["goal.conditions"]


def test_the_budget_is_settable(budget: None) -> None:
    parsed = [json_format.ParseDict({"expression": "'vip' in contact.tags"}, Condition())]
    assert condition_issues(parsed) == []

    set_cost_budget(10)

    assert cost_budget() == 10
    assert [issue.field for issue in condition_issues(parsed)] == ["conditions[0].expression"]


def test_evaluation_on_data_that_makes_it_too_costly_is_refused_fast_even_when_not_strict() -> None:
    compiled = compile_conditions(
        [json_format.ParseDict({"expression": "contact.tags.filter(t, t != 'x').size() > 0"}, Condition())]
    )
    small: dict[str, Any] = {"contact": {"tags": ["a", "b"]}}
    huge: dict[str, Any] = {"contact": {"tags": [f"tag{index}" for index in range(20_000)]}}
    assert compiled.evaluate(small, NOW) is True

    started = time.perf_counter()
    with pytest.raises(ConditionBudgetError) as err:
        compiled.evaluate(huge, NOW)

    assert time.perf_counter() - started < 1.0  # not run: filter over 20,000 items takes ~10 s
    assert "exceeded its cost budget" in str(err.value)
    assert "contact.tags holds 20001 values" in str(err.value)


def test_a_costly_condition_fails_the_step_rather_than_reading_as_false() -> None:
    compiled = compile_conditions(
        [
            json_format.ParseDict(
                {"expression": "contact.tags.exists(t, contact.tags.exists(u, t == u))"}, Condition()
            )
        ],
        "actions[2].config.conditions",
    )
    # Refused at validation already; a version stored before the budget still cannot run.
    with pytest.raises(ConditionBudgetError) as err:
        compiled.evaluate({"contact": {"tags": ["a"]}}, NOW)
    assert err.value.issues[0].field == "actions[2].config.conditions"


@pytest.mark.parametrize(
    "source",
    [
        "a.b.c[0] + -1 * 2 / 3 % 4 - 5u + 0x1F",
        "x ? y : z ? 1.5e3 : .5",
        "!(a || b && c) == (d in [1, 2, 3,])",
        "{'k': [1], \"j\": {}}.all(k, k != '') && has(a.b)",
        "r'\\d+' + '''multi\nline''' + b\"bytes\" + R\"raw\"",
        "l.map(x, x > 1, x * 2).filter(y, y > 2).exists_one(z, z == 4)",
        "timestamp('2026-01-01T00:00:00Z').getFullYear() > 2000 // a comment",
        "a.b{c: 1}",
    ],
)
def test_the_parser_reads_cel(source: str) -> None:
    parse(source)
    assert estimate_source(source) < 10**18


def test_long_condition_lists_do_not_exhaust_the_stack() -> None:
    source = " && ".join(["contact.score > 1.0"] * 5000)

    assert 5000 < estimate_source(source) < 10**18


def test_an_8kb_expression_is_refused_for_its_length() -> None:
    parsed = [json_format.ParseDict({"expression": nested_expression(size=8192)}, Condition())]

    assert condition_issues(parsed, "goal.conditions") == [
        Issue("goal.conditions[0].expression", "must have at most 4096 characters")
    ]
