"""Provider actions (category ``integration``): each sends one documented request to its
provider through the organization's connection (decisions 0040, 0044). Each schema names exactly
the fields the executor's action sends (``beez.executor.actions.providers``)."""

from __future__ import annotations

from beez.workflow.catalog.entries import ActionType
from beez.workflow.catalog.pieces import CONNECTION, CONTACT_FIELD, HTTP_HEADERS, TEXT, config_schema

__all__ = ["INTEGRATION_ACTIONS"]


def _connection(provider: str) -> dict[str, object]:
    return {**CONNECTION, "description": f"The organization's {provider} connection, by id or name."}


_METADATA = {
    "type": "object",
    "maxProperties": 50,
    "propertyNames": {"maxLength": 40},
    "additionalProperties": {"type": ["string", "number", "boolean", "null"]},
}

_SCALAR = {"type": ["string", "number", "boolean", "null"]}
_EMAIL = {"type": "string", "description": "Default: the contact's email."}
_HOOK_FIELDS = {
    "body": {
        "type": ["object", "array"],
        "description": "The JSON sent. Default: the automation, execution and step ids, the contact "
        "fields `include_fields` lists and the event.",
    },
    "include_fields": {
        "type": "array",
        "items": CONTACT_FIELD,
        "maxItems": 100,
        "uniqueItems": True,
        "default": ["id", "email"],
        "description": "The contact fields the default body carries (data minimization).",
    },
}

INTEGRATION_ACTIONS: tuple[ActionType, ...] = (
    ActionType(
        "update_stripe_subscription",
        "Update Stripe subscription",
        "Updates a Stripe subscription (POST /v1/subscriptions/{id}): its items (price, quantity), "
        "metadata, cancel_at_period_end, proration; sent once per attempt (Idempotency-Key). "
        'Example: {"connection": "stripe", "subscription_id": "{{ contact.fields.subscription }}", '
        '"items": [{"id": "si_123", "price": "price_pro"}], "proration_behavior": "none"}.',
        "integration",
        config_schema(
            "update_stripe_subscription",
            {
                "connection": _connection("Stripe"),
                "subscription_id": {**TEXT, "maxLength": 255, "description": "sub_..."},
                "items": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": 20,
                    "items": {
                        "type": "object",
                        "properties": {
                            "id": {**TEXT, "maxLength": 255, "description": "The item (si_...)."},
                            "price": {**TEXT, "maxLength": 255, "description": "The new price (price_...)."},
                            "quantity": {"type": "integer", "minimum": 0},
                            "deleted": {"type": "boolean"},
                        },
                        "additionalProperties": False,
                    },
                },
                "metadata": _METADATA,
                "cancel_at_period_end": {"type": "boolean"},
                "proration_behavior": {"enum": ["create_prorations", "none", "always_invoice"]},
                "description": {"type": "string", "maxLength": 500},
                "trial_end": {
                    "type": ["integer", "string"],
                    "description": "A Unix timestamp, or `now` to end the trial at once.",
                },
            },
            ("connection", "subscription_id"),
        ),
    ),
    ActionType(
        "create_shopify_order",
        "Create Shopify order",
        "Creates an order in the connected Shopify store (Admin API orders.json): line items, the "
        "customer's email (default the contact's), financial status, note, tags. Example: "
        '{"connection": "shop", "line_items": [{"variant_id": 447654529, "quantity": 1}], '
        '"financial_status": "pending", "tags": "beez"}.',
        "integration",
        config_schema(
            "create_shopify_order",
            {
                "connection": _connection("Shopify"),
                "line_items": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": 100,
                    "items": {
                        "type": "object",
                        "properties": {
                            "variant_id": {
                                "type": ["integer", "string"],
                                "description": "The product variant; or give a title and price.",
                            },
                            "quantity": {"type": "integer", "minimum": 1, "maximum": 100000},
                            "title": {**TEXT, "maxLength": 255},
                            "price": {"type": ["string", "number"]},
                            "sku": {**TEXT, "maxLength": 255},
                        },
                        "additionalProperties": False,
                    },
                },
                "email": _EMAIL,
                "financial_status": {
                    "enum": [
                        "pending",
                        "authorized",
                        "partially_paid",
                        "paid",
                        "partially_refunded",
                        "refunded",
                        "voided",
                    ]
                },
                "note": {"type": "string", "maxLength": 5000},
                "tags": {"type": "string", "maxLength": 1000, "description": "Comma-separated."},
                "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
                "inventory_behaviour": {
                    "enum": ["bypass", "decrement_ignoring_policy", "decrement_obeying_policy"]
                },
                "send_receipt": {"type": "boolean"},
            },
            ("connection", "line_items"),
        ),
    ),
    ActionType(
        "append_google_sheets_row",
        "Append Google Sheets row",
        "Appends one row to a Google Sheets table (values.append) through a Google connection. "
        'Example: {"connection": "google", "spreadsheet_id": "1BxiMVs0XRA5nFMd", "range": "Leads!A:C", '
        '"values": ["{{ contact.email }}", "{{ contact.first_name }}", "{{ event.data.list }}"]}.',
        "integration",
        config_schema(
            "append_google_sheets_row",
            {
                "connection": _connection("Google"),
                "spreadsheet_id": {**TEXT, "maxLength": 200},
                "range": {
                    **TEXT,
                    "maxLength": 200,
                    "description": "The table, in A1 notation: Sheet1 or Leads!A:D.",
                },
                "values": {"type": "array", "minItems": 1, "maxItems": 200, "items": _SCALAR},
                "value_input_option": {"enum": ["RAW", "USER_ENTERED"], "default": "USER_ENTERED"},
                "insert_data_option": {"enum": ["INSERT_ROWS", "OVERWRITE"], "default": "INSERT_ROWS"},
            },
            ("connection", "spreadsheet_id", "range", "values"),
        ),
    ),
    ActionType(
        "create_salesforce_lead",
        "Create Salesforce lead",
        "Creates a Lead in Salesforce (REST sobjects/Lead) through a Salesforce connection. Example: "
        '{"connection": "salesforce", "last_name": "{{ contact.last_name }}", "company": '
        '"{{ contact.fields.company }}", "lead_source": "Web", "fields": {"Industry": "Retail"}}.',
        "integration",
        config_schema(
            "create_salesforce_lead",
            {
                "connection": _connection("Salesforce"),
                "last_name": {**TEXT, "maxLength": 80},
                "company": {**TEXT, "maxLength": 255},
                "first_name": {"type": "string", "maxLength": 40},
                "email": _EMAIL,
                "phone": {"type": "string", "maxLength": 40},
                "title": {"type": "string", "maxLength": 128},
                "lead_source": {"type": "string", "maxLength": 255},
                "status": {"type": "string", "maxLength": 255},
                "description": {"type": "string", "maxLength": 32000},
                "fields": {
                    "type": "object",
                    "maxProperties": 100,
                    "propertyNames": {"pattern": "^[A-Za-z][A-Za-z0-9_]{0,79}$"},
                    "additionalProperties": _SCALAR,
                    "description": "More Lead fields by API name (Industry, Score__c).",
                },
            },
            ("connection", "last_name", "company"),
        ),
    ),
    ActionType(
        "update_hubspot_contact",
        "Update HubSpot contact",
        "Sets properties of the HubSpot contact with the contact's email (CRM v3, by email); "
        "`create_if_missing` upserts it. Example: "
        '{"connection": "hubspot", "properties": {"lifecyclestage": "customer"}}.',
        "integration",
        config_schema(
            "update_hubspot_contact",
            {
                "connection": _connection("HubSpot"),
                "email": _EMAIL,
                "properties": {
                    "type": "object",
                    "minProperties": 1,
                    "maxProperties": 100,
                    "propertyNames": {"pattern": "^[a-z0-9_]{1,100}$"},
                    "additionalProperties": _SCALAR,
                },
                "create_if_missing": {"type": "boolean", "default": False},
            },
            ("connection", "properties"),
        ),
    ),
    ActionType(
        "send_zapier_webhook",
        "Send to Zapier",
        "POSTs JSON to a Zapier catch hook (https://hooks.zapier.com/hooks/catch/...). Example: "
        '{"url": "https://hooks.zapier.com/hooks/catch/123/abc/", "include_fields": ["id", "email"]}.',
        "integration",
        config_schema(
            "send_zapier_webhook",
            {"url": {"type": "string", "format": "uri"}, **_HOOK_FIELDS},
            ("url",),
        ),
    ),
    ActionType(
        "send_make_webhook",
        "Send to Make",
        "POSTs JSON to a Make custom webhook (https://hook.<zone>.make.com/...). Example: "
        '{"url": "https://hook.eu1.make.com/abc123", "body": {"email": "{{ contact.email }}"}}.',
        "integration",
        config_schema(
            "send_make_webhook",
            {"url": {"type": "string", "format": "uri"}, **_HOOK_FIELDS},
            ("url",),
        ),
    ),
    ActionType(
        "enrich_contact",
        "Enrich contact data (external API)",
        "Calls an enrichment API (as call_api) and copies fields of its JSON answer into the "
        "contact's fields: `mapping` names a path in the answer per field. Example: "
        '{"url": "https://api.example.com/people?email={{ contact.email }}", '
        '"mapping": {"job_title": "person.title", "company": "person.company.name"}}.',
        "integration",
        config_schema(
            "enrich_contact",
            {
                "url": {"type": "string", "format": "uri"},
                "method": {"enum": ["GET", "POST"], "default": "GET"},
                "headers": HTTP_HEADERS,
                "body": {"type": ["object", "array", "string"]},
                "timeout_s": {"type": "number", "exclusiveMinimum": 0, "maximum": 120},
                "connection": {
                    **CONNECTION,
                    "description": "A token connection (as call_api): the request carries its token "
                    "and may only go to that provider's base URL.",
                },
                "mapping": {
                    "type": "object",
                    "minProperties": 1,
                    "maxProperties": 50,
                    "propertyNames": CONTACT_FIELD,
                    "additionalProperties": {"type": "string", "minLength": 1, "maxLength": 256},
                    "description": "Contact field → dotted path in the answer (person.title, emails.0).",
                },
            },
            ("url", "mapping"),
        ),
    ),
)
