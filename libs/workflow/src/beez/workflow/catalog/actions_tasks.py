"""The task, calendar and activity actions, and the inbox conversation actions (decision 0043).

Each schema names exactly the fields its effect (:mod:`beez.workflow.effects_tasks`,
:mod:`beez.workflow.effects_conversations`) reads and its command carries; ``examples`` holds
one working config. Steps acting on a task take ``task_id`` (default: ``vars.task_id``, then the
event's ``data.task_id``); conversation steps take ``conversation_id`` (default:
``vars.conversation_id``, then the event's ``data.conversation_id``).
"""

from __future__ import annotations

from typing import Any

from beez.workflow.catalog.entries import ActionType
from beez.workflow.catalog.pieces import INTERVAL, TEXT, config_schema, schema_rules
from beez.workflow.effects_tasks import CALL_DIRECTIONS, FOLLOW_UP_KINDS, MAX_FOLLOW_UP_ITEMS, PRIORITIES

__all__ = ["CONVERSATION_ACTIONS", "TASK_ACTIONS"]

_ID = {**TEXT, "maxLength": 200}
_TASK_ID = {
    **_ID,
    "description": "The task. Default: vars.task_id (the last task created), then event.data.task_id.",
}
_CONVERSATION_ID = {
    **_ID,
    "description": "The conversation. Default: vars.conversation_id, then event.data.conversation_id "
    "(message.received and conversation.* events carry it).",
}
_DATE_TIME = {"type": "string", "format": "date-time", "maxLength": 64}
_PRIORITY = {"enum": list(PRIORITIES)}
_DURATION = {"type": "integer", "minimum": 1, "maximum": 1440, "description": "Default: 30 minutes."}
_ATTENDEES = {
    "type": "array",
    "maxItems": 50,
    "items": {"type": "string", "minLength": 1, "maxLength": 320},
    "description": "User ids or email addresses.",
}


def _one_of(*names: str) -> dict[str, Any]:
    """At least one of ``names`` is required (the error names them)."""
    rule = {
        "anyOf": [{"required": [name]} for name in names],
        "errorMessage": f"one of {', '.join(names)} is required",
    }
    return schema_rules({"allOf": [rule]})


def _at_most_one(*names: str) -> dict[str, Any]:
    return {"not": {"required": list(names)}, "errorMessage": f"give {' or '.join(names)}, not both"}


def _time(at: str, within: str, what: str, *, required: bool = True) -> tuple[dict[str, Any], dict[str, Any]]:
    """The ``<at>`` / ``<within>`` pair of properties, and the rule that one of them is given."""
    properties = {
        at: {**_DATE_TIME, "description": f"{what}: an RFC 3339 time or a YYYY-MM-DD date."},
        within: {**INTERVAL, "description": f"{what}, as a delay from the step's time."},
    }
    rules: dict[str, Any] = {"allOf": [_at_most_one(at, within)]}
    if required:
        rules["allOf"].append(
            {
                "anyOf": [{"required": [at]}, {"required": [within]}],
                "errorMessage": f"{at} or {within} is required",
            }
        )
    return properties, rules


def _entry(
    type_: str,
    name: str,
    description: str,
    category: str,
    properties: dict[str, Any],
    required: tuple[str, ...],
    example: dict[str, Any],
    **rules: Any,
) -> ActionType:
    schema = config_schema(type_, properties, required, **rules)
    schema["examples"] = [example]
    return ActionType(type_, name, description, category, schema)


_DUE, _DUE_RULES = _time("due_at", "due_in", "When the task is due", required=False)
_SET_DUE, _SET_DUE_RULES = _time("due_at", "due_in", "When the task is due")
_START, _START_RULES = _time("start_at", "start_in", "When it starts")

TASK_ACTIONS: tuple[ActionType, ...] = (
    _entry(
        "create_task",
        "Create task",
        "Creates a task about the contact; its id goes to vars.task_id for later task steps.",
        "tasks",
        {
            "title": TEXT,
            "description": {"type": "string"},
            "assignee": TEXT,
            "due_in_hours": {"type": "integer", "minimum": 1, "maximum": 8760},
            **_DUE,
            "priority": _PRIORITY,
        },
        ("title",),
        {
            "title": "Call {{ contact.first_name }}",
            "assignee": "u_grace",
            "due_in": {"value": 2, "unit": "days"},
        },
        **_DUE_RULES,
    ),
    _entry(
        "assign_task",
        "Assign task to user",
        "Gives a task to a user, or to a team's queue.",
        "tasks",
        {"task_id": _TASK_ID, "assignee": {**_ID, "description": "The user."}, "team": _ID},
        (),
        {"assignee": "u_grace"},
        **_one_of("assignee", "team"),
    ),
    _entry(
        "set_task_due_date",
        "Set task due date",
        "Sets when a task is due.",
        "tasks",
        {"task_id": _TASK_ID, **_SET_DUE},
        (),
        {"due_in": {"value": 3, "unit": "days"}},
        **_SET_DUE_RULES,
    ),
    _entry(
        "complete_task",
        "Complete task",
        "Marks a task done.",
        "tasks",
        {"task_id": _TASK_ID, "note": {"type": "string"}},
        (),
        {"note": "Closed by the onboarding automation"},
    ),
    _entry(
        "create_calendar_event",
        "Create calendar event",
        "Puts an event on a team calendar; its id goes to vars.calendar_event_id.",
        "tasks",
        {
            "title": TEXT,
            "description": {"type": "string"},
            **_START,
            "duration_minutes": _DURATION,
            "location": TEXT,
            "attendees": _ATTENDEES,
            "calendar": {**_ID, "description": "Default: the organization's calendar."},
        },
        ("title",),
        {"title": "Renewal review: {{ contact.first_name }}", "start_in": {"value": 7, "unit": "days"}},
        **_START_RULES,
    ),
    _entry(
        "send_task_reminder",
        "Send task reminder",
        "Reminds a task's assignee (or user_id) about it now.",
        "tasks",
        {"task_id": _TASK_ID, "message": {"type": "string"}, "user_id": _ID},
        (),
        {"message": "{{ contact.first_name }} is still waiting for a call"},
    ),
    _entry(
        "update_task_priority",
        "Update task priority",
        "Changes a task's priority.",
        "tasks",
        {"task_id": _TASK_ID, "priority": _PRIORITY},
        ("priority",),
        {"priority": "urgent"},
    ),
    _entry(
        "add_task_comment",
        "Add task comment",
        "Adds a comment to a task's thread.",
        "tasks",
        {"task_id": _TASK_ID, "body": TEXT},
        ("body",),
        {"body": "Score is now {{ contact.score }}"},
    ),
    _entry(
        "create_follow_up_sequence",
        "Create follow-up sequence",
        "Creates a series of dated tasks and reminders about the contact at once: each item is due "
        "`after` the step's time; a reminder notifies its assignee when due. Ids go to "
        "vars.sequence_id and vars.follow_up_task_ids.",
        "tasks",
        {
            "name": TEXT,
            "assignee": {**_ID, "description": "Every item's assignee unless the item names one."},
            "items": {
                "type": "array",
                "minItems": 1,
                "maxItems": MAX_FOLLOW_UP_ITEMS,
                "items": {
                    "type": "object",
                    "properties": {
                        "kind": {"enum": list(FOLLOW_UP_KINDS), "default": "task"},
                        "title": TEXT,
                        "description": {"type": "string"},
                        "after": INTERVAL,
                        "assignee": _ID,
                    },
                    "required": ["title", "after"],
                    "additionalProperties": False,
                },
            },
        },
        ("name", "items"),
        {
            "name": "Trial follow-up",
            "assignee": "u_grace",
            "items": [
                {"title": "Check in with {{ contact.first_name }}", "after": {"value": 1, "unit": "days"}},
                {"kind": "reminder", "title": "Trial ends soon", "after": {"value": 12, "unit": "days"}},
            ],
        },
    ),
    _entry(
        "log_phone_call",
        "Log phone call",
        "Records a phone call on the contact's activity timeline.",
        "tasks",
        {
            "direction": {"enum": list(CALL_DIRECTIONS), "default": "outbound"},
            "outcome": {**TEXT, "description": "e.g. connected, voicemail, no_answer."},
            "duration_seconds": {"type": "integer", "minimum": 0, "maximum": 86400},
            "notes": {"type": "string"},
            "phone": {**TEXT, "maxLength": 32, "description": "Default: the contact's phone."},
        },
        (),
        {"direction": "outbound", "outcome": "voicemail", "duration_seconds": 45},
    ),
    _entry(
        "log_meeting_notes",
        "Log meeting notes",
        "Records a meeting's notes on the contact's activity timeline.",
        "tasks",
        {
            "notes": TEXT,
            "title": TEXT,
            "meeting_id": {**_ID, "description": "The meeting. Default: vars.meeting_id, else none."},
        },
        ("notes",),
        {"title": "Kick-off", "notes": "Agreed on a pilot"},
    ),
    _entry(
        "schedule_meeting",
        "Schedule meeting",
        "Books a meeting with the contact and invites the attendees; its id goes to vars.meeting_id.",
        "tasks",
        {
            "title": TEXT,
            "description": {"type": "string"},
            **_START,
            "duration_minutes": _DURATION,
            "organizer": {**_ID, "description": "The user hosting it."},
            "location": TEXT,
            "attendees": _ATTENDEES,
            "send_invitations": {"type": "boolean", "default": True},
        },
        ("title",),
        {
            "title": "Demo for {{ contact.first_name }}",
            "organizer": "u_grace",
            "start_at": "2026-12-10T15:00:00Z",
        },
        **_START_RULES,
    ),
)
"""The task and activity types, in display order."""

CONVERSATION_ACTIONS: tuple[ActionType, ...] = (
    _entry(
        "reply_to_conversation",
        "Reply to conversation",
        "Replies on the conversation's own channel, as the automation unless author_user_id names an agent.",
        "communication",
        {"conversation_id": _CONVERSATION_ID, "body": TEXT, "author_user_id": _ID},
        ("body",),
        {"body": "Thanks {{ contact.first_name }}, we are on it."},
    ),
    _entry(
        "close_conversation",
        "Close conversation",
        "Resolves a conversation.",
        "communication",
        {"conversation_id": _CONVERSATION_ID, "reason": TEXT},
        (),
        {"reason": "answered by the FAQ bot"},
    ),
    _entry(
        "reopen_conversation",
        "Reopen conversation",
        "Opens a resolved conversation again.",
        "communication",
        {"conversation_id": _CONVERSATION_ID, "reason": TEXT},
        (),
        {"reason": "the customer wrote again"},
    ),
    _entry(
        "add_conversation_note",
        "Add conversation note",
        "Adds an internal note to a conversation; the contact never sees it.",
        "communication",
        {"conversation_id": _CONVERSATION_ID, "body": TEXT},
        ("body",),
        {"body": "VIP: score {{ contact.score }}"},
    ),
    _entry(
        "assign_conversation",
        "Assign conversation to agent",
        "Gives a conversation to an agent, or to a team.",
        "communication",
        {"conversation_id": _CONVERSATION_ID, "agent_id": _ID, "team": _ID},
        (),
        {"agent_id": "u_grace"},
        **_one_of("agent_id", "team"),
    ),
    _entry(
        "transfer_conversation",
        "Transfer to another inbox",
        "Moves a conversation to another inbox.",
        "communication",
        {"conversation_id": _CONVERSATION_ID, "inbox": _ID, "note": {"type": "string"}},
        ("inbox",),
        {"inbox": "billing"},
    ),
)
"""The inbox conversation types, in display order (after the other communication types)."""
