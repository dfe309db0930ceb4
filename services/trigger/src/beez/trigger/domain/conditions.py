"""The 16 condition trigger types evaluated against a projected contact (pure logic).

:func:`compile_condition` turns a trigger's type and config (already validated against the
catalog) into a :class:`ConditionTrigger`: the fields it reads, which the automation index stores
so only automations naming a changed field are evaluated, and :meth:`ConditionTrigger.holds`.

Field names are the projection's (:func:`beez.trigger.domain.projection.view`); counters are
read as ``counters.<event type>`` and engagement, RFM and the derived signals as ``engagement``,
``rfm``, ``device``, ``sentiment``. Time-dependent types (``date_range``) are also re-evaluated by
the condition sweep (:mod:`beez.trigger.conditions`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from beez.trigger.domain import sketch
from beez.trigger.domain.projection import ENGAGEMENT_EVENTS, PAGE_VISITED, date_value
from beez.trigger.domain.signals import country_of_phone, sentiment_label
from beez.workflow.catalog.conditions import compile_re2
from beez.workflow.conditions import CompiledCondition, compile_conditions
from beez.workflow.errors import ConditionError
from beez.workflow.model import conditions_from_json

MAX_REGEX_INPUT = 10_000
"""The longest text a regex_match searches (the start of a longer one)."""
TIME_DEPENDENT = frozenset({"date_range"})
"""Types whose truth changes with time alone; the condition sweep re-evaluates them."""
ROLLING_WINDOW = frozenset({"behavior_pattern", "engagement_level"})
"""Types counting events within the last N days (the bucketed counters): as the window slides
their count only falls, so the sweep re-evaluates the contacts they hold for, once a day."""

Buckets = list[tuple[int, int, float]]


@dataclass(frozen=True, slots=True)
class Subject:
    """A contact as conditions read it: its flat view, counters and custom fields, and, for
    ``mathematical``, the organization's sketch of each field the automation reads."""

    view: Mapping[str, Any]
    counters: Mapping[str, Mapping[str, int]]
    custom: Mapping[str, Any]
    sketches: Mapping[str, Buckets] = field(default_factory=dict)


Holds = Callable[[Subject, datetime], bool]


@dataclass(frozen=True, slots=True)
class ConditionTrigger:
    """A compiled condition trigger: what it reads and whether it holds for a subject."""

    type: str
    reads: frozenset[str]
    holds: Holds
    sketch_fields: frozenset[str] = frozenset()

    @property
    def time_dependent(self) -> bool:
        return self.type in TIME_DEPENDENT


class NotACondition(ValueError):
    """The trigger type is not a condition type, or its config cannot be compiled."""


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _fold(value: Any, case_sensitive: bool) -> Any:
    return value if case_sensitive or not isinstance(value, str) else value.casefold()


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _field_match(config: dict[str, Any]) -> Holds:
    name = str(config["field"])
    operator = str(config.get("operator", "equals"))
    sensitive = bool(config.get("case_sensitive", False))
    expected = config["value"]
    wanted = (
        [_fold(v, sensitive) for v in expected] if isinstance(expected, list) else _fold(expected, sensitive)
    )

    def holds(subject: Subject, now: datetime) -> bool:
        actual = subject.view.get(name)
        if actual is None:
            return False
        value = (
            [_fold(v, sensitive) for v in actual] if isinstance(actual, list) else _fold(actual, sensitive)
        )
        if operator == "equals":
            return bool(value == wanted)
        if operator == "not_equals":
            return bool(value != wanted)
        if operator in ("contains", "not_contains"):
            found = wanted in value if isinstance(value, list) else str(wanted) in str(value)
            return found == (operator == "contains")
        if operator == "starts_with":
            return isinstance(value, str) and value.startswith(str(wanted))
        if operator == "ends_with":
            return isinstance(value, str) and value.endswith(str(wanted))
        if operator in ("in_list", "not_in_list"):
            options = wanted if isinstance(wanted, list) else [wanted]
            return (value in options) == (operator == "in_list")
        return _compare(_number(actual), operator, _number(expected))

    return holds


def _compare(actual: float | None, operator: str, expected: float | None) -> bool:
    if actual is None or expected is None:
        return False
    if operator == "greater_than":
        return actual > expected
    if operator == "greater_or_equal":
        return actual >= expected
    if operator == "less_than":
        return actual < expected
    if operator == "less_or_equal":
        return actual <= expected
    return False


def _score(config: dict[str, Any]) -> Holds:
    operator, value = str(config["operator"]), float(config["value"])
    return lambda subject, now: _compare(_number(subject.view.get("score")), operator, value)


def _membership(name: str, config: dict[str, Any], default: str) -> Holds:
    wanted = set(config[name])
    match = str(config.get("match", default))

    def holds(subject: Subject, now: datetime) -> bool:
        have = set(subject.view.get(name) or ())
        if match == "all":
            return wanted <= have
        if match == "none":
            return not (wanted & have)
        return bool(wanted & have)

    return holds


def _window_total(counters: Mapping[str, Mapping[str, int]], keys: Any, now: datetime, days: int) -> int:
    since = (now.astimezone(UTC).date() - timedelta(days=days - 1)).isoformat()
    return sum(n for key in keys for day, n in (counters.get(key) or {}).items() if day >= since)


def _engagement(config: dict[str, Any]) -> Holds:
    level = str(config["level"])
    window = int(config.get("window_days", 30))
    high, medium = int(config.get("high_at", 10)), int(config.get("medium_at", 3))

    def holds(subject: Subject, now: datetime) -> bool:
        total = _window_total(subject.counters, ENGAGEMENT_EVENTS & subject.counters.keys(), now, window)
        found = "high" if total >= high else "medium" if total >= medium else "low"
        return found == level

    return holds


def _counter_key(config: dict[str, Any]) -> str:
    page = config.get("page")
    return f"{PAGE_VISITED}@{page}" if page and config["event"] == PAGE_VISITED else str(config["event"])


def _behavior(config: dict[str, Any]) -> Holds:
    key = _counter_key(config)
    minimum, window = int(config["min_count"]), int(config["window_days"])
    return lambda subject, now: _window_total(subject.counters, (key,), now, window) >= minimum


RFM_RULES: dict[str, Callable[[float, int, float], bool]] = {
    "champions": lambda r, f, m: r <= 30 and f >= 5,
    "loyal": lambda r, f, m: r <= 90 and f >= 3,
    "new": lambda r, f, m: r <= 30 and f == 1,
    "at_risk": lambda r, f, m: 90 < r <= 180 and f >= 2,
    "lost": lambda r, f, m: r > 180 and f >= 1,
    "big_spenders": lambda r, f, m: m >= 1000,
}
"""The named RFM segments: recency in days since the last purchase, frequency (purchases) and
monetary value (their total)."""


def _in_range(value: float, bounds: Mapping[str, Any] | None) -> bool:
    if not bounds:
        return True
    low, high = bounds.get("min"), bounds.get("max")
    return (low is None or value >= float(low)) and (high is None or value <= float(high))


def _rfm(config: dict[str, Any]) -> Holds:
    segment = config.get("segment")

    def holds(subject: Subject, now: datetime) -> bool:
        last = subject.view.get("last_purchase_at")
        frequency = int(subject.view.get("purchase_count") or 0)
        monetary = float(subject.view.get("monetary") or 0)
        if not last or frequency <= 0:
            return False
        recency = (now - datetime.fromisoformat(str(last))).total_seconds() / 86400
        if segment is not None and not RFM_RULES[str(segment)](recency, frequency, monetary):
            return False
        return (
            _in_range(recency, config.get("recency_days"))
            and _in_range(frequency, config.get("frequency"))
            and _in_range(monetary, config.get("monetary"))
        )

    return holds


def _geolocation(config: dict[str, Any]) -> Holds:
    countries = {str(c).upper() for c in config.get("countries") or ()}
    regions = {str(r).casefold() for r in config.get("regions") or ()}

    def holds(subject: Subject, now: datetime) -> bool:
        country = subject.view.get("country")
        phone = subject.view.get("phone")
        if not country and isinstance(phone, str) and phone:
            country = country_of_phone(phone)
        if countries and isinstance(country, str) and country.upper() in countries:
            return True
        region = subject.view.get("region")
        return bool(regions) and isinstance(region, str) and region.casefold() in regions

    return holds


def _device(config: dict[str, Any]) -> Holds:
    devices = set(config["devices"])
    return lambda subject, now: subject.view.get("device") in devices


def _channel(config: dict[str, Any]) -> Holds:
    channel = str(config["channel"])
    return lambda subject, now: subject.view.get("preferred_channel") == channel


def _custom_logic(config: dict[str, Any]) -> tuple[Holds, frozenset[str]]:
    conditions, issues = conditions_from_json(config["conditions"], "conditions")
    if issues:
        raise NotACondition(issues[0].description)
    try:
        compiled: CompiledCondition = compile_conditions(conditions)
    except ConditionError as exc:
        raise NotACondition(str(exc)) from None
    names: set[str] = set()
    stack = list(conditions)
    while stack:
        condition = stack.pop()
        if condition.field.startswith("contact.fields."):
            names.add(condition.field.removeprefix("contact.fields.").split(".")[0])
        stack += [*condition.all, *condition.any]
        if condition.HasField("negated"):
            stack.append(condition.negated)

    def holds(subject: Subject, now: datetime) -> bool:
        try:
            return compiled.evaluate({"contact": {"fields": dict(subject.custom)}}, now)
        except ConditionError:
            return False

    return holds, frozenset(names)


def _date_range(config: dict[str, Any]) -> Holds:
    name = str(config["field"])

    def holds(subject: Subject, now: datetime) -> bool:
        day = date_value(subject.view.get(name))
        if day is None:
            return False
        low, high = date_range_bounds(config, now.astimezone(UTC).date())
        return (low is None or day >= low) and (high is None or day <= high)

    return holds


def date_range_bounds(config: dict[str, Any], today: date) -> tuple[date | None, date | None]:
    """The dates a ``date_range`` config accepts today (the sweep's index range)."""
    start = date.fromisoformat(config["from"]) if config.get("from") else None
    end = date.fromisoformat(config["to"]) if config.get("to") else None
    last, upcoming = config.get("within_last_days"), config.get("within_next_days")
    low, high = start, end
    if last is not None:
        low = max(filter(None, (low, today - timedelta(days=int(last)))))
        if upcoming is None:
            high = min(filter(None, (high, today)))
    if upcoming is not None:
        high = min(filter(None, (high, today + timedelta(days=int(upcoming)))))
        if last is None:
            low = max(filter(None, (low, today)))
    return low, high


def _null_check(config: dict[str, Any]) -> Holds:
    name, check = str(config["field"]), str(config.get("check", "empty"))
    return lambda subject, now: _empty(subject.view.get(name)) == (check == "empty")


def _regex(config: dict[str, Any]) -> Holds:
    name, negate = str(config["field"]), bool(config.get("negate", False))
    try:
        pattern = compile_re2(str(config["pattern"]))
    except ValueError as exc:
        raise NotACondition(str(exc)) from None

    def holds(subject: Subject, now: datetime) -> bool:
        value = subject.view.get(name)
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            return False
        return (pattern.search(str(value)[:MAX_REGEX_INPUT]) is not None) != negate

    return holds


def _mathematical(config: dict[str, Any]) -> Holds:
    name, compare = str(config["field"]), str(config["compare"])
    percentile = float(config.get("percentile", 50))

    def holds(subject: Subject, now: datetime) -> bool:
        value = _number(subject.view.get(name))
        buckets = subject.sketches.get(name)
        if value is None or not buckets:
            return False
        if compare.endswith("average"):
            reference = sketch.mean(buckets)
        else:
            reference = sketch.quantile(buckets, percentile / 100)
        if reference is None:
            return False
        return value > reference if compare.startswith("above") else value < reference

    return holds


def _sentiment(config: dict[str, Any]) -> Holds:
    wanted = str(config["sentiment"])

    def holds(subject: Subject, now: datetime) -> bool:
        score = _number(subject.view.get("sentiment"))
        return score is not None and sentiment_label(score) == wanted

    return holds


def compile_condition(trigger_type: str, config: dict[str, Any]) -> ConditionTrigger:
    """The compiled condition of a trigger.

    Raises:
        NotACondition: for a type that is not a condition type, or a config that cannot run.
    """
    try:
        return _compile(trigger_type, config)
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, NotACondition):
            raise
        raise NotACondition(f"{trigger_type}: {exc!r}") from None


_SIMPLE: dict[str, tuple[Callable[[dict[str, Any]], Holds], Callable[[dict[str, Any]], set[str]]]] = {
    "field_value_match": (_field_match, lambda c: {c["field"]}),
    "score_threshold": (_score, lambda c: {"score"}),
    "list_membership": (lambda c: _membership("lists", c, "any"), lambda c: {"lists"}),
    "tag_combination": (lambda c: _membership("tags", c, "any"), lambda c: {"tags"}),
    "engagement_level": (_engagement, lambda c: {"engagement"}),
    "behavior_pattern": (_behavior, lambda c: {f"counters.{_counter_key(c)}"}),
    "rfm_segment": (_rfm, lambda c: {"rfm"}),
    "geolocation": (_geolocation, lambda c: {"country", "region", "phone"}),
    "device_type": (_device, lambda c: {"device"}),
    "channel_preference": (_channel, lambda c: {"preferred_channel"}),
    "date_range": (_date_range, lambda c: {c["field"]}),
    "null_check": (_null_check, lambda c: {c["field"]}),
    "regex_match": (_regex, lambda c: {c["field"]}),
    "mathematical": (_mathematical, lambda c: {c["field"]}),
    "sentiment": (_sentiment, lambda c: {"sentiment"}),
}
"""Each condition type but ``custom_field_logic``: how to build its test, and the fields it reads."""


def _compile(trigger_type: str, config: dict[str, Any]) -> ConditionTrigger:
    if trigger_type == "custom_field_logic":
        holds, names = _custom_logic(config)
        return ConditionTrigger(trigger_type, names, holds)
    found = _SIMPLE.get(trigger_type)
    if found is None:
        raise NotACondition(f"{trigger_type!r} is not a condition trigger type")
    build, reads = found
    sketched = frozenset({str(config["field"])}) if trigger_type == "mathematical" else frozenset()
    return ConditionTrigger(trigger_type, frozenset(reads(config)), build(config), sketched)


CONDITION_TYPES = frozenset({*_SIMPLE, "custom_field_logic"})
"""Every condition trigger type this module compiles (the catalog's ``condition`` category)."""
