"""The action and control types, in display order, with their config schemas."""

from __future__ import annotations

from beez.workflow.catalog.actions_comms import COMMS_ACTIONS, COMMS_TASKS
from beez.workflow.catalog.actions_control import CONTROL_ACTIONS
from beez.workflow.catalog.actions_crm import CRM_ACTIONS
from beez.workflow.catalog.actions_integrations import INTEGRATION_ACTIONS
from beez.workflow.catalog.actions_integrations_b import INTEGRATIONS_B
from beez.workflow.catalog.actions_tasks import CONVERSATION_ACTIONS, TASK_ACTIONS
from beez.workflow.catalog.entries import LOOP_DEFAULT_MAX_ITEMS, LOOP_MAX_ITEMS, LOOP_MAX_TIMES, ActionType
from beez.workflow.catalog.pieces import (
    CONDITIONS,
    CONNECTION,
    CONTACT_FIELD,
    EVENT_NAME,
    FIELD_PATH,
    FILTERS,
    HTTP_HEADERS,
    IDENTIFIER,
    INTERVAL,
    TEXT,
    TIME_OF_DAY,
    config_schema,
    required_unless,
    schema_rules,
)
from beez.workflow.intervals import UNITS, WEEKDAYS

ACTIONS: tuple[ActionType, ...] = (
    # communication
    ActionType(
        "send_email",
        "Send email",
        "Sends an email, from a stored template or a body; to the contact unless `to` says otherwise.",
        "communication",
        config_schema(
            "send_email",
            {
                "template": {**TEXT, "description": "A stored template; it carries its own subject."},
                "subject": {**TEXT, "description": "Overrides the template's subject."},
                "body": {"type": "string"},
                "to": {"type": "string", "format": "email", "description": "Default: the contact's email."},
                "from": {"type": "string", "format": "email"},
                "reply_to": {"type": "string", "format": "email"},
                "connection": CONNECTION,
                "html": {"type": "string", "description": "An HTML alternative; its links are tracked."},
                "track_opens": {
                    "type": "boolean",
                    "description": "Add the open pixel to the HTML body. Default: the organization's.",
                },
                "track_clicks": {
                    "type": "boolean",
                    "description": "Track the HTML body's http(s) links. Default: the organization's.",
                },
                "campaign_id": {**TEXT, "description": "The email.opened/clicked events' `campaign`."},
            },
            **required_unless("template", ["subject", "body"], "required when no template is given"),
        ),
        channel="email",
    ),
    ActionType(
        "send_whatsapp",
        "Send WhatsApp message",
        "Sends a WhatsApp message (a body, or an approved template).",
        "communication",
        config_schema(
            "send_whatsapp",
            {
                "body": {"type": "string"},
                "template": TEXT,
                "to": {"type": "string"},
                "connection": CONNECTION,
            },
            **required_unless("template", ["body"], "body or template is required"),
        ),
        channel="whatsapp",
    ),
    ActionType(
        "send_sms",
        "Send SMS",
        "Sends a text message to the contact's phone unless `to` says otherwise.",
        "communication",
        config_schema(
            "send_sms", {"body": TEXT, "to": {"type": "string"}, "connection": CONNECTION}, ("body",)
        ),
        channel="sms",
    ),
    ActionType(
        "send_slack",
        "Send Slack message",
        "Posts to Slack, through the organization's integration or an incoming webhook.",
        "communication",
        config_schema(
            "send_slack",
            {
                "text": TEXT,
                "webhook_url": {"type": "string", "format": "uri"},
                "channel": TEXT,
                "connection": CONNECTION,
            },
            ("text",),
        ),
    ),
    *CONVERSATION_ACTIONS,
    *COMMS_ACTIONS,
    # integration
    ActionType(
        "webhook",
        "Webhook",
        "Sends an HTTP request (POST by default) with the given body; without one, the ids, the "
        "event and the contact fields `include_fields` lists (default id and email).",
        "integration",
        config_schema(
            "webhook",
            {
                "url": {"type": "string", "format": "uri"},
                "method": {"enum": ["GET", "POST", "PUT", "PATCH", "DELETE"], "default": "POST"},
                "headers": HTTP_HEADERS,
                "body": {"type": ["object", "array", "string"]},
                "timeout_s": {"type": "number", "exclusiveMinimum": 0, "maximum": 120},
                "include_fields": {
                    "type": "array",
                    "items": CONTACT_FIELD,
                    "maxItems": 100,
                    "uniqueItems": True,
                    "default": ["id", "email"],
                    "description": "The contact fields the default payload (no `body`) carries: "
                    "only these (data minimization). Default: id and email.",
                },
            },
            ("url",),
        ),
    ),
    ActionType(
        "call_api",
        "Call API",
        "Calls an HTTP API; `save_as` keeps the response in vars.<save_as> for later steps.",
        "integration",
        config_schema(
            "call_api",
            {
                "url": {"type": "string", "format": "uri"},
                "method": {"enum": ["GET", "POST", "PUT", "PATCH", "DELETE"]},
                "headers": HTTP_HEADERS,
                "body": {"type": ["object", "array", "string"]},
                "timeout_s": {"type": "number", "exclusiveMinimum": 0, "maximum": 120},
                "save_as": IDENTIFIER,
                "connection": {
                    **CONNECTION,
                    "description": "A Slack, Stripe, HubSpot, Salesforce or Google connection: the "
                    "request carries its token, and may only go to that provider's base URL.",
                },
            },
            ("url", "method"),
        ),
    ),
    *INTEGRATION_ACTIONS,
    *INTEGRATIONS_B,
    # crm
    ActionType(
        "add_tag",
        "Add tag",
        "Adds a tag to the contact.",
        "crm",
        config_schema("add_tag", {"tag": TEXT}, ("tag",)),
    ),
    ActionType(
        "remove_tag",
        "Remove tag",
        "Removes a tag from the contact.",
        "crm",
        config_schema("remove_tag", {"tag": TEXT}, ("tag",)),
    ),
    ActionType(
        "update_field",
        "Update field",
        "Sets one of the contact's fields.",
        "crm",
        config_schema("update_field", {"field": TEXT, "value": {}}, ("field", "value")),
    ),
    ActionType(
        "add_to_list",
        "Add to list",
        "Adds the contact to a list.",
        "crm",
        config_schema("add_to_list", {"list": TEXT}, ("list",)),
    ),
    ActionType(
        "remove_from_list",
        "Remove from list",
        "Removes the contact from a list.",
        "crm",
        config_schema("remove_from_list", {"list": TEXT}, ("list",)),
    ),
    ActionType(
        "update_score",
        "Update score",
        "Changes the contact's score by `delta`, or sets it to `value`.",
        "crm",
        config_schema(
            "update_score",
            {"delta": {"type": "integer"}, "value": {"type": "integer"}},
            **schema_rules(
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
        config_schema(
            "assign_user",
            {"user_id": TEXT, "team": TEXT},
            **required_unless("user_id", ["team"], "user_id or team is required"),
        ),
    ),
    *CRM_ACTIONS,
    # tasks
    *TASK_ACTIONS,
    *COMMS_TASKS,
    # control, run by registered actions
    ActionType(
        "set_variable",
        "Set variable",
        "Stores a value in vars.<name> for later steps, conditions and templates.",
        "control",
        config_schema("set_variable", {"name": IDENTIFIER, "value": {}}, ("name", "value")),
        local=True,
    ),
    ActionType(
        "trigger_automation",
        "Trigger automation",
        "Starts another automation for the same contact; chains of automations starting one "
        "another stop at a depth limit.",
        "control",
        config_schema("trigger_automation", {"automation_id": TEXT}, ("automation_id",)),
        local=True,
    ),
    # communication, to the team through the platform
    ActionType(
        "send_internal_notification",
        "Send internal notification",
        "Notifies the team inside the app.",
        "communication",
        config_schema(
            "send_internal_notification",
            {"message": TEXT, "user_id": TEXT, "channel": TEXT},
            ("message",),
        ),
        local=True,
        message=False,
    ),
    # control
    ActionType(
        "wait",
        "Wait",
        "Waits for an amount of time, or until a time of day (on some weekdays) in the contact's zone.",
        "control",
        config_schema(
            "wait",
            {
                "value": {"type": "integer", "minimum": 1},
                "unit": {"enum": list(UNITS)},
                "until": TIME_OF_DAY,
                "weekdays": {
                    "type": "array",
                    "items": {"enum": list(WEEKDAYS)},
                    "minItems": 1,
                    "uniqueItems": True,
                },
            },
            retry=False,
            dependentRequired={"weekdays": ["until"]},
            **schema_rules(
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
        engine=True,
    ),
    ActionType(
        "condition",
        "Condition",
        "Runs branch yes when the conditions hold, branch no otherwise.",
        "control",
        config_schema("condition", {"conditions": CONDITIONS}, ("conditions",), retry=False),
        branches=("yes", "no"),
        engine=True,
    ),
    ActionType(
        "switch",
        "Switch",
        "Runs the first branch whose conditions hold, else the branch named default.",
        "control",
        config_schema("switch", {}, retry=False),
        named_branches=True,
        engine=True,
    ),
    ActionType(
        "wait_for_event",
        "Wait for event",
        "Waits for an event about the contact (branch event) or for the timeout (branch timeout).",
        "control",
        config_schema(
            "wait_for_event",
            {"event": EVENT_NAME, "filters": FILTERS, "timeout": INTERVAL},
            ("event", "timeout"),
            retry=False,
        ),
        branches=("event", "timeout"),
        engine=True,
    ),
    ActionType(
        "wait_until",
        "Wait until",
        "Waits until the conditions hold (branch met), re-checked on each event about the contact, "
        "or for the timeout (branch timeout).",
        "control",
        config_schema(
            "wait_until",
            {"conditions": CONDITIONS, "timeout": INTERVAL},
            ("conditions", "timeout"),
            retry=False,
        ),
        branches=("met", "timeout"),
        engine=True,
    ),
    ActionType(
        "random_split",
        "Random split",
        "Sends each contact down one branch, with chances proportional to the branch weights; "
        "a contact's path is stable.",
        "control",
        config_schema("random_split", {}, retry=False),
        named_branches=True,
        engine=True,
    ),
    ActionType(
        "loop",
        "Loop",
        f"Runs branch body `times` times, or once per item of the list at `over` (at most "
        f"`max_items`, default {LOOP_DEFAULT_MAX_ITEMS}); never more than {LOOP_MAX_TIMES}.",
        "control",
        config_schema(
            "loop",
            {
                "times": {"type": "integer", "minimum": 1, "maximum": LOOP_MAX_TIMES},
                "over": FIELD_PATH,
                "max_items": {"type": "integer", "minimum": 1, "maximum": LOOP_MAX_ITEMS},
            },
            retry=False,
            dependentRequired={"max_items": ["over"]},
            **schema_rules(
                {
                    "if": {"required": ["over"]},
                    "then": {"not": {"required": ["times"]}, "errorMessage": "give times or over, not both"},
                    "else": {"required": ["times"], "errorMessage": "times (or over) is required"},
                }
            ),
        ),
        branches=("body",),
        engine=True,
    ),
    ActionType(
        "stop",
        "Stop",
        "Ends the execution here.",
        "control",
        config_schema("stop", {"reason": {"type": "string"}}, retry=False),
        engine=True,
    ),
    *CONTROL_ACTIONS,
)
