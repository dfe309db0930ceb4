"""Communication actions beyond the plain messages: push, scheduled email, tracked links, drafts
and forwards (issue #14 §2; decision 0046).

Each entry's schema names exactly the fields its action sends. ``channel`` is the contact
channel whose consent the action needs (``push`` for FCM); the tracked-link actions take the
channel from their config (``email`` unless ``channel`` says otherwise, see
:mod:`beez.workflow.recipients`).
"""

from __future__ import annotations

from beez.workflow.catalog.entries import ActionType
from beez.workflow.catalog.pieces import (
    CONNECTION,
    IDENTIFIER,
    TEXT,
    TIME_OF_DAY,
    config_schema,
    required_unless,
)

__all__ = ["COMMS_ACTIONS", "COMMS_TASKS", "LINK_MARKER", "MAX_DEVICE_TOKENS", "PUSH_TOKENS_FIELD"]

MAX_DEVICE_TOKENS = 10
"""The most device tokens one send_push step sends to (one FCM request each)."""

PUSH_TOKENS_FIELD = "push_tokens"
"""The contact's custom field (``contact.fields.push_tokens``) holding its FCM registration
tokens, a list of strings; push consent is ``contact.consent.push``."""

LINK_MARKER = "[[link]]"
"""Where a tracked-link message puts its link (the link goes on a line of its own otherwise)."""

_DATE = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$", "description": "YYYY-MM-DD, local date."}
_TIMEZONE = {
    "type": "string",
    "minLength": 1,
    "description": "An IANA time zone; default the contact's `timezone`, else the workflow's, else UTC.",
}
_LINK_CHANNEL = {
    "enum": ["email", "sms", "whatsapp"],
    "default": "email",
    "description": "How the link is sent; the contact's consent for that channel is required.",
}
_EMAIL_FIELDS = {
    "subject": {**TEXT, "description": "The subject (email)."},
    "body": {"type": "string", "minLength": 1},
    "html": {"type": "string", "description": "An HTML alternative; its links are tracked."},
    "template": {**TEXT, "description": "A stored template; it carries its own subject."},
    "to": {"type": "string", "format": "email", "description": "Default: the contact's email."},
    "from": {"type": "string", "format": "email"},
    "reply_to": {"type": "string", "format": "email"},
    "campaign_id": {**TEXT, "description": "The email.opened/clicked events' `campaign`."},
}


def _link_action(type_: str, name: str, url_field: str, what: str) -> ActionType:
    return ActionType(
        type_,
        name,
        f"Sends the contact a tracked link to a personalized {what} by email, SMS or WhatsApp; "
        f"`{url_field}` and the message are templates. The link replaces {LINK_MARKER} in the "
        "message (or ends it), and a click emits email.clicked attributed to this step.",
        "communication",
        config_schema(
            type_,
            {
                url_field: {"type": "string", "format": "uri", "description": f"The {what}'s URL."},
                "channel": _LINK_CHANNEL,
                "message": {**TEXT, "description": f"The text around the link; {LINK_MARKER} places it."},
                "subject": {**TEXT, "description": "The subject (email only)."},
                "to": {"type": "string", "description": "Default: the contact's address for the channel."},
                "campaign_id": {**TEXT, "description": "The click event's `campaign`."},
                "connection": CONNECTION,
            },
            (url_field, "message"),
        ),
        channel="email",
    )


COMMS_ACTIONS: tuple[ActionType, ...] = (
    ActionType(
        "send_push",
        "Send push notification",
        "Sends a push notification through Firebase Cloud Messaging (HTTP v1) to the contact's "
        f"devices (custom field `{PUSH_TOKENS_FIELD}`) or the given tokens, with the organization's FCM "
        "connection. Needs the contact's push consent.",
        "communication",
        config_schema(
            "send_push",
            {
                "title": TEXT,
                "body": TEXT,
                "device_tokens": {
                    "type": "array",
                    "items": {"type": "string", "minLength": 1, "maxLength": 4096},
                    "minItems": 1,
                    "maxItems": MAX_DEVICE_TOKENS,
                    "description": "FCM registration tokens; default the contact's "
                    f"`fields.{PUSH_TOKENS_FIELD}`.",
                },
                "data": {
                    "type": "object",
                    "additionalProperties": {"type": "string"},
                    "maxProperties": 50,
                    "description": "Key/value pairs for the app (FCM `data`).",
                },
                "link": {"type": "string", "format": "uri", "description": "Opened on tap (web push)."},
                "image": {"type": "string", "format": "uri"},
                "connection": CONNECTION,
            },
            ("title", "body"),
        ),
        channel="push",
    ),
    ActionType(
        "schedule_email",
        "Schedule email",
        "Schedules an email for a local time (the contact's time zone, else the workflow's, "
        "else UTC) and goes on at once; the email is listed with the scheduled work until sent "
        "and can be cancelled there or by cancel_scheduled_message.",
        "communication",
        config_schema(
            "schedule_email",
            {
                **_EMAIL_FIELDS,
                "at": {**TIME_OF_DAY, "description": "Local time of day, HH:MM."},
                "date": _DATE,
                "timezone": _TIMEZONE,
                "label": {**TEXT, "description": "Names the message for cancel_scheduled_message."},
                "save_as": {**IDENTIFIER, "description": "vars.<save_as> gets the message id."},
                "connection": CONNECTION,
            },
            ("at",),
            **required_unless("template", ["subject", "body"], "required when no template is given"),
        ),
        channel="email",
    ),
    ActionType(
        "cancel_scheduled_message",
        "Cancel scheduled message",
        "Cancels the contact's pending scheduled messages: the one `message_id` names, or every "
        "one with `label`.",
        "communication",
        config_schema(
            "cancel_scheduled_message",
            {
                "message_id": {**TEXT, "description": "E.g. {{ vars.scheduled_message_id }}."},
                "label": TEXT,
            },
            anyOf=[{"required": ["message_id"]}, {"required": ["label"]}],
        ),
    ),
    _link_action("send_personalized_video", "Send personalized video", "video_url", "video"),
    _link_action("send_survey", "Send survey", "survey_url", "survey"),
    ActionType(
        "forward_email_to_team",
        "Forward email to team",
        "Forwards the triggering email (message.received / email.received) to team addresses "
        "over SMTP; only the sender, subject, date and text body travel (no attachments, no "
        "other headers).",
        "communication",
        config_schema(
            "forward_email_to_team",
            {
                "to": {
                    "type": "array",
                    "items": {"type": "string", "format": "email", "maxLength": 320},
                    "minItems": 1,
                    "maxItems": 20,
                    "uniqueItems": True,
                },
                "note": {"type": "string", "description": "Put above the forwarded message."},
                "from": {"type": "string", "format": "email"},
                "connection": CONNECTION,
            },
            ("to",),
        ),
    ),
)
"""The entries, in display order (spliced into the catalog's ``ACTIONS`` by category)."""

COMMS_TASKS: tuple[ActionType, ...] = (
    ActionType(
        "create_email_draft",
        "Create email draft",
        "Creates an email draft to the contact in the inbox, for a person to review and send.",
        "communication",  # where the seed lists it; it only computes a command and sends nothing
        config_schema(
            "create_email_draft",
            {
                "subject": TEXT,
                "body": TEXT,
                "to": {"type": "string", "format": "email", "description": "Default: the contact's email."},
                "assignee": {**TEXT, "description": "Who reviews it (a user id)."},
            },
            ("subject", "body"),
        ),
        local=True,
        message=False,
    ),
)
"""The draft entry (a command to the inbox, for a person), spliced after create_task."""
