"""Pieces the catalog's JSON schemas are built from (draft 2020-12, ``additionalProperties: false``).

Where a rule needs ``if``/``then``, the failing subschema carries an ``errorMessage`` (the ajv-errors
convention) that validation shows instead of jsonschema's wording.
"""

from __future__ import annotations

from typing import Any

from beez.workflow.intervals import UNITS
from beez.workflow.retry import MAX_ATTEMPTS, MAX_BACKOFF_SECONDS

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

TEXT = {"type": "string", "minLength": 1}
SCALAR = {"type": ["string", "number", "boolean"]}
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
CONDITIONS = {"type": "array", "minItems": 1, "items": {"type": "object"}}
TIME_OF_DAY = {"type": "string", "pattern": r"^([01]\d|2[0-3]):[0-5]\d$"}


def config_schema(
    title: str,
    properties: dict[str, Any],
    required: tuple[str, ...] = (),
    *,
    retry: bool = True,
    **rules: Any,
) -> dict[str, Any]:
    """A config schema: an object of ``properties`` and nothing else."""
    props = dict(properties)
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
