"""Condition lists to CEL source: one program per list, with every problem as an issue at its path.

The semantics each operator compiles to are set out in :mod:`beez.workflow.conditions`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import cel
from google.protobuf import json_format

from beez.api.workflow.v1.workflow_pb2 import Condition
from beez.workflow.catalog import operator as catalog_operator
from beez.workflow.conditions.cost import UNREADABLE, cost_budget, estimate_source
from beez.workflow.errors import Issue, join_path
from beez.workflow.intervals import interval_parts, interval_problem, parse_time

ROOTS: tuple[str, ...] = ("contact", "event", "vars", "execution")
"""The names a field path may start with."""

CONTACT_FIELDS = frozenset(
    {
        "id",
        "email",
        "phone",
        "first_name",
        "last_name",
        "tags",
        "lists",
        "score",
        "timezone",
        "consent",
        "fields",
    }
)
"""The keys of ``contact`` in a context (see :mod:`beez.workflow.context`)."""

EVENT_FIELDS = frozenset({"id", "type", "occurred_at", "contact_id", "data"})
"""The keys of ``event`` in a context."""

MAX_EXPRESSION_LENGTH = 4096
"""The longest raw CEL expression a condition may hold."""

MAX_FIELD_LENGTH = 256
"""The longest field path a comparison may name."""

MAX_VALUE_LENGTH = 4096
"""The longest value (as CEL source: a text, a list...) a comparison may compare with."""

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_RESERVED = frozenset(
    [
        "false",
        "in",
        "null",
        "true",
        "as",
        "break",
        "const",
        "continue",
        "else",
        "for",
        "function",
        "if",
        "import",
        "let",
        "loop",
        "package",
        "namespace",
        "return",
        "var",
        "void",
        "while",
    ]
)
_SECONDS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400, "weeks": 604800}


def _literal(value: Any) -> str:
    """A Python JSON value as CEL source; numbers become doubles."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(float(value))
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_literal(item) for item in value) + "]"
    if isinstance(value, Mapping):
        return (
            "{"
            + ", ".join(f"{json.dumps(str(k), ensure_ascii=False)}: {_literal(v)}" for k, v in value.items())
            + "}"
        )
    raise TypeError(f"not a JSON value: {value!r}")


def _timestamp(moment: datetime) -> str:
    text = moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return f"timestamp({json.dumps(text)})"


# --- fields ----------------------------------------------------------------------------------


def _segment(parent: str, name: str) -> str:
    if _IDENTIFIER.match(name) and name not in _RESERVED:
        return f"{parent}.{name}"
    return f"{parent}[{json.dumps(name, ensure_ascii=False)}]"


def _presence(parent: str, name: str) -> str:
    if _IDENTIFIER.match(name) and name not in _RESERVED:
        return f"has({parent}.{name})"
    return f"{json.dumps(name, ensure_ascii=False)} in {parent}"


@dataclass(frozen=True, slots=True)
class _Field:
    """A field path as CEL: the access expression and the guard that makes it safe."""

    access: str
    guard: str


def _parse_field(text: str, path: str, issues: list[Issue]) -> _Field | None:
    segments = text.strip().split(".")
    if segments[0] not in ROOTS:
        issues.append(Issue(path, f"must start with one of {', '.join(ROOTS)}"))
        return None
    if len(segments) < 2 or any(not segment for segment in segments):
        issues.append(Issue(path, "must name a field, e.g. contact.first_name"))
        return None
    known = {"contact": CONTACT_FIELDS, "event": EVENT_FIELDS}.get(segments[0])
    if known is not None and segments[1] not in known:
        issues.append(
            Issue(path, f"{segments[0]} has no field {segments[1]!r} (fields: {', '.join(sorted(known))})")
        )
        return None
    access, guards = segments[0], []
    for depth, name in enumerate(segments[1:]):
        if depth > 0:
            guards.append(f"type({access}) == map")
        guards.append(_presence(access, name))
        access = _segment(access, name)
    return _Field(access, " && ".join(guards))


# --- operators -------------------------------------------------------------------------------

_EMPTY = (
    '{f} == null || (type({f}) == string && {f} == "") || '
    "(type({f}) == list && size({f}) == 0) || (type({f}) == map && size({f}) == 0)"
)


def _is_scalar(value: Any) -> bool:
    return isinstance(value, str | int | float | bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@dataclass
class _Comparison:
    """One comparison being compiled; collects issues at the condition's paths."""

    path: str
    issues: list[Issue] = field(default_factory=list)

    def bad_value(self, description: str) -> str:
        self.issues.append(Issue(join_path(self.path, "value"), description))
        return "false"


def _compile_comparison(condition: Condition, path: str, issues: list[Issue]) -> str:
    """A ``{field, operator, value}`` condition as a CEL expression that never errors."""
    op_name = condition.operator.strip()
    spec = catalog_operator(op_name)
    if spec is None:
        issues.append(
            Issue(join_path(path, "operator"), f"unknown operator {op_name!r}" if op_name else "is required")
        )
        return "false"
    field_text = condition.field.strip() or ("" if spec.field_required else "contact.tags")
    if not field_text:
        issues.append(Issue(join_path(path, "field"), "is required"))
        return "false"
    if len(field_text) > MAX_FIELD_LENGTH:
        issues.append(Issue(join_path(path, "field"), f"must have at most {MAX_FIELD_LENGTH} characters"))
        return "false"
    target = _parse_field(field_text, join_path(path, "field"), issues)
    has_value = condition.HasField("value")
    value = json_format.MessageToDict(condition.value) if has_value else None
    if has_value and len(_literal(value)) > MAX_VALUE_LENGTH:
        issues.append(Issue(join_path(path, "value"), f"must have at most {MAX_VALUE_LENGTH} characters"))
        return "false"
    state = _Comparison(path)
    expression = _operator_cel(op_name, target or _Field("x", "false"), value, has_value, state)
    issues.extend(state.issues)
    if target is None or state.issues:
        return "false"
    return expression


def _operator_cel(op: str, target: _Field, value: Any, has_value: bool, state: _Comparison) -> str:
    f, g = target.access, target.guard
    if op == "is_empty" or op == "is_not_empty":
        if value is not None:
            return state.bad_value(f"{op} takes no value")
        empty = f"!({g}) || {_EMPTY.format(f=f)}"
        return f"({empty})" if op == "is_empty" else f"!({empty})"
    if not has_value:
        return state.bad_value("is required")
    if op in ("equals", "not_equals"):
        if not (
            _is_scalar(value) or value is None or (isinstance(value, list) and all(map(_is_scalar, value)))
        ):
            return state.bad_value("must be text, a number, true/false, null or a list")
        sign = "==" if op == "equals" else "!="
        return f"({g} && {f} {sign} {_literal(value)})"
    if op in ("contains", "not_contains"):
        if not _is_scalar(value):
            return state.bad_value("must be text, a number or true/false")
        lit = _literal(value)
        neg = "!" if op == "not_contains" else ""
        member = f"(type({f}) == list && {neg}({lit} in {f}))"
        if isinstance(value, str):
            return f"({g} && ((type({f}) == string && {neg}{f}.contains({lit})) || {member}))"
        return f"({g} && {member})"
    if op in ("starts_with", "ends_with"):
        if not isinstance(value, str):
            return state.bad_value("must be text")
        method = "startsWith" if op == "starts_with" else "endsWith"
        return f"({g} && type({f}) == string && {f}.{method}({_literal(value)}))"
    if op in ("greater_than", "greater_or_equal", "less_than", "less_or_equal"):
        if not _is_number(value):
            return state.bad_value("must be a number")
        sign = {"greater_than": ">", "greater_or_equal": ">=", "less_than": "<", "less_or_equal": "<="}[op]
        return f"({g} && type({f}) == double && {f} {sign} {_literal(value)})"
    if op == "between":
        return _between(f, g, value, state)
    if op in ("in_list", "not_in_list"):
        if not isinstance(value, list) or not all(map(_is_scalar, value)):
            return state.bad_value("must be a list of text, numbers or true/false")
        neg = "!" if op == "not_in_list" else ""
        return f"({g} && {neg}({f} in {_literal(value)}))"
    if op == "matches_regex":
        if not isinstance(value, str):
            return state.bad_value("must be a regular expression")
        problem = _regex_problem(value)
        if problem:
            return state.bad_value(f"invalid regular expression: {problem}")
        return f"({g} && type({f}) == string && {f}.matches({_literal(value)}))"
    if op in ("before", "after"):
        moment = parse_time(value)
        if moment is None:
            return state.bad_value("must be an RFC 3339 timestamp or a YYYY-MM-DD date")
        sign = "<" if op == "before" else ">"
        t = _as_time(f)
        return f"({g} && {t} != null && {t} {sign} {_timestamp(moment)})"
    if op == "within_last":
        return _within_last(f, g, value, state)
    if op == "has_tag":
        if not isinstance(value, str) or not value:
            return state.bad_value("must be a tag")
        return f"({g} && type({f}) == list && {_literal(value)} in {f})"
    if op in ("has_any_tags", "has_all_tags"):
        if not isinstance(value, list) or not value or not all(isinstance(tag, str) and tag for tag in value):
            return state.bad_value("must be a non-empty list of tags")
        macro = "exists" if op == "has_any_tags" else "all"
        return f"({g} && type({f}) == list && {_literal(value)}.{macro}(tag_, tag_ in {f}))"
    raise AssertionError(f"operator {op} is in the catalog but not compiled")  # pragma: no cover


def _between(f: str, g: str, value: Any, state: _Comparison) -> str:
    if not isinstance(value, list) or len(value) != 2:
        return state.bad_value("must be [low, high]")
    low, high = value
    if _is_number(low) and _is_number(high):
        if low > high:
            return state.bad_value("low must not be above high")
        return f"({g} && type({f}) == double && {f} >= {_literal(low)} && {f} <= {_literal(high)})"
    start, end = parse_time(low), parse_time(high)
    if start is None or end is None:
        return state.bad_value("must be [low, high] of numbers or of timestamps")
    if start > end:
        return state.bad_value("low must not be after high")
    t = _as_time(f)
    return f"({g} && {t} != null && {t} >= {_timestamp(start)} && {t} <= {_timestamp(end)})"


def _within_last(f: str, g: str, value: Any, state: _Comparison) -> str:
    if not isinstance(value, Mapping):
        return state.bad_value("must be {value, unit}")
    problem = interval_problem(value)
    if problem and problem != "must not be longer than 1 year":
        return state.bad_value(problem)
    amount, unit = interval_parts(value)
    if unit == "months":
        since = f"months_ago(now, {amount})"
    else:
        since = f'now - duration("{amount * _SECONDS[unit]}s")'
    t = _as_time(f)
    return f"({g} && {t} != null && {t} >= {since} && {t} <= now)"


def _as_time(f: str) -> str:
    """``as_time`` of a field, handed no list or map: they are never times, and converting
    one for the Python function would cost time in proportion to its size."""
    return f"as_time(type({f}) == map || type({f}) == list ? null : {f})"


@lru_cache(maxsize=256)
def _regex_problem(pattern: str) -> str | None:
    """Why CEL's regex engine rejects ``pattern``, or None."""
    try:
        cel.evaluate(f'"".matches({_literal(pattern)})')
    except Exception as exc:  # the cel binding raises plain RuntimeError/ValueError
        message = str(exc)
        return message.split("error:")[-1].split(". Check")[0].strip() if "error:" in message else message
    return None


# --- structure -------------------------------------------------------------------------------


def _compile_one(condition: Condition, path: str, issues: list[Issue]) -> str:
    kinds = []
    if condition.field or condition.operator:
        kinds.append("comparison")
    if len(condition.all):
        kinds.append("all")
    if len(condition.any):
        kinds.append("any")
    if condition.HasField("negated"):
        kinds.append("not")
    if condition.expression:
        kinds.append("expression")
    if not kinds:
        issues.append(Issue(path, "empty condition: give field and operator, all, any, not or expression"))
        return "false"
    if len(kinds) > 1:
        issues.append(
            Issue(
                path, f"give only one of field/operator, all, any, not, expression (got {', '.join(kinds)})"
            )
        )
        return "false"
    kind = kinds[0]
    if kind == "comparison":
        return _compile_comparison(condition, path, issues)
    if kind == "all":
        return _group(condition.all, join_path(path, "all"), " && ", issues)
    if kind == "any":
        return _group(condition.any, join_path(path, "any"), " || ", issues)
    if kind == "not":
        return f"!{_compile_one(condition.negated, join_path(path, 'not'), issues)}"
    return _compile_expression(condition.expression, join_path(path, "expression"), issues)


def _group(members: Sequence[Condition], path: str, joiner: str, issues: list[Issue]) -> str:
    parts = [_compile_one(member, join_path(path, index), issues) for index, member in enumerate(members)]
    return parts[0] if len(parts) == 1 else "(" + joiner.join(parts) + ")"


def _compile_expression(source: str, path: str, issues: list[Issue]) -> str:
    if len(source) > MAX_EXPRESSION_LENGTH:
        issues.append(Issue(path, f"must have at most {MAX_EXPRESSION_LENGTH} characters"))
        return "false"
    try:
        cel.compile(source)
    except Exception as exc:  # the cel binding raises ValueError for syntax errors
        issues.append(Issue(path, "invalid CEL: " + " ".join(str(exc).split())))
        return "false"
    return f"({source})"


def _join_with_logic(conditions: Sequence[Condition], path: str, issues: list[Issue]) -> str:
    """Joins a list by each member's ``logic``; AND binds tighter than OR."""
    groups: list[list[str]] = [[]]
    for index, condition in enumerate(conditions):
        at = join_path(path, index)
        logic = condition.logic.strip().upper() or "AND"
        if logic not in ("AND", "OR"):
            issues.append(Issue(join_path(at, "logic"), "must be AND or OR"))
        if index > 0 and logic == "OR":
            groups.append([])
        groups[-1].append(_compile_one(condition, at, issues))
    ands = [group[0] if len(group) == 1 else "(" + " && ".join(group) + ")" for group in groups if group]
    if not ands:
        return "true"
    return ands[0] if len(ands) == 1 else " || ".join(ands)


def to_cel(conditions: Sequence[Condition], path: str = "conditions") -> tuple[str, list[Issue]]:
    """The CEL source of a condition list (``true`` when empty), and the issues found.

    Issue paths are under ``path`` (``conditions[0].operator``, ``goal.conditions[1].value``).
    """
    issues: list[Issue] = []
    source = _join_with_logic(conditions, path, issues)
    if not issues:
        try:
            cel_program(source)
        except Exception as exc:  # a raw expression that only fails once combined
            issues.append(Issue(path, "invalid CEL: " + " ".join(str(exc).split())))
    return source, issues


def condition_issues(conditions: Sequence[Condition], path: str = "conditions") -> list[Issue]:
    """Every problem of a condition list, with paths; empty when it compiles within budget.

    The budget (:func:`beez.workflow.conditions.cost.cost_budget`) applies to the whole list,
    estimated for data of the sizes validation assumes; a raw expression over budget on its
    own is named at its own path.
    """
    source, issues = to_cel(conditions, path)
    if issues:
        return issues
    budget = cost_budget()
    cost = estimate_source(source)
    if cost <= budget:
        return []
    expensive = [
        Issue(at, _over_budget(estimate_source(text), budget))
        for at, text in _expressions(conditions, path)
        if estimate_source(text) > budget
    ]
    return expensive or [Issue(path, _over_budget(cost, budget))]


def _over_budget(cost: int, budget: int) -> str:
    if cost >= UNREADABLE:
        return "its cost cannot be estimated"
    return f"is too expensive: its cost is estimated at {cost} units, more than the budget of {budget}"


def _expressions(conditions: Sequence[Condition], path: str) -> list[tuple[str, str]]:
    """The raw CEL expressions of a condition list, at their paths."""
    found: list[tuple[str, str]] = []
    for index, condition in enumerate(conditions):
        found.extend(_expressions_of(condition, join_path(path, index)))
    return found


def _expressions_of(condition: Condition, at: str) -> list[tuple[str, str]]:
    found = [(join_path(at, "expression"), condition.expression)] if condition.expression else []
    found.extend(_expressions(condition.all, join_path(at, "all")))
    found.extend(_expressions(condition.any, join_path(at, "any")))
    if condition.HasField("negated"):
        found.extend(_expressions_of(condition.negated, join_path(at, "not")))
    return found


@lru_cache(maxsize=4096)
def cel_program(source: str) -> cel.Program:
    """``source`` compiled by CEL, cached: validation and evaluation share the compiled programs."""
    return cel.compile(source)
