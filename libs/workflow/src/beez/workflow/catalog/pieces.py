"""Pieces the catalog's JSON schemas are built from (draft 2020-12, ``additionalProperties: false``).

Where a rule needs ``if``/``then``, the failing subschema carries an ``errorMessage`` (the ajv-errors
convention) that validation shows instead of jsonschema's wording.
"""

from __future__ import annotations

from typing import Any

from beez.workflow.intervals import UNITS
from beez.workflow.retry import MAX_ATTEMPTS, MAX_BACKOFF_SECONDS

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

MAX_LENGTHS: dict[str, int] = {
    "subject": 998,  # RFC 5322's line limit
    "body": 100_000,
    "html": 100_000,
    "text": 40_000,  # Slack's limit
    "message": 10_000,
    "description": 10_000,
    "reason": 1_000,
    "title": 500,
    "url": 2_048,
    "webhook_url": 2_048,
    "to": 320,  # an email address (RFC 5321), a phone number, or a template of one
    "from": 320,
    "reply_to": 320,
    "headers": 4_096,
    "value": 10_000,
    "expression": 4_096,
    "template": 200,
    "tag": 200,
    "list": 200,
    "field": 256,
    "event": 200,
    "name": 64,
    "connection": 64,
    "save_as": 64,
    "user_id": 200,
    "team": 200,
    "assignee": 200,
    "channel": 200,
    "automation_id": 200,
    "over": 256,
    "until": 64,
    "at": 5,
}
"""The longest text each config field may hold, by the field's name; others get
:data:`DEFAULT_MAX_LENGTH`."""

DEFAULT_MAX_LENGTH = 1_000
"""The longest text of a config field :data:`MAX_LENGTHS` does not name."""

FILTER_VALUE_MAX_LENGTH = 1_000
"""The longest text a filter may match."""

TEXT = {"type": "string", "minLength": 1}
SCALAR = {"type": ["string", "number", "boolean"], "maxLength": FILTER_VALUE_MAX_LENGTH}
FILTERS = {
    "type": "object",
    "description": "Equality matches on the event's data: a field name and the value it must equal.",
    "additionalProperties": SCALAR,
}
EVENT_NAME_PATTERN = r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$"
"""What an event type looks like: dot-separated words, e.g. ``link.clicked``."""

EVENT_NAME = {
    "type": "string",
    "pattern": EVENT_NAME_PATTERN,
    "description": "An event type such as link.clicked.",
}
INTERVAL = {
    "type": "object",
    "properties": {"value": {"type": "integer", "minimum": 1}, "unit": {"enum": list(UNITS)}},
    "required": ["value", "unit"],
    "additionalProperties": False,
}
RETRY = {
    "type": "object",
    "description": "Overrides the default retry schedule (at once, then 60, 300 and 900 s).",
    "properties": {
        "attempts": {"type": "integer", "minimum": 1, "maximum": MAX_ATTEMPTS},
        "backoff": {
            "type": "array",
            "items": {"type": "integer", "minimum": 0, "maximum": MAX_BACKOFF_SECONDS},
            "maxItems": MAX_ATTEMPTS,
        },
    },
    "additionalProperties": False,
}
FILTERS_SCHEMA = FILTERS
"""The schema of every ``filters`` object: field names to scalars."""

HTTP_HEADERS = {"type": "object", "additionalProperties": {"type": "string"}}
IDENTIFIER = {"type": "string", "pattern": r"^[a-z_][a-z0-9_]*$"}
FIELD_PATH = {"type": "string", "pattern": r"^(contact|event|vars|execution)(\.[^.]+)+$"}
CONTACT_FIELD = {"type": "string", "pattern": r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$"}
"""A contact field by name, or a dotted path into one (``fields.plan``)."""
CONNECTION = {
    "type": "string",
    "pattern": r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}$",
    "description": "The organization's connection to use, by id or name (decision 0040). Email, "
    "WhatsApp and SMS use the organization's only connection of their provider when none is "
    "named, and the platform's settings when it has none.",
}
CONDITIONS = {"type": "array", "minItems": 1, "items": {"type": "object"}}
TIME_OF_DAY = {"type": "string", "pattern": r"^([01]\d|2[0-3]):[0-5]\d$"}


_NOT_TEXT = frozenset({"enum", "const", "properties", "items", "$ref"})


def bounded(schema: Any, name: str) -> Any:
    """A copy of ``schema`` where every text (a ``string`` type, or a value of any type) has a
    ``maxLength``: :data:`MAX_LENGTHS` by property name, else :data:`DEFAULT_MAX_LENGTH`."""
    if not isinstance(schema, dict):
        return schema
    copy = dict(schema)
    kinds = schema.get("type")
    kinds = {kinds} if isinstance(kinds, str) else set(kinds or ())
    if "maxLength" not in copy and ("string" in kinds or not (kinds or _NOT_TEXT & copy.keys())):
        copy["maxLength"] = MAX_LENGTHS.get(name, DEFAULT_MAX_LENGTH)
    if isinstance(copy.get("properties"), dict):
        copy["properties"] = {key: bounded(sub, key) for key, sub in copy["properties"].items()}
    for key in ("additionalProperties", "items"):
        if isinstance(copy.get(key), dict):
            copy[key] = bounded(copy[key], name)
    return copy


def config_schema(
    title: str,
    properties: dict[str, Any],
    required: tuple[str, ...] = (),
    *,
    retry: bool = True,
    **rules: Any,
) -> dict[str, Any]:
    """A config schema: an object of ``properties`` and nothing else."""
    props = {name: bounded(sub, name) for name, sub in properties.items()}
    if retry:
        props["retry"] = RETRY
    schema: dict[str, Any] = {
        "$schema": SCHEMA_DIALECT,
        "title": title,
        "type": "object",
        "properties": props,
        "additionalProperties": False,
    }
    if required:
        schema["required"] = list(required)
    schema.update(rules)
    return schema


def schema_rules(rules: dict[str, Any]) -> dict[str, Any]:
    """Extra schema keywords (``if``/``then``/``else``...), typed for ``config_schema(**...)``."""
    return rules


def required_unless(present: str, then_required: list[str], message: str) -> dict[str, Any]:
    """``if`` ``present`` is missing, ``then_required`` are required (with ``message``)."""
    return {
        "if": {"not": {"required": [present]}},
        "then": {"required": then_required, "errorMessage": message},
    }


# --- types -----------------------------------------------------------------------------------
