"""Conditions compile to CEL and evaluate safely: every operator, logic, groups and raw CEL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from google.protobuf import json_format

from beez.api.workflow.v1.workflow_pb2 import Condition
from beez.workflow.conditions import CompiledCondition, compile_conditions, condition_issues, to_cel
from beez.workflow.errors import ConditionError, Issue

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)

CTX: dict[str, Any] = {
    "contact": {
        "id": "c_1",
        "first_name": "Ada",
        "email": "ada@example.com",
        "score": 81,
        "tags": ["vip", "lead"],
        "consent": {"email": True, "sms": False},
        "fields": {"plan": "pro", "joined": "2026-11-20", "seats": 2.5, "notes": "", "empty_list": []},
    },
    "event": {
        "type": "purchase.made",
        "occurred_at": "2026-11-26T10:00:00Z",
        "data": {"total": 120.0, "items": ["book", "pen"], "coupon": None},
    },
    "vars": {"attempts": 3},
    "execution": {"id": "ex_1"},
}


def cond(**data: Any) -> Condition:
    return json_format.ParseDict(data, Condition())


def holds(*conditions: Condition, ctx: dict[str, Any] | None = None) -> bool:
    return compile_conditions(list(conditions)).evaluate(CTX if ctx is None else ctx, NOW)


def compare(field: str, operator: str, value: Any = None) -> bool:
    data: dict[str, Any] = {"field": field, "operator": operator}
    if value is not None:
        data["value"] = value
    return holds(cond(**data))


# (operator, field, value, expected); "contact.fields.missing" rows check the missing-field rule.
CASES: list[tuple[str, str, Any, bool]] = [
    ("equals", "contact.fields.plan", "pro", True),
    ("equals", "contact.fields.plan", "free", False),
    ("equals", "contact.consent.email", True, True),
    ("equals", "contact.score", 81, True),
    ("equals", "contact.fields.missing", "pro", False),
    ("not_equals", "contact.fields.plan", "free", True),
    ("not_equals", "contact.fields.plan", "pro", False),
    ("not_equals", "contact.fields.missing", "pro", False),
    ("contains", "contact.first_name", "d", True),
    ("contains", "contact.first_name", "z", False),
    ("contains", "event.data.items", "pen", True),
    ("contains", "event.data.items", "ink", False),
    ("contains", "contact.fields.missing", "x", False),
    ("not_contains", "contact.first_name", "z", True),
    ("not_contains", "event.data.items", "pen", False),
    ("not_contains", "contact.fields.missing", "x", False),
    ("starts_with", "contact.email", "ada@", True),
    ("starts_with", "contact.email", "bob@", False),
    ("starts_with", "contact.fields.missing", "a", False),
    ("ends_with", "contact.email", "@example.com", True),
    ("ends_with", "contact.email", "@example.org", False),
    ("ends_with", "contact.fields.missing", "a", False),
    ("greater_than", "contact.score", 80, True),
    ("greater_than", "contact.score", 81, False),
    ("greater_than", "contact.fields.missing", 1, False),
    ("greater_than", "contact.fields.plan", 1, False),  # text is not a number: false, no error
    ("greater_or_equal", "contact.score", 81, True),
    ("greater_or_equal", "contact.score", 81.5, False),
    ("greater_or_equal", "contact.fields.missing", 1, False),
    ("less_than", "contact.fields.seats", 3, True),
    ("less_than", "contact.fields.seats", 2, False),
    ("less_than", "contact.fields.missing", 1, False),
    ("less_or_equal", "contact.fields.seats", 2.5, True),
    ("less_or_equal", "contact.fields.seats", 2, False),
    ("less_or_equal", "contact.fields.missing", 1, False),
    ("between", "contact.score", [80, 81], True),
    ("between", "contact.score", [0, 80], False),
    ("between", "contact.fields.joined", ["2026-11-01", "2026-11-30"], True),
    ("between", "contact.fields.joined", ["2026-12-01", "2026-12-31"], False),
    ("between", "contact.fields.missing", [0, 100], False),
    ("in_list", "contact.fields.plan", ["pro", "enterprise"], True),
    ("in_list", "contact.fields.plan", ["free"], False),
    ("in_list", "contact.score", [81, 82], True),
    ("in_list", "contact.fields.missing", ["pro"], False),
    ("not_in_list", "contact.fields.plan", ["free"], True),
    ("not_in_list", "contact.fields.plan", ["pro"], False),
    ("not_in_list", "contact.fields.missing", ["pro"], False),
    ("is_empty", "contact.fields.notes", None, True),
    ("is_empty", "contact.fields.empty_list", None, True),
    ("is_empty", "event.data.coupon", None, True),
    ("is_empty", "contact.fields.missing", None, True),
    ("is_empty", "contact.fields.plan", None, False),
    ("is_not_empty", "contact.fields.plan", None, True),
    ("is_not_empty", "contact.fields.notes", None, False),
    ("is_not_empty", "contact.fields.missing", None, False),
    ("matches_regex", "contact.email", r"^[a-z]+@example\.com$", True),
    ("matches_regex", "contact.email", r"^\d+$", False),
    ("matches_regex", "contact.fields.missing", ".*", False),
    ("before", "event.occurred_at", "2026-11-27", True),
    ("before", "event.occurred_at", "2026-11-26T09:00:00Z", False),
    ("before", "contact.fields.missing", "2030-01-01", False),
    ("after", "contact.fields.joined", "2026-11-19T23:59:59+00:00", True),
    ("after", "contact.fields.joined", "2026-11-20", False),
    ("after", "contact.fields.missing", "2000-01-01", False),
    ("within_last", "event.occurred_at", {"value": 3, "unit": "hours"}, True),
    ("within_last", "event.occurred_at", {"value": 1, "unit": "hours"}, False),
    ("within_last", "contact.fields.joined", {"value": 1, "unit": "months"}, True),
    ("within_last", "contact.fields.joined", {"value": 5, "unit": "days"}, False),
    ("within_last", "contact.fields.missing", {"value": 1, "unit": "days"}, False),
    ("has_tag", "", "vip", True),
    ("has_tag", "", "customer", False),
    ("has_tag", "contact.fields.missing", "vip", False),
    ("has_any_tags", "", ["customer", "lead"], True),
    ("has_any_tags", "", ["customer", "churned"], False),
    ("has_any_tags", "contact.fields.missing", ["vip"], False),
    ("has_all_tags", "", ["vip", "lead"], True),
    ("has_all_tags", "", ["vip", "customer"], False),
    ("has_all_tags", "contact.fields.missing", ["vip"], False),
]


@pytest.mark.parametrize(("operator", "field", "value", "expected"), CASES)
def test_operator(operator: str, field: str, value: Any, expected: bool) -> None:
    assert compare(field, operator, value) is expected


def test_every_catalog_operator_is_covered() -> None:
    from beez.workflow.catalog import operators

    assert {name for name, *_ in CASES} == {entry.name for entry in operators()}


@pytest.mark.parametrize("score", [81, 81.0, 80.5])
def test_numbers_compare_the_same_whether_int_or_float(score: float) -> None:
    ctx = {"contact": {"score": score}}
    assert holds(cond(field="contact.score", operator="greater_than", value=80), ctx=ctx)
    assert holds(cond(expression="contact.score > 80"), ctx=ctx)
    assert holds(cond(field="contact.score", operator="less_or_equal", value=81), ctx=ctx)
    assert holds(cond(field="contact.score", operator="equals", value=81), ctx=ctx) is (score == 81)


def test_missing_roots_and_intermediate_objects_make_comparisons_false() -> None:
    assert not holds(cond(field="vars.order.total", operator="greater_than", value=1), ctx={})
    assert not holds(cond(field="contact.first_name.x", operator="equals", value=1))
    assert holds(cond(field="vars.order.total", operator="is_empty"), ctx={"vars": {"order": "text"}})


def test_a_condition_is_handed_only_the_roots_it_names() -> None:
    # CEL converts every variable it is given; a value it cannot convert in a root the
    # condition never reads (here a Python object in the event) must not matter.
    ctx = {**CTX, "event": {"data": {"handle": object()}}}
    assert holds(cond(field="contact.score", operator="greater_than", value=80), ctx=ctx)
    assert not holds(cond(field="event.data.total", operator="greater_than", value=1), ctx=ctx)
    raw = compile_conditions(
        [cond(expression="vars.attempts == 3.0 && now > timestamp('2026-01-01T00:00:00Z')")]
    )
    assert raw.evaluate(ctx, NOW)


def test_and_binds_tighter_than_or() -> None:
    true = {"field": "contact.fields.plan", "operator": "equals", "value": "pro"}
    false = {"field": "contact.fields.plan", "operator": "equals", "value": "free"}
    # true OR (false AND false) -> true; left-to-right would give (true OR false) AND false -> false
    assert holds(cond(**true), cond(**false, logic="OR"), cond(**false, logic="AND"))
    # (false AND true) OR true -> true
    assert holds(cond(**false), cond(**true), cond(**true, logic="OR"))
    # false OR (true AND false) -> false
    assert not holds(cond(**false), cond(**true, logic="OR"), cond(**false))
    # AND is the default and lower case works
    assert not holds(cond(**true), cond(**false))
    assert holds(cond(**false), cond(**true, logic="or"))


def test_the_first_conditions_logic_is_ignored() -> None:
    true = {"field": "contact.fields.plan", "operator": "equals", "value": "pro"}
    assert holds(cond(**true, logic="OR"))


def test_groups_all_any_and_not() -> None:
    vip = {"operator": "has_tag", "value": "vip"}
    churned = {"operator": "has_tag", "value": "churned"}
    assert holds(cond(all=[vip, {"field": "contact.score", "operator": "greater_than", "value": 80}]))
    assert not holds(cond(all=[vip, churned]))
    assert holds(cond(any=[churned, vip]))
    assert not holds(cond(any=[churned, churned]))
    assert holds(cond(**{"not": churned}))
    assert not holds(cond(**{"not": {"any": [churned, vip]}}))
    # members' logic is ignored inside all/any
    assert not holds(cond(all=[vip, {**churned, "logic": "OR"}]))


def test_raw_cel_expressions() -> None:
    assert holds(cond(expression="contact.score > 80 && 'vip' in contact.tags"))
    assert holds(cond(expression="event.data.items.exists(i, i == 'pen')"))
    assert holds(
        cond(expression="size(contact.tags) == 2"), cond(expression="now > timestamp('2026-01-01T00:00:00Z')")
    )
    assert not holds(cond(expression="contact.fields.plan == 'free'"))


def test_a_raw_expression_that_fails_at_runtime_is_false_or_raises_when_strict() -> None:
    compiled = compile_conditions([cond(expression="contact.nickname == 'x'")])
    assert compiled.evaluate(CTX, NOW) is False
    with pytest.raises(ConditionError) as caught:
        compiled.evaluate(CTX, NOW, strict=True)
    assert caught.value.issues[0].field == "conditions"
    assert compile_conditions([cond(expression="'not a bool'")]).evaluate(CTX, NOW) is False


def test_empty_conditions_always_hold() -> None:
    assert compile_conditions([]).evaluate({}, NOW) is True


def test_compilation_errors_are_issues_with_paths() -> None:
    conditions = [
        cond(field="contact.score", operator="greater_than", value="high"),
        cond(field="order.total", operator="equals", value=1),
        cond(field="contact.firstName", operator="equals", value="Ada"),
        cond(field="contact.score", operator="roughly", value=1),
        cond(field="contact.score", operator="between", value=[10, 1]),
        cond(field="contact.email", operator="matches_regex", value="(unclosed"),
        cond(field="contact.email", operator="is_empty", value="x"),
        cond(operator="has_any_tags", value=[]),
        cond(field="contact.score", operator="equals"),
        cond(**{"not": {"expression": "contact.score >"}}),
        cond(any=[{"field": "contact.id", "operator": "equals", "value": {"a": 1}}]),
        cond(field="contact.score", operator="equals", value=1, expression="true"),
        cond(field="contact.score", operator="equals", value=1, logic="XOR"),
        cond(field="event.occurred_at", operator="before", value="yesterday"),
        cond(field="event.occurred_at", operator="within_last", value={"value": 0, "unit": "days"}),
        cond(),
    ]
    issues = condition_issues(conditions, "goal.conditions")
    assert [issue.field for issue in issues] == [
        "goal.conditions[0].value",
        "goal.conditions[1].field",
        "goal.conditions[2].field",
        "goal.conditions[3].operator",
        "goal.conditions[4].value",
        "goal.conditions[5].value",
        "goal.conditions[6].value",
        "goal.conditions[7].value",
        "goal.conditions[8].value",
        "goal.conditions[9].not.expression",
        "goal.conditions[10].any[0].value",
        "goal.conditions[11]",
        "goal.conditions[12].logic",
        "goal.conditions[13].value",
        "goal.conditions[14].value",
        "goal.conditions[15]",
    ]
    with pytest.raises(ConditionError) as caught:
        compile_conditions(conditions[:1])
    assert caught.value.issues == [Issue("conditions[0].value", "must be a number")]


def test_fields_that_are_not_identifiers_are_indexed() -> None:
    ctx = {"contact": {"fields": {"plan type": "pro", "in": 1}}}
    assert holds(cond(field="contact.fields.plan type", operator="equals", value="pro"), ctx=ctx)
    assert holds(cond(field="contact.fields.in", operator="equals", value=1), ctx=ctx)


def test_literals_are_escaped() -> None:
    tricky = 'a "quoted" \\ value\n" || true || "'
    ctx = {"vars": {"text": tricky}}
    assert holds(cond(field="vars.text", operator="equals", value=tricky), ctx=ctx)
    assert not holds(cond(field="vars.text", operator="equals", value='" || true || "'), ctx=ctx)


def test_compiled_source_is_cel_and_compilation_is_cached() -> None:
    conditions = [cond(field="contact.score", operator="greater_than", value=80)]
    first = compile_conditions(conditions)
    assert isinstance(first, CompiledCondition)
    assert "contact.score > 80.0" in first.source
    assert compile_conditions(conditions) is first
    assert to_cel([])[0] == "true"
