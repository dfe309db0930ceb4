"""The catalog: exactly the trigger, action and control types the engine runs, and the operators.

The automation service publishes it (``/api/automations/triggers``, ``.../actions``,
``.../conditions/operators``, ``.../:type/schema``), validation checks workflows against it and
Beezora is prompted with it, so a type that is here is a type that works end to end.

Config schemas are JSON Schema draft 2020-12 with ``additionalProperties: false``. Where a rule
needs ``if``/``then``, the failing subschema carries an ``errorMessage`` (the ajv-errors
convention) that validation shows instead of jsonschema's wording.
"""

from __future__ import annotations

import copy
from typing import Any

from beez.workflow.catalog.actions import ACTIONS
from beez.workflow.catalog.entries import (
    ACTION_CATEGORIES,
    ENGINE,
    EXTERNAL,
    FAILED_BRANCH,
    LOCAL,
    LOOP_DEFAULT_MAX_ITEMS,
    LOOP_MAX_ITEMS,
    LOOP_MAX_TIMES,
    RUNNERS,
    TRIGGER_CATEGORIES,
    ActionType,
    Operator,
    TriggerType,
)
from beez.workflow.catalog.operators import OPERATORS
from beez.workflow.catalog.pieces import EVENT_NAME, EVENT_NAME_PATTERN, FILTERS_SCHEMA, SCHEMA_DIALECT
from beez.workflow.catalog.triggers import TRIGGERS

__all__ = [
    "ACTION_CATEGORIES",
    "ENGINE",
    "EVENT_NAME_PATTERN",
    "EXTERNAL",
    "FAILED_BRANCH",
    "FILTERS_SCHEMA",
    "LOCAL",
    "LOOP_DEFAULT_MAX_ITEMS",
    "LOOP_MAX_ITEMS",
    "LOOP_MAX_TIMES",
    "RUNNERS",
    "TRIGGER_CATEGORIES",
    "ActionType",
    "Operator",
    "TriggerType",
    "action_schema",
    "action_type",
    "action_types",
    "channel",
    "is_communication",
    "is_control",
    "is_local",
    "operator",
    "operators",
    "trigger_schema",
    "trigger_type",
    "trigger_types",
]

_TRIGGERS_BY_TYPE = {entry.type: entry for entry in TRIGGERS}
_ACTIONS = tuple(sorted(ACTIONS, key=lambda entry: ACTION_CATEGORIES.index(entry.category)))
"""Every action type, grouped by category in :data:`ACTION_CATEGORIES` order (stable within one)."""
_ACTIONS_BY_TYPE = {entry.type: entry for entry in _ACTIONS}
_OPERATORS_BY_NAME = {entry.name: entry for entry in OPERATORS}


def trigger_types() -> list[TriggerType]:
    """Every trigger type, in display order."""
    return list(TRIGGERS)


def trigger_type(type_: str) -> TriggerType | None:
    """The trigger type called ``type_``, or None."""
    return _TRIGGERS_BY_TYPE.get(type_)


def action_types() -> list[ActionType]:
    """Every action and control type, in display order (by category, then as listed)."""
    return list(_ACTIONS)


def action_type(type_: str) -> ActionType | None:
    """The action or control type called ``type_``, or None."""
    return _ACTIONS_BY_TYPE.get(type_)


def trigger_schema(type_: str) -> dict[str, Any]:
    """The JSON schema of a whole trigger object of this type (``config`` and ``filters`` inside).

    Raises:
        KeyError: for an unknown type.
    """
    entry = _TRIGGERS_BY_TYPE[type_]
    schema: dict[str, Any] = {
        "$schema": SCHEMA_DIALECT,
        "title": entry.type,
        "description": entry.description,
        "type": "object",
        "properties": {
            "type": {"const": entry.type},
            "event": {**EVENT_NAME, "default": entry.event} if entry.event else EVENT_NAME,
            "filters": copy.deepcopy(entry.filters_schema),
            "config": {k: v for k, v in copy.deepcopy(entry.config_schema).items() if k != "$schema"},
        },
        "required": ["type", "event"] if entry.requires_event else ["type"],
        "additionalProperties": False,
    }
    return schema


def action_schema(type_: str) -> dict[str, Any]:
    """The JSON schema of the ``config`` of an action or control type (a copy).

    Raises:
        KeyError: for an unknown type.
    """
    return copy.deepcopy(_ACTIONS_BY_TYPE[type_].config_schema)


def operators() -> list[Operator]:
    """Every condition operator, in display order."""
    return list(OPERATORS)


def operator(name: str) -> Operator | None:
    """The operator called ``name``, or None."""
    return _OPERATORS_BY_NAME.get(name)


def is_control(type_: str) -> bool:
    """Whether the engine runs ``type_`` itself (wait, condition, switch, cancel_pending_actions...)."""
    entry = _ACTIONS_BY_TYPE.get(type_)
    return entry is not None and entry.is_control


def is_local(type_: str) -> bool:
    """Whether ``type_`` is a registered action that only computes commands, events and variables."""
    entry = _ACTIONS_BY_TYPE.get(type_)
    return entry is not None and entry.runner == LOCAL


def is_communication(type_: str) -> bool:
    """Whether ``type_`` sends a message (email, WhatsApp, SMS, Slack...): counted against
    ``max_messages``, and the dry run checks its recipient. Not the internal notification."""
    entry = _ACTIONS_BY_TYPE.get(type_)
    return entry is not None and entry.is_message


def channel(type_: str) -> str | None:
    """The contact channel of a communication type: "email", "whatsapp", "sms"; else None.

    This is also the name of the contact's consent flag (``contact.consent.<channel>``) and the
    types quiet hours hold back.
    """
    entry = _ACTIONS_BY_TYPE.get(type_)
    return entry.channel if entry is not None else None
