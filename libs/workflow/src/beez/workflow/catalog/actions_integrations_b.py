"""Integration actions of issue #14's second set: Jira, Buffer, Mailchimp, Intercom,
Pipedrive/Close, Asana and monday.com.

Each calls its provider through the organization's connection (decision 0040), so ``connection``
is required and validation refuses a workflow naming one the organization lacks. Each schema
names exactly the fields the executor's action sends (services/executor/.../actions/providers).
"""

from __future__ import annotations

from typing import Any

from beez.workflow.catalog.entries import ActionType
from beez.workflow.catalog.pieces import CONNECTION, TEXT, config_schema, schema_rules

__all__ = ["INTEGRATIONS_B"]

_STRINGS = {"type": "array", "items": {"type": "string", "minLength": 1, "maxLength": 255}, "maxItems": 50}
_SCALARS = {
    "type": "object",
    "maxProperties": 100,
    "additionalProperties": {"type": ["string", "number", "boolean", "null"], "maxLength": 10_000},
}


def _connection(provider: str) -> dict[str, Any]:
    return {**CONNECTION, "description": f"The organization's {provider} connection, by id or name."}


def _text(max_length: int, description: str) -> dict[str, Any]:
    return {**TEXT, "maxLength": max_length, "description": description}


INTEGRATIONS_B: tuple[ActionType, ...] = (
    ActionType(
        "create_jira_ticket",
        "Create Jira ticket",
        "Creates an issue in a Jira Cloud project (POST /rest/api/3/issue; the description is sent "
        "as an Atlassian document).",
        "integration",
        config_schema(
            "create_jira_ticket",
            {
                "connection": _connection("Jira"),
                "project": {
                    "type": "string",
                    "pattern": r"^[A-Z][A-Z0-9_]{0,254}$",
                    "description": "The project key (OPS).",
                },
                "summary": _text(255, "The issue's summary (Jira's limit: 255 characters)."),
                "description": {"type": "string", "maxLength": 32_000},
                "issue_type": {**TEXT, "maxLength": 255, "default": "Task"},
                "labels": {
                    **_STRINGS,
                    "items": {"type": "string", "pattern": r"^\S{1,255}$"},
                    "description": "Labels (no spaces).",
                },
                "priority": {**TEXT, "maxLength": 255, "description": "A priority name (High)."},
            },
            ("connection", "project", "summary"),
        ),
    ),
    ActionType(
        "post_social_buffer",
        "Post to social media (Buffer)",
        "Queues, schedules or shares a post on a Buffer channel (a connected social profile).",
        "integration",
        config_schema(
            "post_social_buffer",
            {
                "connection": _connection("Buffer"),
                "channel_id": _text(100, "The Buffer channel (social profile) id."),
                "text": _text(10_000, "The post's text."),
                "mode": {
                    "enum": ["addToQueue", "shareNow", "shareNext", "customScheduled"],
                    "default": "addToQueue",
                },
                "due_at": {
                    "type": "string",
                    "format": "date-time",
                    "description": "When to publish (with mode customScheduled), ISO 8601 UTC.",
                },
            },
            ("connection", "channel_id", "text"),
            **schema_rules(
                {
                    "if": {"properties": {"mode": {"const": "customScheduled"}}, "required": ["mode"]},
                    "then": {
                        "required": ["due_at"],
                        "errorMessage": "due_at is required with customScheduled",
                    },
                }
            ),
        ),
    ),
    ActionType(
        "add_mailchimp_member",
        "Add to Mailchimp list",
        "Adds the contact to a Mailchimp audience, or updates the member (PUT on the subscriber hash).",
        "integration",
        config_schema(
            "add_mailchimp_member",
            {
                "connection": _connection("Mailchimp"),
                "list_id": _text(100, "The audience (list) id."),
                "email": {"type": "string", "maxLength": 320, "description": "Default: the contact's email."},
                "status_if_new": {
                    "enum": ["subscribed", "unsubscribed", "cleaned", "pending", "transactional"],
                    "default": "pending",
                    "description": "The status of a new member; pending asks the person to confirm.",
                },
                "status": {
                    "enum": ["subscribed", "unsubscribed", "cleaned", "pending", "transactional"],
                    "description": "Also changes an existing member's status.",
                },
                "merge_fields": {**_SCALARS, "description": "Merge fields by tag (FNAME, LNAME...)."},
            },
            ("connection", "list_id"),
        ),
    ),
    ActionType(
        "update_intercom_user",
        "Update Intercom user",
        "Creates the contact as an Intercom user, or updates the user with the same external id or email.",
        "integration",
        config_schema(
            "update_intercom_user",
            {
                "connection": _connection("Intercom"),
                "email": {"type": "string", "maxLength": 320, "description": "Default: the contact's email."},
                "external_id": {
                    "type": "string",
                    "maxLength": 255,
                    "description": "Default: the contact's id.",
                },
                "name": {"type": "string", "maxLength": 255},
                "phone": {"type": "string", "maxLength": 64},
                "custom_attributes": {**_SCALARS, "description": "Custom attributes by name."},
                "unsubscribed_from_emails": {"type": "boolean"},
            },
            ("connection",),
        ),
    ),
    ActionType(
        "sync_crm",
        "Sync to CRM (Pipedrive, Close)",
        "Creates or updates the contact by email: a person in Pipedrive, a lead in Close (the "
        "connection's provider decides).",
        "integration",
        config_schema(
            "sync_crm",
            {
                "connection": _connection("Pipedrive or Close"),
                "name": {"type": "string", "maxLength": 255, "description": "Default: the contact's name."},
                "email": {"type": "string", "maxLength": 320, "description": "Default: the contact's email."},
                "phone": {"type": "string", "maxLength": 64, "description": "Default: the contact's phone."},
                "organization": {
                    "type": "string",
                    "maxLength": 255,
                    "description": "Close: the lead's name (default: the person's).",
                },
            },
            ("connection",),
        ),
    ),
    ActionType(
        "create_asana_task",
        "Create Asana task",
        "Creates a task in an Asana project or workspace.",
        "integration",
        config_schema(
            "create_asana_task",
            {
                "connection": _connection("Asana"),
                "name": _text(1024, "The task's name."),
                "notes": {"type": "string", "maxLength": 65_000},
                "project": {"type": "string", "pattern": r"^[0-9]{1,32}$", "description": "A project gid."},
                "workspace": {
                    "type": "string",
                    "pattern": r"^[0-9]{1,32}$",
                    "description": "A workspace gid.",
                },
                "assignee": {
                    "type": "string",
                    "maxLength": 320,
                    "description": "A user gid, an email or me.",
                },
                "due_on": {"type": "string", "format": "date", "description": "YYYY-MM-DD."},
            },
            ("connection", "name"),
            anyOf=[{"required": ["project"]}, {"required": ["workspace"]}],
        ),
    ),
    ActionType(
        "update_monday_board",
        "Update Monday.com board",
        "Changes an item's columns on a monday.com board (item_id), or creates an item (item_name).",
        "integration",
        config_schema(
            "update_monday_board",
            {
                "connection": _connection("monday.com"),
                "board_id": {"type": "string", "pattern": r"^[0-9]{1,20}$"},
                "item_id": {
                    "type": "string",
                    "pattern": r"^[0-9]{1,20}$",
                    "description": "The item to change.",
                },
                "item_name": {**TEXT, "maxLength": 255, "description": "The item to create."},
                "group_id": {"type": "string", "maxLength": 255, "description": "The new item's group."},
                "column_values": {
                    "type": "object",
                    "maxProperties": 100,
                    "description": "Values by column id, in each column type's JSON shape.",
                },
            },
            ("connection", "board_id"),
            **schema_rules(
                {
                    "if": {"required": ["item_id"]},
                    "then": {
                        "required": ["column_values"],
                        "not": {"required": ["item_name"]},
                        "errorMessage": "with item_id give column_values (and no item_name)",
                    },
                    "else": {"required": ["item_name"], "errorMessage": "item_name (or item_id) is required"},
                }
            ),
        ),
    ),
)
