"""The 16 condition-based trigger types (category ``condition``; issue #13, frame 4 of the seed).

A condition trigger listens to no event: the trigger service evaluates it against its contact
projection whenever a field the config names changes, and starts the automation when the
condition becomes true for a contact (edge-triggered; see ``beez.trigger.conditions``).

Fields are named as the projection names them: standard fields (``email``, ``score``,
``lifecycle_stage``, ``consent.email``...), custom fields by their own name (``plan``,
``birthday``), and system fields (``last_activity_at``, ``purchase_count``, ``monetary``...);
``GET /api/automations/fields`` lists them. Each entry's ``check`` adds what a schema cannot say
(a regular expression that RE2 refuses, a date range whose start is after its end...).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from beez.workflow.catalog.entries import TriggerType
from beez.workflow.catalog.pieces import EVENT_NAME, config_schema

MAX_PATTERN_LENGTH = 512
"""The longest regular expression ``regex_match`` takes (RE2 runs in linear time on top of it)."""
MAX_WINDOW_DAYS = 90
"""The longest counting window: the projection keeps 90 days of counters by default."""
DEVICE_CLASSES = ("mobile", "tablet", "desktop", "bot", "other")
CHANNELS = ("email", "sms", "whatsapp")
RFM_SEGMENTS = ("champions", "loyal", "new", "at_risk", "lost", "big_spenders")
FIELD_OPERATORS = (
    "equals",
    "not_equals",
    "contains",
    "not_contains",
    "starts_with",
    "ends_with",
    "in_list",
    "not_in_list",
    "greater_than",
    "greater_or_equal",
    "less_than",
    "less_or_equal",
)
SCORE_OPERATORS = ("greater_than", "greater_or_equal", "less_than", "less_or_equal")
MATH_COMPARISONS = ("above_average", "below_average", "above_percentile", "below_percentile")

FIELD = {"type": "string", "pattern": r"^[A-Za-z_][A-Za-z0-9_.-]*$", "description": "A contact field name."}
STRINGS = {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1, "maxItems": 100}
RANGE = {
    "type": "object",
    "properties": {"min": {"type": "number"}, "max": {"type": "number"}},
    "additionalProperties": False,
    "minProperties": 1,
}
DAYS = {"type": "integer", "minimum": 1, "maximum": MAX_WINDOW_DAYS}
ISO_DATE = {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"}

Check = Callable[[dict[str, Any]], list[tuple[str, str]]]


def condition_trigger(
    type_: str,
    name: str,
    description: str,
    properties: dict[str, Any],
    required: tuple[str, ...] = (),
    check: Check | None = None,
    **rules: Any,
) -> TriggerType:
    """A condition trigger entry: no event, a config schema, and an optional semantic check."""
    return TriggerType(
        type=type_,
        name=name,
        description=description,
        event=None,
        category="condition",
        config_schema=config_schema(type_, properties, required, retry=False, **rules),
        check=check,
    )


def compile_re2(pattern: str) -> Any:
    """``pattern`` compiled by RE2 (quietly: RE2 logs parse errors to stderr unless told not to).

    Raises:
        ValueError: naming why RE2 refuses it.
    """
    import re2

    options = re2.Options()
    options.log_errors = False
    try:
        return re2.compile(pattern, options)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        if isinstance(reason, bytes):
            reason = reason.decode(errors="replace")
        raise ValueError(str(reason)) from None


def _regex_check(config: dict[str, Any]) -> list[tuple[str, str]]:
    pattern = config.get("pattern")
    if not isinstance(pattern, str):
        return []
    try:
        compile_re2(pattern)
    except ValueError as exc:
        return [("pattern", f"is not a valid RE2 regular expression: {exc}")]
    return []


def _date_range_check(config: dict[str, Any]) -> list[tuple[str, str]]:
    start, end = config.get("from"), config.get("to")
    if not any(key in config for key in ("from", "to", "within_last_days", "within_next_days")):
        return [("from", "give from, to, within_last_days or within_next_days")]
    problems: list[tuple[str, str]] = []
    for key in ("from", "to"):
        value = config.get(key)
        if isinstance(value, str):
            try:
                date.fromisoformat(value)
            except ValueError:
                problems.append((key, "must be a date such as 2026-12-31"))
    if not problems and isinstance(start, str) and isinstance(end, str) and start > end:
        problems.append(("to", "must not be before from"))
    return problems


def _custom_logic_check(config: dict[str, Any]) -> list[tuple[str, str]]:
    from beez.workflow.conditions import condition_issues
    from beez.workflow.model import conditions_from_json

    conditions, issues = conditions_from_json(config.get("conditions"), "conditions")
    if not issues:
        issues = condition_issues(conditions, "conditions")
    problems = [(issue.field, issue.description) for issue in issues]
    for index, condition in enumerate(conditions):
        for path in _fields_of(condition):
            if not path.startswith("contact.fields."):
                problems.append((f"conditions[{index}]", "may only read contact.fields.<name>"))
                break
    return problems


def _fields_of(condition: Any) -> list[str]:
    found = [condition.field] if condition.field else []
    for child in [*condition.all, *condition.any]:
        found += _fields_of(child)
    if condition.HasField("negated"):
        found += _fields_of(condition.negated)
    if condition.expression:
        found.append("expression")
    return found


def _rfm_check(config: dict[str, Any]) -> list[tuple[str, str]]:
    if not any(key in config for key in ("segment", "recency_days", "frequency", "monetary")):
        return [("segment", "give a segment, or recency_days, frequency or monetary ranges")]
    return []


def _geo_check(config: dict[str, Any]) -> list[tuple[str, str]]:
    if not config.get("countries") and not config.get("regions"):
        return [("countries", "give countries or regions")]
    return []


_PERCENTILE_REQUIRED: dict[str, Any] = {
    "if": {"properties": {"compare": {"enum": ["above_percentile", "below_percentile"]}}},
    "then": {"required": ["percentile"], "errorMessage": "percentile is required for this comparison"},
}

CONDITION_TRIGGERS: tuple[TriggerType, ...] = (
    condition_trigger(
        "field_value_match",
        "Field value match",
        "A contact field equals, contains or compares with a value.",
        {
            "field": FIELD,
            "operator": {"enum": list(FIELD_OPERATORS), "default": "equals"},
            "value": {"type": ["string", "number", "boolean", "array"]},
            "case_sensitive": {"type": "boolean", "default": False},
        },
        ("field", "value"),
    ),
    condition_trigger(
        "score_threshold",
        "Score threshold",
        "The contact's score is above or below a threshold.",
        {"operator": {"enum": list(SCORE_OPERATORS)}, "value": {"type": "number"}},
        ("operator", "value"),
    ),
    condition_trigger(
        "list_membership",
        "List membership",
        "The contact is in any, all or none of the lists.",
        {"lists": STRINGS, "match": {"enum": ["any", "all", "none"], "default": "any"}},
        ("lists",),
    ),
    condition_trigger(
        "tag_combination",
        "Tag combination",
        "The contact has all, any or none of the tags.",
        {"tags": STRINGS, "match": {"enum": ["all", "any", "none"]}},
        ("tags", "match"),
    ),
    condition_trigger(
        "engagement_level",
        "Engagement level",
        "The contact's engagement (opens, clicks, replies, visits, forms, purchases) over a window "
        "is high, medium or low.",
        {
            "level": {"enum": ["high", "medium", "low"]},
            "window_days": {**DAYS, "default": 30},
            "high_at": {"type": "integer", "minimum": 1, "default": 10},
            "medium_at": {"type": "integer", "minimum": 1, "default": 3},
        },
        ("level",),
    ),
    condition_trigger(
        "behavior_pattern",
        "Behavior pattern",
        "The contact did something at least N times within a window (opened 3 emails in 7 days, "
        "visited a page 5 times).",
        {
            "event": EVENT_NAME,
            "page": {"type": "string", "maxLength": 200},
            "min_count": {"type": "integer", "minimum": 1},
            "window_days": DAYS,
        },
        ("event", "min_count", "window_days"),
    ),
    condition_trigger(
        "rfm_segment",
        "RFM segment",
        "The contact's recency, frequency and monetary value (from purchases and payments) put it in "
        "a segment, or within the given ranges.",
        {
            "segment": {"enum": list(RFM_SEGMENTS)},
            "recency_days": RANGE,
            "frequency": RANGE,
            "monetary": RANGE,
        },
        check=_rfm_check,
    ),
    condition_trigger(
        "geolocation",
        "Geolocation",
        "The contact is in one of the countries (ISO 3166-1 alpha-2; derived from the phone number "
        "when no country is set) or regions.",
        {
            "countries": {**STRINGS, "items": {"type": "string", "pattern": "^[A-Za-z]{2}$"}},
            "regions": STRINGS,
        },
        check=_geo_check,
    ),
    condition_trigger(
        "device_type",
        "Device type",
        "The contact's latest activity came from a mobile, tablet or desktop device.",
        {"devices": {**STRINGS, "items": {"enum": list(DEVICE_CLASSES)}}},
        ("devices",),
    ),
    condition_trigger(
        "channel_preference",
        "Channel preference",
        "The contact prefers a channel: its preferred_channel field, else the channel it engages on most.",
        {"channel": {"enum": list(CHANNELS)}},
        ("channel",),
    ),
    condition_trigger(
        "custom_field_logic",
        "Custom field logic",
        "A boolean expression over custom fields: conditions on contact.fields.<name>.",
        {"conditions": {"type": "array", "minItems": 1, "maxItems": 50, "items": {"type": "object"}}},
        ("conditions",),
        check=_custom_logic_check,
    ),
    condition_trigger(
        "date_range",
        "Date range",
        "A date field lies within a range: fixed dates, the last N days or the next N days.",
        {
            "field": FIELD,
            "from": ISO_DATE,
            "to": ISO_DATE,
            "within_last_days": {"type": "integer", "minimum": 0, "maximum": 3660},
            "within_next_days": {"type": "integer", "minimum": 0, "maximum": 3660},
        },
        ("field",),
        check=_date_range_check,
    ),
    condition_trigger(
        "null_check",
        "Null/empty check",
        "A field has no value (missing, null, empty text or list), or has one.",
        {"field": FIELD, "check": {"enum": ["empty", "not_empty"], "default": "empty"}},
        ("field",),
    ),
    condition_trigger(
        "regex_match",
        "Regex match",
        "A text field matches a regular expression (RE2: linear time, no backreferences).",
        {
            "field": FIELD,
            "pattern": {"type": "string", "minLength": 1, "maxLength": MAX_PATTERN_LENGTH},
            "negate": {"type": "boolean", "default": False},
        },
        ("field", "pattern"),
        check=_regex_check,
    ),
    condition_trigger(
        "mathematical",
        "Mathematical",
        "A numeric field is above or below the organization's average or a percentile, from a "
        "quantile sketch the projection keeps per field.",
        {
            "field": FIELD,
            "compare": {"enum": list(MATH_COMPARISONS)},
            "percentile": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 100},
        },
        ("field", "compare"),
        **_PERCENTILE_REQUIRED,
    ),
    condition_trigger(
        "sentiment",
        "Sentiment",
        "The contact's latest incoming message is positive, negative or neutral (VADER lexicon, offline).",
        {"sentiment": {"enum": ["positive", "negative", "neutral"]}},
        ("sentiment",),
    ),
)
