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
from dataclasses import dataclass, field
from typing import Any

from beez.workflow.intervals import UNITS, WEEKDAYS
from beez.workflow.retry import MAX_ATTEMPTS, MAX_BACKOFF_SECONDS

__all__ = [
    "ACTION_CATEGORIES",
    "EVENT_NAME_PATTERN",
    "FILTERS_SCHEMA",
    "LOOP_DEFAULT_MAX_ITEMS",
    "LOOP_MAX_ITEMS",
    "LOOP_MAX_TIMES",
    "ActionType",
    "Operator",
    "TriggerType",
    "action_schema",
    "action_type",
    "action_types",
    "channel",
    "is_communication",
    "is_control",
    "operator",
    "operators",
    "trigger_schema",
    "trigger_type",
    "trigger_types",
]

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

LOOP_MAX_TIMES = 1000
"""The most iterations a ``loop`` may run (``times``, or ``max_items`` for ``over``)."""

LOOP_DEFAULT_MAX_ITEMS = 100
"""How many items a ``loop {over}`` visits when it gives no ``max_items``."""

LOOP_MAX_ITEMS = LOOP_MAX_TIMES

ACTION_CATEGORIES: tuple[str, ...] = (
    "communication",
    "integration",
    "crm",
    "tasks",
    "data",
    "automation",
    "notifications",
    "control",
)

# --- schema pieces ---------------------------------------------------------------------------

_TEXT = {"type": "string", "minLength": 1}
_SCALAR = {"type": ["string", "number", "boolean"]}
_FILTERS = {
    "type": "object",
    "description": "Equality matches on the event's data: a field name and the value it must equal.",
    "additionalProperties": _SCALAR,
}
EVENT_NAME_PATTERN = r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$"
"""What an event type looks like: dot-separated words, e.g. ``link.clicked``."""

_EVENT_NAME = {
    "type": "string",
    "pattern": EVENT_NAME_PATTERN,
    "description": "An event type such as link.clicked.",
}
_INTERVAL = {
    "type": "object",
    "properties": {"value": {"type": "integer", "minimum": 1}, "unit": {"enum": list(UNITS)}},
    "required": ["value", "unit"],
    "additionalProperties": False,
}
_RETRY = {
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
FILTERS_SCHEMA = _FILTERS
"""The schema of every ``filters`` object: field names to scalars."""

_HTTP_HEADERS = {"type": "object", "additionalProperties": {"type": "string"}}
_IDENTIFIER = {"type": "string", "pattern": r"^[a-z_][a-z0-9_]*$"}
_FIELD_PATH = {"type": "string", "pattern": r"^(contact|event|vars|execution)(\.[^.]+)+$"}
_CONDITIONS = {"type": "array", "minItems": 1, "items": {"type": "object"}}
_TIME_OF_DAY = {"type": "string", "pattern": r"^([01]\d|2[0-3]):[0-5]\d$"}


def _config(
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
        props["retry"] = _RETRY
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


def _rules(rules: dict[str, Any]) -> dict[str, Any]:
    """Extra schema keywords (``if``/``then``/``else``...), typed for ``_config(**...)``."""
    return rules


def _unless(present: str, then_required: list[str], message: str) -> dict[str, Any]:
    """``if`` ``present`` is missing, ``then_required`` are required (with ``message``)."""
    return {
        "if": {"not": {"required": [present]}},
        "then": {"required": then_required, "errorMessage": message},
    }


# --- types -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TriggerType:
    """A trigger type: what event it listens to and what ``config``/``filters`` it takes."""

    type: str
    name: str
    description: str
    event: str | None
    category: str = "event"
    config_schema: dict[str, Any] = field(default_factory=lambda: _config("config", {}, retry=False))
    filters_schema: dict[str, Any] = field(default_factory=lambda: dict(_FILTERS))

    @property
    def requires_event(self) -> bool:
        """Whether ``trigger.event`` must be given (there is no default event)."""
        return self.event is None


@dataclass(frozen=True, slots=True)
class ActionType:
    """An action or control type and the ``config`` and branches it takes.

    ``branches`` are the fixed branch names; ``named_branches`` types (switch, random_split)
    take branches named by the author instead. ``channel`` is the contact channel of a
    communication action (None for others and for Slack, which goes to the team).
    """

    type: str
    name: str
    description: str
    category: str
    config_schema: dict[str, Any]
    branches: tuple[str, ...] = ()
    named_branches: bool = False
    channel: str | None = None

    @property
    def is_control(self) -> bool:
        """Whether the type steers the flow rather than doing something."""
        return self.category == "control"

    @property
    def takes_branches(self) -> bool:
        """Whether steps of this type may carry branches at all."""
        return bool(self.branches) or self.named_branches


@dataclass(frozen=True, slots=True)
class Operator:
    """A condition operator: what it means and which values it accepts.

    ``value_types`` uses: string, number, boolean, null, list (of scalars), strings (a list of
    strings), range (``[lo, hi]`` of numbers or of timestamps), timestamp (RFC 3339 or
    ``YYYY-MM-DD``), interval (``{value, unit}``), regex, none (no value).
    """

    name: str
    description: str
    value_types: tuple[str, ...]
    field_required: bool = True


def _trigger(type_: str, name: str, description: str, event: str | None) -> TriggerType:
    return TriggerType(type=type_, name=name, description=description, event=event)


_TRIGGERS: tuple[TriggerType, ...] = (
    _trigger("contact_created", "Contact created", "A new contact was added.", "contact.created"),
    _trigger("contact_updated", "Contact updated", "A contact's details changed.", "contact.updated"),
    _trigger("tag_added", "Tag added", "A tag was added to a contact.", "tag.added"),
    _trigger("tag_removed", "Tag removed", "A tag was removed from a contact.", "tag.removed"),
    _trigger("list_joined", "List joined", "A contact was added to a list.", "list.joined"),
    _trigger("list_left", "List left", "A contact was removed from a list.", "list.left"),
    _trigger("form_submitted", "Form submitted", "A contact submitted a form.", "form.submitted"),
    _trigger("cart_abandoned", "Cart abandoned", "A contact left items in a cart.", "cart.abandoned"),
    _trigger("purchase_made", "Purchase made", "A contact completed a purchase.", "purchase.made"),
    _trigger(
        "message_received",
        "Message received",
        "A contact sent a message on any channel.",
        "message.received",
    ),
    _trigger("link_clicked", "Link clicked", "A contact clicked a tracked link.", "link.clicked"),
    _trigger("email_opened", "Email opened", "A contact opened an email.", "email.opened"),
    _trigger(
        "custom_event",
        "Custom event",
        "Any event a producer publishes; trigger.event names its type.",
        None,
    ),
)

_ACTIONS: tuple[ActionType, ...] = (
    # communication
    ActionType(
        "send_email",
        "Send email",
        "Sends an email, from a stored template or a body; to the contact unless `to` says otherwise.",
        "communication",
        _config(
            "send_email",
            {
                "template": {**_TEXT, "description": "A stored template; it carries its own subject."},
                "subject": {**_TEXT, "description": "Overrides the template's subject."},
                "body": {"type": "string"},
                "to": {"type": "string", "format": "email", "description": "Default: the contact's email."},
                "from": {"type": "string", "format": "email"},
                "reply_to": {"type": "string", "format": "email"},
            },
            **_unless("template", ["subject", "body"], "required when no template is given"),
        ),
        channel="email",
    ),
    ActionType(
        "send_whatsapp",
        "Send WhatsApp message",
        "Sends a WhatsApp message (a body, or an approved template).",
        "communication",
        _config(
            "send_whatsapp",
            {"body": {"type": "string"}, "template": _TEXT, "to": {"type": "string"}},
            **_unless("template", ["body"], "body or template is required"),
        ),
        channel="whatsapp",
    ),
    ActionType(
        "send_sms",
        "Send SMS",
        "Sends a text message to the contact's phone unless `to` says otherwise.",
        "communication",
        _config("send_sms", {"body": _TEXT, "to": {"type": "string"}}, ("body",)),
        channel="sms",
    ),
    ActionType(
        "send_slack",
        "Send Slack message",
        "Posts to Slack, through the organization's integration or an incoming webhook.",
        "communication",
        _config(
            "send_slack",
            {"text": _TEXT, "webhook_url": {"type": "string", "format": "uri"}, "channel": _TEXT},
            ("text",),
        ),
    ),
    # integration
    ActionType(
        "webhook",
        "Webhook",
        "Sends an HTTP request (POST by default) with the given body.",
        "integration",
        _config(
            "webhook",
            {
                "url": {"type": "string", "format": "uri"},
                "method": {"enum": ["GET", "POST", "PUT", "PATCH", "DELETE"], "default": "POST"},
                "headers": _HTTP_HEADERS,
                "body": {"type": ["object", "array", "string"]},
                "timeout_s": {"type": "number", "exclusiveMinimum": 0, "maximum": 120},
            },
            ("url",),
        ),
    ),
    ActionType(
        "call_api",
        "Call API",
        "Calls an HTTP API; `save_as` keeps the response in vars.<save_as> for later steps.",
        "integration",
        _config(
            "call_api",
            {
                "url": {"type": "string", "format": "uri"},
                "method": {"enum": ["GET", "POST", "PUT", "PATCH", "DELETE"]},
                "headers": _HTTP_HEADERS,
                "body": {"type": ["object", "array", "string"]},
                "timeout_s": {"type": "number", "exclusiveMinimum": 0, "maximum": 120},
                "save_as": _IDENTIFIER,
            },
            ("url", "method"),
        ),
    ),
    # crm
    ActionType(
        "add_tag",
        "Add tag",
        "Adds a tag to the contact.",
        "crm",
        _config("add_tag", {"tag": _TEXT}, ("tag",)),
    ),
    ActionType(
        "remove_tag",
        "Remove tag",
        "Removes a tag from the contact.",
        "crm",
        _config("remove_tag", {"tag": _TEXT}, ("tag",)),
    ),
    ActionType(
        "update_field",
        "Update field",
        "Sets one of the contact's fields.",
        "crm",
        _config("update_field", {"field": _TEXT, "value": {}}, ("field", "value")),
    ),
    ActionType(
        "add_to_list",
        "Add to list",
        "Adds the contact to a list.",
        "crm",
        _config("add_to_list", {"list": _TEXT}, ("list",)),
    ),
    ActionType(
        "remove_from_list",
        "Remove from list",
        "Removes the contact from a list.",
        "crm",
        _config("remove_from_list", {"list": _TEXT}, ("list",)),
    ),
    ActionType(
        "update_score",
        "Update score",
        "Changes the contact's score by `delta`, or sets it to `value`.",
        "crm",
        _config(
            "update_score",
            {"delta": {"type": "integer"}, "value": {"type": "integer"}},
            **_rules(
                {
                    "if": {"required": ["value"]},
                    "then": {"not": {"required": ["delta"]}, "errorMessage": "give delta or value, not both"},
                    "else": {"required": ["delta"], "errorMessage": "delta (or value) is required"},
                }
            ),
        ),
    ),
    ActionType(
        "assign_user",
        "Assign user",
        "Assigns the contact to a user or to a team.",
        "crm",
        _config(
            "assign_user",
            {"user_id": _TEXT, "team": _TEXT},
            **_unless("user_id", ["team"], "user_id or team is required"),
        ),
    ),
    # tasks
    ActionType(
        "create_task",
        "Create task",
        "Creates a task about the contact.",
        "tasks",
        _config(
            "create_task",
            {
                "title": _TEXT,
                "description": {"type": "string"},
                "assignee": _TEXT,
                "due_in_hours": {"type": "integer", "minimum": 1, "maximum": 8760},
            },
            ("title",),
        ),
    ),
    # data
    ActionType(
        "set_variable",
        "Set variable",
        "Stores a value in vars.<name> for later steps, conditions and templates.",
        "data",
        _config("set_variable", {"name": _IDENTIFIER, "value": {}}, ("name", "value")),
    ),
    # automation
    ActionType(
        "trigger_automation",
        "Trigger automation",
        "Starts another automation for the same contact.",
        "automation",
        _config("trigger_automation", {"automation_id": _TEXT}, ("automation_id",)),
    ),
    # notifications
    ActionType(
        "send_internal_notification",
        "Send internal notification",
        "Notifies the team inside the app.",
        "notifications",
        _config(
            "send_internal_notification",
            {"message": _TEXT, "user_id": _TEXT, "channel": _TEXT},
            ("message",),
        ),
    ),
    # control
    ActionType(
        "wait",
        "Wait",
        "Waits for an amount of time, or until a time of day (on some weekdays) in the contact's zone.",
        "control",
        _config(
            "wait",
            {
                "value": {"type": "integer", "minimum": 1},
                "unit": {"enum": list(UNITS)},
                "until": _TIME_OF_DAY,
                "weekdays": {
                    "type": "array",
                    "items": {"enum": list(WEEKDAYS)},
                    "minItems": 1,
                    "uniqueItems": True,
                },
            },
            retry=False,
            dependentRequired={"weekdays": ["until"]},
            **_rules(
                {
                    "if": {"required": ["until"]},
                    "then": {
                        "not": {"anyOf": [{"required": ["value"]}, {"required": ["unit"]}]},
                        "errorMessage": "give value and unit, or until, not both",
                    },
                    "else": {"required": ["value", "unit"], "errorMessage": "required (or until)"},
                }
            ),
        ),
    ),
    ActionType(
        "condition",
        "Condition",
        "Runs branch yes when the conditions hold, branch no otherwise.",
        "control",
        _config("condition", {"conditions": _CONDITIONS}, ("conditions",), retry=False),
        branches=("yes", "no"),
    ),
    ActionType(
        "switch",
        "Switch",
        "Runs the first branch whose conditions hold, else the branch named default.",
        "control",
        _config("switch", {}, retry=False),
        named_branches=True,
    ),
    ActionType(
        "wait_for_event",
        "Wait for event",
        "Waits for an event about the contact (branch event) or for the timeout (branch timeout).",
        "control",
        _config(
            "wait_for_event",
            {"event": _EVENT_NAME, "filters": _FILTERS, "timeout": _INTERVAL},
            ("event", "timeout"),
            retry=False,
        ),
        branches=("event", "timeout"),
    ),
    ActionType(
        "wait_until",
        "Wait until",
        "Waits until the conditions hold (branch met), re-checked on each event about the contact, "
        "or for the timeout (branch timeout).",
        "control",
        _config(
            "wait_until",
            {"conditions": _CONDITIONS, "timeout": _INTERVAL},
            ("conditions", "timeout"),
            retry=False,
        ),
        branches=("met", "timeout"),
    ),
    ActionType(
        "random_split",
        "Random split",
        "Sends each contact down one branch, with chances proportional to the branch weights; "
        "a contact's path is stable.",
        "control",
        _config("random_split", {}, retry=False),
        named_branches=True,
    ),
    ActionType(
        "loop",
        "Loop",
        f"Runs branch body `times` times, or once per item of the list at `over` (at most "
        f"`max_items`, default {LOOP_DEFAULT_MAX_ITEMS}); never more than {LOOP_MAX_TIMES}.",
        "control",
        _config(
            "loop",
            {
                "times": {"type": "integer", "minimum": 1, "maximum": LOOP_MAX_TIMES},
                "over": _FIELD_PATH,
                "max_items": {"type": "integer", "minimum": 1, "maximum": LOOP_MAX_ITEMS},
            },
            retry=False,
            dependentRequired={"max_items": ["over"]},
            **_rules(
                {
                    "if": {"required": ["over"]},
                    "then": {"not": {"required": ["times"]}, "errorMessage": "give times or over, not both"},
                    "else": {"required": ["times"], "errorMessage": "times (or over) is required"},
                }
            ),
        ),
        branches=("body",),
    ),
    ActionType(
        "stop",
        "Stop",
        "Ends the execution here.",
        "control",
        _config("stop", {"reason": {"type": "string"}}, retry=False),
    ),
)

_OPERATORS: tuple[Operator, ...] = (
    Operator("equals", "The field equals the value.", ("string", "number", "boolean", "null", "list")),
    Operator(
        "not_equals",
        "The field is present and differs from the value.",
        ("string", "number", "boolean", "null", "list"),
    ),
    Operator(
        "contains",
        "A text field contains the text, or a list field contains the item.",
        ("string", "number", "boolean"),
    ),
    Operator(
        "not_contains",
        "A text field does not contain the text, or a list field lacks the item.",
        ("string", "number", "boolean"),
    ),
    Operator("starts_with", "A text field starts with the text.", ("string",)),
    Operator("ends_with", "A text field ends with the text.", ("string",)),
    Operator("greater_than", "A number field is greater than the value.", ("number",)),
    Operator("greater_or_equal", "A number field is greater than or equal to the value.", ("number",)),
    Operator("less_than", "A number field is less than the value.", ("number",)),
    Operator("less_or_equal", "A number field is less than or equal to the value.", ("number",)),
    Operator("between", "A number or time field lies within [low, high], both included.", ("range",)),
    Operator("in_list", "The field equals one of the listed values.", ("list",)),
    Operator("not_in_list", "The field is present and equals none of the listed values.", ("list",)),
    Operator(
        "is_empty", "The field is missing, null, empty text, an empty list or an empty object.", ("none",)
    ),
    Operator("is_not_empty", "The field is present and not empty.", ("none",)),
    Operator(
        "matches_regex", "A text field matches the regular expression (RE2 syntax, searched).", ("regex",)
    ),
    Operator("before", "A time field is before the timestamp (dates are midnight UTC).", ("timestamp",)),
    Operator("after", "A time field is after the timestamp (dates are midnight UTC).", ("timestamp",)),
    Operator("within_last", "A time field lies within the last {value, unit} before now.", ("interval",)),
    Operator("has_tag", "The contact has the tag (field defaults to contact.tags).", ("string",), False),
    Operator("has_any_tags", "The contact has at least one of the tags.", ("strings",), False),
    Operator("has_all_tags", "The contact has every one of the tags.", ("strings",), False),
)

_TRIGGERS_BY_TYPE = {entry.type: entry for entry in _TRIGGERS}
_ACTIONS_BY_TYPE = {entry.type: entry for entry in _ACTIONS}
_OPERATORS_BY_NAME = {entry.name: entry for entry in _OPERATORS}


def trigger_types() -> list[TriggerType]:
    """Every trigger type, in display order."""
    return list(_TRIGGERS)


def trigger_type(type_: str) -> TriggerType | None:
    """The trigger type called ``type_``, or None."""
    return _TRIGGERS_BY_TYPE.get(type_)


def action_types() -> list[ActionType]:
    """Every action and control type, in display order."""
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
            "event": {**_EVENT_NAME, "default": entry.event} if entry.event else _EVENT_NAME,
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
    return list(_OPERATORS)


def operator(name: str) -> Operator | None:
    """The operator called ``name``, or None."""
    return _OPERATORS_BY_NAME.get(name)


def is_control(type_: str) -> bool:
    """Whether ``type_`` is a control type (wait, condition, switch, ...)."""
    entry = _ACTIONS_BY_TYPE.get(type_)
    return entry is not None and entry.is_control


def is_communication(type_: str) -> bool:
    """Whether ``type_`` sends a message (email, WhatsApp, SMS, Slack)."""
    entry = _ACTIONS_BY_TYPE.get(type_)
    return entry is not None and entry.category == "communication"


def channel(type_: str) -> str | None:
    """The contact channel of a communication type: "email", "whatsapp", "sms"; else None.

    This is also the name of the contact's consent flag (``contact.consent.<channel>``) and the
    types quiet hours hold back.
    """
    entry = _ACTIONS_BY_TYPE.get(type_)
    return entry.channel if entry is not None else None
