"""The 12 time-based trigger types (seed frame 4) and the config schemas they take.

What each config means, and when each type fires, is :mod:`beez.workflow.schedules`; the
trigger service's scheduler runs them (docs/decisions/0038-time-based-triggers.md).
"""

from __future__ import annotations

from typing import Any

from beez.workflow.catalog.entries import TriggerType
from beez.workflow.catalog.pieces import CONDITIONS, INTERVAL, TEXT, TIME_OF_DAY, config_schema

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""Day names as the configs spell them, Monday first (``date.weekday()`` order)."""

TIMEZONE = {"type": "string", "minLength": 1, "description": "An IANA time zone such as Europe/London."}
DAYS = {"type": "array", "items": {"enum": list(WEEKDAYS)}, "minItems": 1, "uniqueItems": True}
DATE = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
DATE_FIELD = {
    "type": "string",
    "pattern": r"^[A-Za-z_][A-Za-z0-9_]*$",
    "description": "A contact date field.",
}
AUDIENCE = {
    "type": "object",
    "description": (
        "Who a fire starts executions for: the organization once (no contact), or every contact "
        "of the audience: all, a list, a tag, or those meeting conditions."
    ),
    "properties": {
        "type": {"enum": ["organization", "all", "list", "tag", "condition"]},
        "list": TEXT,
        "tag": TEXT,
        "conditions": CONDITIONS,
    },
    "required": ["type"],
    "additionalProperties": False,
}
WINDOW = {
    "type": "object",
    "description": "Fires only between start and end on the given days; a fire outside waits for the next.",
    "properties": {"start": TIME_OF_DAY, "end": TIME_OF_DAY, "days": DAYS, "holidays": TEXT},
    "required": ["start", "end"],
    "additionalProperties": False,
}
HOLIDAYS = {
    "type": "string",
    "pattern": r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$",
    "description": (
        "A country (and optional subdivision) whose public holidays are skipped, e.g. GB or US-CA."
    ),
}

_COMMON: dict[str, Any] = {
    "timezone": TIMEZONE,
    "contact_timezone": {
        "type": "boolean",
        "description": "Fire at the time in each contact's own time zone (else the organization's).",
    },
    "audience": AUDIENCE,
    "window": WINDOW,
    "business_hours": {
        "type": "boolean",
        "description": "Defer fires into business hours (Mon-Fri 09:00-17:00).",
    },
    "holidays": HOLIDAYS,
}


def _schema(title: str, own: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    return config_schema(title, {**own, **_COMMON}, required, retry=False)


def time_trigger(
    type_: str,
    name: str,
    description: str,
    properties: dict[str, Any],
    required: tuple[str, ...] = (),
    *,
    event_driven: bool = False,
) -> TriggerType:
    """A time-based trigger type: category ``time``; ``event_driven`` for those an event sets off."""
    return TriggerType(
        type=type_,
        name=name,
        description=description,
        event=None,
        category="time",
        config_schema=_schema(f"{type_} config", properties, required),
        event_driven=event_driven,
    )


AT = {"at": TIME_OF_DAY}

TIME_TRIGGERS: tuple[TriggerType, ...] = (
    time_trigger(
        "schedule",
        "Schedule",
        "Daily, weekly or monthly at a time of day.",
        {
            "frequency": {"enum": ["daily", "weekly", "monthly"]},
            **AT,
            "days": DAYS,
            "day_of_month": {"type": "integer", "minimum": 1, "maximum": 31},
        },
        ("frequency", "at"),
    ),
    time_trigger(
        "delay",
        "Delay after event",
        "A set time after an event (trigger.event names it), for that event's contact.",
        {"delay": INTERVAL},
        ("delay",),
        event_driven=True,
    ),
    time_trigger(
        "relative_date",
        "Relative date",
        "N days before or after a date field of the contact (e.g. 3 days after trial_end).",
        {
            "field": DATE_FIELD,
            "days": {"type": "integer", "minimum": 0, "maximum": 3660},
            "direction": {"enum": ["before", "after"]},
            **AT,
        },
        ("field", "days", "direction"),
    ),
    time_trigger(
        "anniversary",
        "Anniversary",
        "Every year on a contact's date (birthday, signup_date); 29 February falls on 28 February "
        "in other years.",
        {"field": DATE_FIELD, **AT},
    ),
    time_trigger(
        "specific_date",
        "Specific date",
        "Once, on a date at a time.",
        {"date": DATE, **AT},
        ("date",),
    ),
    time_trigger(
        "time_window",
        "Time window",
        "An event (trigger.event) starts the automation at once inside the window, else at the "
        "window's next opening.",
        {"start": TIME_OF_DAY, "end": TIME_OF_DAY, "days": DAYS},
        ("start", "end"),
        event_driven=True,
    ),
    time_trigger(
        "timezone_aware",
        "Timezone-aware",
        "Daily (or on the given days) at a time in each contact's own time zone.",
        {**AT, "days": DAYS},
        ("at",),
    ),
    time_trigger(
        "business_hours",
        "Business hours",
        "An event (trigger.event) starts the automation at once during business hours, else at "
        "their next opening; holidays of the configured country are skipped.",
        {"start": TIME_OF_DAY, "end": TIME_OF_DAY, "days": DAYS},
        event_driven=True,
    ),
    time_trigger(
        "countdown",
        "Countdown",
        "N days until a date field of the contact (e.g. 30 days before renewal_date).",
        {"field": DATE_FIELD, "days": {"type": "integer", "minimum": 0, "maximum": 3660}, **AT},
        ("days",),
    ),
    time_trigger(
        "inactivity",
        "Inactivity",
        "A contact had no activity for N days: fires once, on the day it crosses N days.",
        {"days": {"type": "integer", "minimum": 1, "maximum": 3660}, **AT},
        ("days",),
    ),
    time_trigger(
        "recurring_interval",
        "Recurring interval",
        "Every N minutes, hours, days or weeks from a start time.",
        {"every": INTERVAL, "start": {"type": "string", "format": "date-time"}},
        ("every",),
    ),
    time_trigger(
        "cron",
        "Cron expression",
        "When a five-field cron expression says, in the time zone.",
        {"expression": {"type": "string", "minLength": 1, "maxLength": 200}},
        ("expression",),
    ),
)
