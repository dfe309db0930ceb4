"""The catalog lists exactly the types the engine runs, with schemas that validate configs."""

from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator

from beez.workflow import catalog
from beez.workflow.catalog.actions_comms import COMMS_ACTIONS, COMMS_TASKS
from beez.workflow.retry import DEFAULT_RETRY, RetryPolicy, retry_policy
from beez.workflow.schemas import schema_issues

SEED_EVENT_TRIGGERS: dict[str, str | None] = {
    # frame 4's 22 event-based triggers, a slashed bullet split into its types
    "contact_created": "contact.created",
    "contact_updated": "contact.updated",
    "tag_added": "tag.added",
    "tag_removed": "tag.removed",
    "list_joined": "list.joined",
    "list_left": "list.left",
    "email_sent": "email.sent",
    "email_opened": "email.opened",
    "email_clicked": "email.clicked",
    "whatsapp_received": "whatsapp.received",
    "sms_received": "sms.received",
    "form_submitted": "form.submitted",
    "purchase_made": "purchase.made",
    "cart_abandoned": "cart.updated",
    "conversation_assigned": "conversation.assigned",
    "conversation_closed": "conversation.closed",
    "score_changed": "score.changed",
    "lifecycle_stage_changed": "lifecycle_stage.changed",
    "subscription_status_changed": "subscription.changed",
    "api_webhook_received": "webhook.received",
    "file_uploaded": "file.uploaded",
    "task_created": "task.created",
    "task_completed": "task.completed",
    "meeting_scheduled": "meeting.scheduled",
    "payment_received": "payment.received",
    "campaign_sent": "campaign.sent",
    "automation_completed": "automation.completed",
}
"""The seed's event triggers and the event each listens to by default."""


def test_every_event_trigger_of_the_seed_is_in_the_catalog_with_its_event() -> None:
    events = {entry.type: entry.event for entry in catalog.trigger_types() if entry.category == "event"}
    assert events == {
        **SEED_EVENT_TRIGGERS,
        "message_received": "message.received",
        "link_clicked": "link.clicked",
        "custom_event": None,
    }
    assert all(entry.name and entry.description for entry in catalog.trigger_types())
    assert catalog.trigger_type("custom_event").requires_event  # type: ignore[union-attr]
    assert not catalog.trigger_type("tag_added").requires_event  # type: ignore[union-attr]


def test_the_sixteen_condition_triggers_listen_to_no_event() -> None:
    conditions = [entry for entry in catalog.trigger_types() if entry.category == "condition"]
    assert {entry.type for entry in conditions} == {
        "field_value_match",
        "score_threshold",
        "list_membership",
        "tag_combination",
        "engagement_level",
        "behavior_pattern",
        "rfm_segment",
        "geolocation",
        "device_type",
        "channel_preference",
        "custom_field_logic",
        "date_range",
        "null_check",
        "regex_match",
        "mathematical",
        "sentiment",
    }
    assert all(entry.event is None and not entry.requires_event for entry in conditions)


INTEGRATIONS_B = {
    "create_jira_ticket",
    "post_social_buffer",
    "add_mailchimp_member",
    "update_intercom_user",
    "sync_crm",
    "create_asana_task",
    "update_monday_board",
}


def test_action_types_are_exactly_the_runnable_ones_by_category() -> None:
    by_category: dict[str, set[str]] = {}
    for entry in catalog.action_types():
        by_category.setdefault(entry.category, set()).add(entry.type)
    assert by_category == {
        "communication": {
            "send_email",
            "send_whatsapp",
            "send_sms",
            "send_slack",
            "reply_to_conversation",
            "close_conversation",
            "reopen_conversation",
            "add_conversation_note",
            "assign_conversation",
            "transfer_conversation",
            "send_internal_notification",
        }
        | {entry.type for entry in (*COMMS_ACTIONS, *COMMS_TASKS)},
        "integration": {
            "webhook",
            "call_api",
            "update_stripe_subscription",
            "create_shopify_order",
            "append_google_sheets_row",
            "create_salesforce_lead",
            "update_hubspot_contact",
            "send_zapier_webhook",
            "send_make_webhook",
            "enrich_contact",
        }
        | INTEGRATIONS_B,
        "crm": {
            "add_tag",
            "remove_tag",
            "update_field",
            "add_to_list",
            "remove_from_list",
            "update_score",
            "assign_user",
            # decision 0042
            "create_contact",
            "delete_contact",
            "merge_contacts",
            "update_lifecycle_stage",
            "calculate_lead_score",
            "update_custom_field",
            "copy_field",
            "append_to_field",
            "subscribe_newsletter",
            "unsubscribe",
            "update_consent",
            "set_do_not_contact",
            "create_relationship",
            "log_activity",
            "upload_document",
            "export_contact_data",
            "request_gdpr_deletion",
        },
        "tasks": {
            "create_task",
            "assign_task",
            "set_task_due_date",
            "complete_task",
            "create_calendar_event",
            "send_task_reminder",
            "update_task_priority",
            "add_task_comment",
            "create_follow_up_sequence",
            "log_phone_call",
            "log_meeting_notes",
            "schedule_meeting",
        },
        "control": {
            "wait",
            "condition",
            "switch",
            "wait_for_event",
            "wait_until",
            "random_split",
            "loop",
            "stop",
            "set_variable",
            "trigger_automation",
            "cancel_pending_actions",
            "calculate_value",
            "send_error_alert",
            "retry_failed_action",
        },
    }
    assert set(by_category) <= set(catalog.ACTION_CATEGORIES)
    order = [catalog.ACTION_CATEGORIES.index(entry.category) for entry in catalog.action_types()]
    assert order == sorted(order), "action types are listed grouped by category"


def test_the_engine_flag_is_not_the_display_category() -> None:
    """How the engine runs a type is its own flag: moving set_variable or the internal notification
    to another group changes neither how they run nor what counts as a message."""
    runners = {entry.type: entry.runner for entry in catalog.action_types()}
    engine = {t for t, r in runners.items() if r == catalog.ENGINE}
    assert engine == {
        "wait",
        "condition",
        "switch",
        "wait_for_event",
        "wait_until",
        "random_split",
        "loop",
        "stop",
        "cancel_pending_actions",
        "retry_failed_action",
    }
    assert {t for t in runners if catalog.is_control(t)} == engine
    external = {t for t, r in runners.items() if r == catalog.EXTERNAL}
    assert {"send_email", "send_whatsapp", "send_sms", "send_slack", "webhook", "call_api"} <= external
    assert {e.type for e in catalog.action_types() if e.category == "integration"} <= external
    assert catalog.is_local("set_variable") and catalog.is_local("send_internal_notification")
    assert not catalog.is_communication("send_internal_notification")
    assert not catalog.is_communication("send_error_alert")
    assert catalog.is_communication("send_slack")


def test_control_types_declare_their_branches() -> None:
    branches = {
        entry.type: (entry.branches, entry.named_branches)
        for entry in catalog.action_types()
        if entry.is_control
    }
    assert branches == {
        "wait": ((), False),
        "condition": (("yes", "no"), False),
        "switch": ((), True),
        "wait_for_event": (("event", "timeout"), False),
        "wait_until": (("met", "timeout"), False),
        "random_split": ((), True),
        "loop": (("body",), False),
        "stop": ((), False),
        "cancel_pending_actions": ((), False),
        "retry_failed_action": ((), False),
    }


def test_operators_are_exactly_the_format_list() -> None:
    assert [entry.name for entry in catalog.operators()] == [
        "equals",
        "not_equals",
        "contains",
        "not_contains",
        "starts_with",
        "ends_with",
        "greater_than",
        "greater_or_equal",
        "less_than",
        "less_or_equal",
        "between",
        "in_list",
        "not_in_list",
        "is_empty",
        "is_not_empty",
        "matches_regex",
        "before",
        "after",
        "within_last",
        "has_tag",
        "has_any_tags",
        "has_all_tags",
    ]
    assert all(entry.description and entry.value_types for entry in catalog.operators())


def test_every_config_schema_is_a_valid_closed_draft_2020_12_schema() -> None:
    for entry in catalog.action_types():
        schema = catalog.action_schema(entry.type)
        Draft202012Validator.check_schema(schema)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert schema["additionalProperties"] is False
        assert ("retry" in schema["properties"]) is not entry.is_control
    for trigger in catalog.trigger_types():
        Draft202012Validator.check_schema(catalog.trigger_schema(trigger.type))


def test_trigger_schema_requires_event_only_for_custom_event() -> None:
    assert catalog.trigger_schema("custom_event")["required"] == ["type", "event"]
    schema = catalog.trigger_schema("list_joined")
    assert schema["required"] == ["type"]
    assert schema["properties"]["event"]["default"] == "list.joined"
    assert schema_issues(schema, {"type": "list_joined", "filters": {"list": ["a"]}}, "trigger") != []


def test_unknown_types_raise_key_error() -> None:
    with pytest.raises(KeyError):
        catalog.action_schema("send_fax")
    with pytest.raises(KeyError):
        catalog.trigger_schema("sundial")
    assert catalog.action_type("send_fax") is None


def test_schemas_are_copies_callers_cannot_corrupt() -> None:
    catalog.action_schema("add_tag")["properties"].clear()
    assert "tag" in catalog.action_schema("add_tag")["properties"]


@pytest.mark.parametrize(
    ("type_", "config", "valid"),
    [
        ("send_email", {"template": "welcome"}, True),
        ("send_email", {"subject": "Hi", "body": "Hello"}, True),
        ("send_email", {"subject": "Hi"}, False),
        ("send_email", {"subject": "Hi", "body": "x", "to": "not-an-address"}, False),
        ("send_email", {"template": "t", "to": "{{ contact.fields.manager_email }}"}, True),
        ("send_whatsapp", {"template": "promo"}, True),
        ("send_whatsapp", {"to": "+234"}, False),
        ("send_sms", {"body": "Hi"}, True),
        ("send_slack", {"text": "Hi", "webhook_url": "https://hooks.slack.com/x"}, True),
        ("send_slack", {"text": "Hi", "webhook_url": "ftp://x"}, False),
        ("webhook", {"url": "https://example.com/hook", "method": "POST", "timeout_s": 10}, True),
        ("webhook", {"url": "https://example.com/hook", "method": "FETCH"}, False),
        ("call_api", {"url": "https://api.example.com", "method": "GET", "save_as": "profile"}, True),
        ("call_api", {"url": "https://api.example.com"}, False),
        ("update_score", {"delta": 5}, True),
        ("update_score", {"value": 50}, True),
        ("update_score", {"delta": 5, "value": 50}, False),
        ("update_score", {"delta": 1.5}, False),
        ("assign_user", {"team": "Success Team"}, True),
        ("assign_user", {}, False),
        ("add_tag", {"tag": "vip", "retry": {"attempts": 3, "backoff": [10, 20]}}, True),
        ("add_tag", {"tag": "vip", "retry": {"attempts": 11}}, False),
        ("wait", {"value": 2, "unit": "days"}, True),
        ("wait", {"until": "09:00", "weekdays": ["mon", "fri"]}, True),
        ("wait", {"until": "9am"}, False),
        ("wait", {"until": "09:00", "value": 1, "unit": "days"}, False),
        ("wait", {"weekdays": ["mon"], "value": 1, "unit": "days"}, False),
        ("loop", {"times": 3}, True),
        ("loop", {"over": "event.data.items", "max_items": 50}, True),
        ("loop", {"times": 1001}, False),
        ("loop", {"over": "items"}, False),
        ("stop", {"reason": "done"}, True),
        ("switch", {"anything": 1}, False),
    ],
)
def test_config_schemas_accept_and_reject(type_: str, config: dict[str, object], valid: bool) -> None:
    schema = catalog.action_type(type_).config_schema  # type: ignore[union-attr]
    assert (schema_issues(schema, config, "config") == []) is valid


def test_communication_types_and_their_channels() -> None:
    assert [entry.type for entry in catalog.action_types() if catalog.is_communication(entry.type)] == [
        "send_email",
        "send_whatsapp",
        "send_sms",
        "send_slack",
        "reply_to_conversation",
        "close_conversation",
        "reopen_conversation",
        "add_conversation_note",
        "assign_conversation",
        "transfer_conversation",
        *(entry.type for entry in COMMS_ACTIONS),
    ]
    assert catalog.channel("send_email") == "email"
    assert catalog.channel("send_push") == "push"
    assert catalog.channel("forward_email_to_team") is None  # to the team
    assert catalog.channel("reply_to_conversation") is None  # the conversation names its channel
    assert catalog.channel("send_whatsapp") == "whatsapp"
    assert catalog.channel("send_sms") == "sms"
    assert catalog.channel("send_slack") is None
    assert catalog.channel("add_tag") is None
    assert not catalog.is_communication("webhook")
    assert catalog.is_control("wait") and not catalog.is_control("add_tag")


def test_default_retry_is_at_once_then_60_300_900_seconds() -> None:
    policy = retry_policy({"tag": "x"})
    assert policy == DEFAULT_RETRY
    assert [policy.delay_before(attempt) for attempt in range(1, 6)] == [0, 60, 300, 900, None]


def test_retry_override_repeats_its_last_backoff() -> None:
    policy = retry_policy({"retry": {"attempts": 4, "backoff": [5, 30]}})
    assert policy == RetryPolicy(attempts=4, backoff=(5, 30))
    assert [policy.delay_before(attempt) for attempt in range(1, 6)] == [0, 5, 30, 30, None]
