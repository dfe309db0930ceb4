"""What the task, calendar and activity steps do: their platform commands, variables and output.

Each function takes the step's rendered ``config``, the contact snapshot and the step's
:class:`~beez.workflow.effects.StepScope`, and returns an :class:`~beez.workflow.effects.Effect`
whose ``values`` are the command's fields in proto3 JSON form (proto field names, timestamps as
RFC 3339 text, enums by name): the executor parses them into the typed message of
``commands_tasks.proto``, and the dry run shows them as they are, so both send the same command.

Ids (decision 0043): an object a step creates (a task, a calendar event, a meeting, a comment,
an activity, a follow-up sequence and its items) gets an id derived from the step's
attempt-independent key, so every attempt of the step names the same object, the owner
deduplicates by it, and later steps know it without a reply. Created ids go into ``vars``
(``task_id``, ``calendar_event_id``, ``meeting_id``, ``sequence_id``, ``follow_up_task_ids``).

Steps that act on a task take ``task_id``; when the config leaves it out it is ``vars.task_id``
(the last task a create_task step of this execution created), else the triggering event's
``data.task_id`` (``task.created``/``task.completed`` events carry it); with none the step fails
permanently (``no_task``).

Dates: ``*_at`` is an RFC 3339 time or a ``YYYY-MM-DD`` date (midnight UTC), ``*_in`` an interval
``{value, unit}`` from the step's time (``scope.now``); commands carry absolute times, whole
seconds.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from beez.workflow.effects import (
    Effect,
    ScopedCompute,
    StepError,
    StepScope,
    int32,
    text,
    whole,
)
from beez.workflow.effects import create_task as base_create_task
from beez.workflow.intervals import add_interval, parse_time

__all__ = [
    "CALL_DIRECTIONS",
    "DEFAULT_DURATION_MINUTES",
    "FOLLOW_UP_KINDS",
    "MAX_FOLLOW_UP_ITEMS",
    "PRIORITIES",
    "TASK_EFFECTS",
    "add_task_comment",
    "assign_task",
    "complete_task",
    "create_calendar_event",
    "create_follow_up_sequence",
    "create_task",
    "derived_id",
    "log_meeting_notes",
    "log_phone_call",
    "reference",
    "schedule_meeting",
    "send_task_reminder",
    "set_task_due_date",
    "timestamp",
    "update_task_priority",
]

PRIORITIES: tuple[str, ...] = ("low", "normal", "high", "urgent")
"""Task priorities, as configs name them (``TASK_PRIORITY_<NAME>`` in the contract)."""
FOLLOW_UP_KINDS: tuple[str, ...] = ("task", "reminder")
CALL_DIRECTIONS: tuple[str, ...] = ("outbound", "inbound")
DEFAULT_DURATION_MINUTES = 30
MAX_FOLLOW_UP_ITEMS = 20


def derived_id(prefix: str, scope: StepScope, part: str = "") -> str:
    """``<prefix>_<24 hex>``: the id of the object ``part`` of the step at ``scope.key`` creates."""
    digest = hashlib.sha256(f"{prefix}|{scope.key}|{part}".encode()).hexdigest()[:24]
    return f"{prefix}_{digest}"


def timestamp(moment: datetime) -> str:
    """``moment`` in UTC, whole seconds, as proto3 JSON writes a Timestamp."""
    return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def reference(config: Mapping[str, Any], key: str, scope: StepScope, what: str) -> str:
    """The id ``config[key]`` names; else ``vars[key]``; else the event's ``data[key]``.

    Raises:
        StepError: none of them (category ``no_<what>``).
    """
    found = text(config, key, required=False)
    if found:
        return found
    for source in (scope.vars, scope.event.get("data")):
        value = source.get(key) if isinstance(source, Mapping) else None
        if value is not None and str(value).strip():
            return str(value).strip()
    raise StepError(
        f"no {what}: set `{key}`, create one in an earlier step (vars.{key}), "
        f"or trigger on an event whose data carries {key}",
        category=f"no_{what}",
    )


def moment(config: Mapping[str, Any], at: str, within: str, scope: StepScope) -> datetime | None:
    """The time ``config[at]`` names, or ``config[within]`` (an interval) after the step's time.

    Raises:
        StepError: a time that does not parse, or a malformed interval.
    """
    raw = config.get(at)
    if raw is not None and str(raw).strip():
        parsed = parse_time(raw)
        if parsed is None:
            raise StepError(f"`{at}` {str(raw)[:64]!r} is not an RFC 3339 time or a YYYY-MM-DD date")
        return parsed
    interval = config.get(within)
    if interval is None:
        return None
    try:
        return add_interval(scope.now, interval)
    except (ValueError, TypeError, AttributeError) as exc:
        raise StepError(f"`{within}`: {exc}") from exc


def choice(config: Mapping[str, Any], key: str, options: tuple[str, ...], default: str = "") -> str:
    """``config[key]`` (lower case) when it is one of ``options``; ``default`` when absent.

    Raises:
        StepError: another value.
    """
    value = text(config, key, required=not default).lower() or default
    if value not in options:
        raise StepError(f"`{key}` must be one of {', '.join(options)}, not {value[:64]!r}")
    return value


def strings(config: Mapping[str, Any], key: str) -> list[str]:
    """``config[key]`` as a list of non-empty texts (a single text is a list of one)."""
    value = config.get(key)
    items = value if isinstance(value, list | tuple) else [] if value is None else [value]
    return [str(item).strip() for item in items if item is not None and str(item).strip()]


def _command(verb: str, values: dict[str, Any], **kwargs: Any) -> Effect:
    shown = {name: value for name, value in values.items() if value not in ("", None, [])}
    return Effect(verb, values, {"command": verb, **shown}, **kwargs)


def create_task(config: Mapping[str, Any], contact: Mapping[str, Any], scope: StepScope) -> Effect:
    """``create_task {title, description?, assignee?, due_in_hours?, due_at?, priority?}``.

    The task's id is derived from the step (``vars.task_id``); ``due_at`` (absolute) wins over
    ``due_in_hours``. It needs no contact.
    """
    base = base_create_task(config, contact)
    task_id = derived_id("task", scope)
    values = {**base.values, "task_id": task_id}
    if config.get("priority") is not None:
        values["priority"] = f"TASK_PRIORITY_{choice(config, 'priority', PRIORITIES).upper()}"
    due_at = moment(config, "due_at", "due_in", scope)
    if due_at is not None:
        values["due_at"] = timestamp(due_at)
    return _command("create_task", values, vars={"task_id": task_id}, needs_contact=False)


def assign_task(config: Mapping[str, Any], contact: Mapping[str, Any], scope: StepScope) -> Effect:
    """``assign_task {task_id?, assignee?, team?}``: at least one of assignee and team."""
    task_id = reference(config, "task_id", scope, "task")
    assignee = text(config, "assignee", required=False)
    team = text(config, "team", required=False)
    if not assignee and not team:
        raise StepError("`assignee` and `team` are both empty")
    values = {"task_id": task_id, "assignee": assignee, "team": team}
    return _command("assign_task", values, needs_contact=False)


def set_task_due_date(config: Mapping[str, Any], contact: Mapping[str, Any], scope: StepScope) -> Effect:
    """``set_task_due_date {task_id?, due_at | due_in}``: the command carries the absolute time."""
    task_id = reference(config, "task_id", scope, "task")
    due_at = moment(config, "due_at", "due_in", scope)
    if due_at is None:
        raise StepError("`due_at` or `due_in` is required")
    values = {"task_id": task_id, "due_at": timestamp(due_at)}
    return _command("set_task_due_date", values, needs_contact=False)


def complete_task(config: Mapping[str, Any], contact: Mapping[str, Any], scope: StepScope) -> Effect:
    """``complete_task {task_id?, note?}``."""
    values = {
        "task_id": reference(config, "task_id", scope, "task"),
        "note": text(config, "note", required=False),
    }
    return _command("complete_task", values, needs_contact=False)


def send_task_reminder(config: Mapping[str, Any], contact: Mapping[str, Any], scope: StepScope) -> Effect:
    """``send_task_reminder {task_id?, message?, user_id?}``: to ``user_id``, else the task's
    assignee (the owner knows it); the owner words an empty message from the task's title."""
    values = {
        "task_id": reference(config, "task_id", scope, "task"),
        "message": text(config, "message", required=False),
        "user_id": text(config, "user_id", required=False),
    }
    return _command("send_task_reminder", values, needs_contact=False)


def update_task_priority(config: Mapping[str, Any], contact: Mapping[str, Any], scope: StepScope) -> Effect:
    """``update_task_priority {task_id?, priority}``, priority one of :data:`PRIORITIES`."""
    task_id = reference(config, "task_id", scope, "task")
    priority = f"TASK_PRIORITY_{choice(config, 'priority', PRIORITIES).upper()}"
    return _command("update_task_priority", {"task_id": task_id, "priority": priority}, needs_contact=False)


def add_task_comment(config: Mapping[str, Any], contact: Mapping[str, Any], scope: StepScope) -> Effect:
    """``add_task_comment {task_id?, body}``: the comment's id is derived from the step."""
    task_id = reference(config, "task_id", scope, "task")
    values = {"task_id": task_id, "comment_id": derived_id("cmt", scope), "body": text(config, "body")}
    return _command("add_task_comment", values, needs_contact=False)


def _span(config: Mapping[str, Any], scope: StepScope) -> tuple[str, str]:
    """(start, end) of a calendar entry: ``start_at`` or ``start_in``, and ``duration_minutes``."""
    start = moment(config, "start_at", "start_in", scope)
    if start is None:
        raise StepError("`start_at` or `start_in` is required")
    raw = config.get("duration_minutes")
    minutes = whole(raw, "duration_minutes") if raw is not None else DEFAULT_DURATION_MINUTES
    if not 1 <= minutes <= 24 * 60:
        raise StepError(f"`duration_minutes` must be between 1 and 1440, not {minutes}")
    return timestamp(start), timestamp(start + timedelta(minutes=minutes))


def create_calendar_event(config: Mapping[str, Any], contact: Mapping[str, Any], scope: StepScope) -> Effect:
    """``create_calendar_event {title, start_at | start_in, duration_minutes?, description?,
    location?, attendees?, calendar?}``: an entry on a team calendar (``vars.calendar_event_id``)."""
    event_id = derived_id("cal", scope)
    start_at, end_at = _span(config, scope)
    values = {
        "event_id": event_id,
        "title": text(config, "title"),
        "description": text(config, "description", required=False),
        "start_at": start_at,
        "end_at": end_at,
        "location": text(config, "location", required=False),
        "attendees": strings(config, "attendees"),
        "calendar": text(config, "calendar", required=False),
    }
    return _command(
        "create_calendar_event", values, vars={"calendar_event_id": event_id}, needs_contact=False
    )


def schedule_meeting(config: Mapping[str, Any], contact: Mapping[str, Any], scope: StepScope) -> Effect:
    """``schedule_meeting {title, start_at | start_in, duration_minutes?, organizer?, description?,
    location?, attendees?, send_invitations?}``: a meeting with the contact (it needs one), who is
    invited with the attendees unless ``send_invitations`` is false (``vars.meeting_id``)."""
    meeting_id = derived_id("mtg", scope)
    start_at, end_at = _span(config, scope)
    invitations = config.get("send_invitations")
    values = {
        "meeting_id": meeting_id,
        "title": text(config, "title"),
        "description": text(config, "description", required=False),
        "start_at": start_at,
        "end_at": end_at,
        "organizer": text(config, "organizer", required=False),
        "location": text(config, "location", required=False),
        "attendees": strings(config, "attendees"),
        "send_invitations": invitations is not False,
    }
    return _command("schedule_meeting", values, vars={"meeting_id": meeting_id})


def create_follow_up_sequence(
    config: Mapping[str, Any], contact: Mapping[str, Any], scope: StepScope
) -> Effect:
    """``create_follow_up_sequence {name, assignee?, items: [{title, kind?, description?, after,
    assignee?}]}``: a series of dated tasks and reminders about the contact, created at once.

    Item ``i`` is due ``after`` (an interval) from the step's time; ``kind`` is ``task``
    (default: something to do) or ``reminder`` (the owner notifies the assignee when it is due).
    Items keep their order; each has an id derived from the step and its index
    (``vars.follow_up_task_ids``), the sequence too (``vars.sequence_id``).
    """
    name = text(config, "name")
    raw_items = config.get("items")
    if not isinstance(raw_items, list | tuple) or not raw_items:
        raise StepError("`items` must list at least one task or reminder")
    if len(raw_items) > MAX_FOLLOW_UP_ITEMS:
        raise StepError(f"`items` may list at most {MAX_FOLLOW_UP_ITEMS} tasks and reminders")
    default_assignee = text(config, "assignee", required=False)
    sequence_id = derived_id("seq", scope)
    items = []
    for index, raw in enumerate(raw_items):
        item: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
        try:
            kind = choice(item, "kind", FOLLOW_UP_KINDS, "task")
            due_at = moment(item, "due_at", "after", scope)
            if due_at is None:
                raise StepError("`after` is required")
            items.append(
                {
                    "task_id": derived_id("task", scope, f"item{index}"),
                    "kind": f"FOLLOW_UP_KIND_{kind.upper()}",
                    "title": text(item, "title"),
                    "description": text(item, "description", required=False),
                    "due_at": timestamp(due_at),
                    "assignee": text(item, "assignee", required=False) or default_assignee,
                }
            )
        except StepError as exc:
            raise StepError(f"items[{index}]: {exc}", category=exc.category) from exc
    values = {"sequence_id": sequence_id, "name": name, "items": items}
    task_ids = [item["task_id"] for item in items]
    output: dict[str, Any] = {
        "command": "create_follow_up_sequence",
        "sequence_id": sequence_id,
        "name": name,
    }
    output["items"] = [{"task_id": i["task_id"], "kind": i["kind"], "due_at": i["due_at"]} for i in items]
    return Effect(
        "create_follow_up_sequence",
        values,
        output,
        vars={"sequence_id": sequence_id, "follow_up_task_ids": task_ids},
    )


def log_phone_call(config: Mapping[str, Any], contact: Mapping[str, Any], scope: StepScope) -> Effect:
    """``log_phone_call {direction?, outcome?, duration_seconds?, notes?, phone?}`` on the
    contact's timeline (it needs one); ``phone`` defaults to the contact's."""
    raw = config.get("duration_seconds")
    seconds = int32(whole(raw, "duration_seconds"), "duration_seconds") if raw is not None else 0
    if seconds < 0:
        raise StepError("`duration_seconds` must not be negative")
    direction = choice(config, "direction", CALL_DIRECTIONS, "outbound")
    values = {
        "activity_id": derived_id("act", scope),
        "direction": f"CALL_DIRECTION_{direction.upper()}",
        "outcome": text(config, "outcome", required=False),
        "duration_seconds": seconds,
        "notes": text(config, "notes", required=False),
        "phone": text(config, "phone", required=False) or str(contact.get("phone") or "").strip(),
    }
    return _command("log_phone_call", values)


def log_meeting_notes(config: Mapping[str, Any], contact: Mapping[str, Any], scope: StepScope) -> Effect:
    """``log_meeting_notes {notes, title?, meeting_id?}`` on the contact's timeline (it needs
    one); the meeting is ``meeting_id``, else ``vars.meeting_id`` (a schedule_meeting step's),
    else none."""
    meeting_id = text(config, "meeting_id", required=False) or str(scope.vars.get("meeting_id") or "")
    values = {
        "activity_id": derived_id("act", scope),
        "meeting_id": meeting_id,
        "title": text(config, "title", required=False),
        "notes": text(config, "notes"),
    }
    return _command("log_meeting_notes", values)


TASK_EFFECTS: dict[str, ScopedCompute] = {
    "create_task": create_task,
    "assign_task": assign_task,
    "set_task_due_date": set_task_due_date,
    "complete_task": complete_task,
    "create_calendar_event": create_calendar_event,
    "send_task_reminder": send_task_reminder,
    "update_task_priority": update_task_priority,
    "add_task_comment": add_task_comment,
    "create_follow_up_sequence": create_follow_up_sequence,
    "log_phone_call": log_phone_call,
    "log_meeting_notes": log_meeting_notes,
    "schedule_meeting": schedule_meeting,
}
"""The task and activity types, by type; each type's command verb is its own name."""
