"""The CRM's actions beyond tags, lists, fields and score (decision 0042), spliced into
:data:`beez.workflow.catalog.actions.ACTIONS` after the other CRM types.

Each schema names exactly the fields of the verb's message in ``commands_crm.proto`` (what the
executor sends); their effects are :mod:`beez.workflow.effects_crm`.
"""

from __future__ import annotations

from typing import Any

from beez.workflow.catalog.entries import ActionType
from beez.workflow.catalog.pieces import (
    CONDITIONS,
    CONTACT_FIELD,
    TEXT,
    config_schema,
    required_unless,
    schema_rules,
)

LIFECYCLE_STAGES = (
    "subscriber",
    "lead",
    "marketing_qualified_lead",
    "sales_qualified_lead",
    "opportunity",
    "customer",
    "evangelist",
    "other",
)
"""The lifecycle stages a contact moves through (HubSpot's set, which most CRMs share)."""

CHANNELS = ("email", "sms", "whatsapp")
"""The channels a contact consents to (``contact.consent.<channel>``)."""

CUSTOM_FIELD_TYPES = {"text": 1, "number": 2, "boolean": 3, "date": 4}
"""``update_custom_field``'s ``type`` names and their ``CustomFieldType`` values."""

EXPORT_FORMATS = {"json": 1, "csv": 2}
"""``export_contact_data``'s ``format`` names and their ``ExportFormat`` values."""

MAX_LEAD_SCORE_RULES = 20
"""The most rules one ``calculate_lead_score`` step may hold."""

_CUSTOM_FIELD = {
    **CONTACT_FIELD,
    "description": "A custom field by name (a leading `contact.fields.` or `fields.` is dropped).",
}
_NAMES = {"type": "array", "items": TEXT, "maxItems": 50, "uniqueItems": True}
_CONTACT_ID = {**TEXT, "maxLength": 200}
_RULE = {
    "type": "object",
    "properties": {
        "name": {**TEXT, "maxLength": 64, "description": "Shown in the step's `matched_rules`."},
        "points": {"type": "integer", "minimum": -1_000_000, "maximum": 1_000_000},
        "conditions": {**CONDITIONS, "description": "Conditions as elsewhere (CEL within the cost budget)."},
    },
    "required": ["points", "conditions"],
    "additionalProperties": False,
}
_SCORE_BOUND = {"type": "integer", "minimum": -(2**31), "maximum": 2**31 - 1}


def _crm(type_: str, name: str, description: str, schema: dict[str, Any]) -> ActionType:
    return ActionType(type_, name, description, "crm", schema)


CRM_ACTIONS: tuple[ActionType, ...] = (
    _crm(
        "create_contact",
        "Create contact",
        "Creates a contact in the CRM (an email or a phone is required) and sets `vars.contact_id` "
        "to its id, the CRM's answer; the same step never creates two contacts.",
        config_schema(
            "create_contact",
            {
                "email": {"type": "string", "maxLength": 320},
                "phone": {"type": "string", "maxLength": 32},
                "first_name": {"type": "string", "maxLength": 200},
                "last_name": {"type": "string", "maxLength": 200},
                "fields": {"type": "object", "description": "Custom fields and their values."},
                "tags": _NAMES,
                "lists": _NAMES,
            },
            **required_unless("email", ["phone"], "email or phone is required"),
        ),
    ),
    _crm(
        "delete_contact",
        "Delete contact",
        "Deletes the contact in the CRM; the trigger's projection forgets it.",
        config_schema("delete_contact", {"reason": {"type": "string"}}),
    ),
    _crm(
        "merge_contacts",
        "Merge duplicate contacts",
        "Merges the contact `duplicate_contact_id` into this execution's contact, which survives; "
        "the duplicate is deleted.",
        config_schema("merge_contacts", {"duplicate_contact_id": _CONTACT_ID}, ("duplicate_contact_id",)),
    ),
    _crm(
        "update_lifecycle_stage",
        "Update lifecycle stage",
        "Moves the contact to a lifecycle stage (`contact.fields.lifecycle_stage`).",
        config_schema("update_lifecycle_stage", {"stage": {"enum": list(LIFECYCLE_STAGES)}}, ("stage",)),
    ),
    _crm(
        "calculate_lead_score",
        "Calculate lead score",
        f"Sets the contact's score to `base` plus the `points` of every rule whose conditions hold "
        f"(at most {MAX_LEAD_SCORE_RULES} rules, evaluated within one condition cost budget), "
        f"bounded by `min` and `max`.",
        config_schema(
            "calculate_lead_score",
            {
                "rules": {"type": "array", "items": _RULE, "minItems": 1, "maxItems": MAX_LEAD_SCORE_RULES},
                "base": _SCORE_BOUND,
                "min": _SCORE_BOUND,
                "max": _SCORE_BOUND,
            },
            ("rules",),
        ),
    ),
    _crm(
        "update_custom_field",
        "Update custom field",
        "Sets a custom field to `value` converted to `type` (text, number, boolean or an ISO date), "
        "so a value rendered from a template is stored typed; `update_field` stores any JSON as is.",
        config_schema(
            "update_custom_field",
            {"field": _CUSTOM_FIELD, "value": {}, "type": {"enum": list(CUSTOM_FIELD_TYPES)}},
            ("field", "value", "type"),
        ),
    ),
    _crm(
        "copy_field",
        "Copy field value",
        "Copies the value of the contact's field `from` (standard, consent.<channel> or custom) "
        "into the custom field `to`.",
        config_schema("copy_field", {"from": CONTACT_FIELD, "to": _CUSTOM_FIELD}, ("from", "to")),
    ),
    _crm(
        "append_to_field",
        "Append to field",
        "Appends `value` to a custom text field such as notes, after `separator` (default a new "
        "line) when the field already holds text.",
        config_schema(
            "append_to_field",
            {"field": _CUSTOM_FIELD, "value": TEXT, "separator": {"type": "string", "maxLength": 16}},
            ("field", "value"),
        ),
    ),
    _crm(
        "subscribe_newsletter",
        "Subscribe to newsletter",
        "Subscribes the contact to a newsletter (`contact.fields.subscriptions`).",
        config_schema("subscribe_newsletter", {"newsletter": TEXT}, ("newsletter",)),
    ),
    _crm(
        "unsubscribe",
        "Unsubscribe from communications",
        "Withdraws the contact's consent on `channels` (default every channel), so no "
        "communication step reaches them there.",
        config_schema(
            "unsubscribe",
            {
                "channels": {
                    "type": "array",
                    "items": {"enum": list(CHANNELS)},
                    "minItems": 1,
                    "uniqueItems": True,
                },
                "reason": {"type": "string"},
            },
        ),
    ),
    _crm(
        "update_consent",
        "Update consent preferences",
        "Sets the contact's consent per channel; a channel not given is left as it is.",
        config_schema(
            "update_consent",
            {channel: {"type": "boolean"} for channel in CHANNELS},
            **schema_rules(
                {
                    "if": {"not": {"anyOf": [{"required": [channel]} for channel in CHANNELS]}},
                    "then": {
                        "required": ["email"],
                        "errorMessage": "give the consent of at least one channel (email, sms, whatsapp)",
                    },
                }
            ),
        ),
    ),
    _crm(
        "set_do_not_contact",
        "Set do not contact",
        "Marks the contact do-not-contact (`contact.fields.do_not_contact`) and withdraws every "
        "channel's consent; `do_not_contact: false` lifts the mark and restores no consent.",
        config_schema(
            "set_do_not_contact", {"do_not_contact": {"type": "boolean"}, "reason": {"type": "string"}}
        ),
    ),
    _crm(
        "create_relationship",
        "Create contact relationship",
        "Relates this execution's contact to another contact (spouse, colleague, manager...).",
        config_schema(
            "create_relationship",
            {"related_contact_id": _CONTACT_ID, "relationship": {**TEXT, "maxLength": 64}},
            ("related_contact_id", "relationship"),
        ),
    ),
    _crm(
        "log_activity",
        "Log activity",
        "Records an activity (call, meeting, note...) on the contact's timeline in the CRM.",
        config_schema(
            "log_activity",
            {"activity_type": {**TEXT, "maxLength": 64}, "description": {"type": "string"}},
            ("activity_type",),
        ),
    ),
    _crm(
        "upload_document",
        "Upload document to contact",
        "Attaches the document at `url` (https; the CRM fetches it) to the contact under `name` "
        "(default: the URL's file name).",
        config_schema(
            "upload_document",
            {
                "url": {
                    **TEXT,
                    "pattern": "^(https://|\\{\\{)",
                    "errorMessage": "must be an https URL (or a template rendering one)",
                },
                "name": {**TEXT, "maxLength": 255},
            },
            ("url",),
        ),
    ),
    _crm(
        "export_contact_data",
        "Export contact data",
        "Asks the CRM for an export of the contact's data (GDPR access) and sets `vars.export_id` "
        "and `vars.export_url`, the CRM's answer.",
        config_schema("export_contact_data", {"format": {"enum": list(EXPORT_FORMATS)}}),
    ),
    _crm(
        "request_gdpr_deletion",
        "Request GDPR data deletion",
        "Asks the CRM to erase the contact (GDPR Article 17); the CRM runs the platform's erasure, "
        "which every service honours.",
        config_schema("request_gdpr_deletion", {"reason": {"type": "string"}}),
    ),
)
"""The CRM verbs of commands_crm.proto, in the seed's order."""
