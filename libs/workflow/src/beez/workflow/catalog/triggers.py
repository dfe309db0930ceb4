"""The trigger types, in display order.

Event triggers name the data fields their events carry (the ``filters`` they document) and the
type-specific ``config`` that :mod:`beez.workflow.triggering` matches beyond equality (a score
crossing a threshold, a stage transition, a text containing a word...). The data conventions,
for producers: ``email.*`` carry ``campaign``, ``template``, ``message_id`` (``email.clicked``
also ``url``); ``score.changed`` carries ``old_score`` and ``new_score``;
``lifecycle_stage.changed`` carries ``old_stage`` and ``new_stage``; ``subscription.changed``
carries ``status`` and ``channel``; ``whatsapp.received``/``sms.received`` carry ``text``;
``purchase.made``/``payment.received`` carry ``amount`` and ``currency``; ``contact.updated``
carries ``changed`` (the names of the changed fields); ``webhook.received`` carries ``hook_id``
and the payload under ``payload``; ``automation.completed`` is published by the trigger itself;
``message.received`` and ``conversation.*`` carry ``conversation_id`` and ``task.*`` carry
``task_id`` (the defaults of the conversation and task actions, decision 0043).
"""

from __future__ import annotations

from typing import Any

from beez.workflow.catalog.conditions import CONDITION_TRIGGERS
from beez.workflow.catalog.entries import TriggerType, event_trigger
from beez.workflow.catalog.pieces import EVENT_NAME, INTERVAL
from beez.workflow.catalog.schedules import TIME_TRIGGERS

OUTCOMES: tuple[str, ...] = ("completed", "failed", "cancelled")
"""How an execution may end, as ``automation_completed`` filters it."""

SUBSCRIPTION_STATUSES: tuple[str, ...] = ("subscribed", "unsubscribed")
CHANNELS: tuple[str, ...] = ("email", "sms", "whatsapp")
SCORE_DIRECTIONS: tuple[str, ...] = ("up", "down", "either")

CHECKOUT_EVENT = "checkout.completed"
"""The event that cancels a pending ``cart_abandoned`` unless ``config.checkout_event`` names another."""

_ID = {"type": "string", "minLength": 1, "maxLength": 200}
_STAGE = {"type": "string", "minLength": 1, "maxLength": 200}
_CONTAINS: dict[str, Any] = {
    "contains": {
        "type": "string",
        "minLength": 1,
        "maxLength": 200,
        "description": "Fires only when the message text contains this (case-insensitive).",
    }
}
_MIN_AMOUNT: dict[str, Any] = {
    "min_amount": {"type": "number", "minimum": 0, "description": "Fires only from this amount up."}
}
_EMAIL = {"campaign": "The campaign the email belongs to.", "template": "The email template."}

TRIGGERS: tuple[TriggerType, ...] = (
    event_trigger(
        "contact_created",
        "Contact created",
        "A new contact was added.",
        "contact.created",
        filters={"source": "Where the contact came from (form, import, api...)."},
    ),
    event_trigger(
        "contact_updated",
        "Contact updated",
        "A contact's details changed; config.field fires only when that field changed.",
        "contact.updated",
        config={"field": {"type": "string", "minLength": 1, "description": "A contact field name."}},
    ),
    event_trigger(
        "tag_added", "Tag added", "A tag was added to a contact.", "tag.added", filters={"tag": "The tag."}
    ),
    event_trigger(
        "tag_removed",
        "Tag removed",
        "A tag was removed from a contact.",
        "tag.removed",
        filters={"tag": "The tag."},
    ),
    event_trigger(
        "list_joined",
        "List joined",
        "A contact was added to a list.",
        "list.joined",
        filters={"list": "The list."},
    ),
    event_trigger(
        "list_left",
        "List left",
        "A contact was removed from a list.",
        "list.left",
        filters={"list": "The list."},
    ),
    event_trigger(
        "email_sent", "Email sent", "An email was sent to the contact.", "email.sent", filters=_EMAIL
    ),
    event_trigger(
        "email_opened", "Email opened", "A contact opened an email.", "email.opened", filters=_EMAIL
    ),
    event_trigger(
        "email_clicked",
        "Email clicked",
        "A contact clicked a link in an email.",
        "email.clicked",
        filters={**_EMAIL, "url": "The link clicked."},
    ),
    event_trigger(
        "whatsapp_received",
        "WhatsApp received",
        "The contact sent a WhatsApp message.",
        "whatsapp.received",
        config=_CONTAINS,
    ),
    event_trigger(
        "sms_received", "SMS received", "The contact sent an SMS.", "sms.received", config=_CONTAINS
    ),
    event_trigger(
        "form_submitted",
        "Form submitted",
        "A contact submitted a form.",
        "form.submitted",
        filters={"form": "The form."},
    ),
    event_trigger(
        "purchase_made",
        "Purchase made",
        "A contact completed a purchase.",
        "purchase.made",
        filters={"product": "The product bought.", "currency": "ISO 4217 code."},
        config=_MIN_AMOUNT,
    ),
    event_trigger(
        "cart_abandoned",
        "Cart abandoned",
        "No checkout within config.within after a cart event: the execution starts on the cart event, "
        "waits for the checkout event (same contact, same cart_id when the cart event has one) and "
        "goes on only if it does not come in time.",
        "cart.updated",
        filters={"cart_id": "The cart."},
        config={
            "within": {
                **INTERVAL,
                "description": "How long a checkout may take before the cart counts as abandoned.",
            },
            "checkout_event": {**EVENT_NAME, "maxLength": 200, "default": CHECKOUT_EVENT},
        },
        required=("within",),
    ),
    event_trigger(
        "conversation_assigned",
        "Conversation assigned",
        "An inbox conversation was assigned to an agent.",
        "conversation.assigned",
        filters={
            "assignee": "The agent.",
            "team": "The agent's team.",
            "channel": "The conversation's channel.",
        },
    ),
    event_trigger(
        "conversation_closed",
        "Conversation closed",
        "A support conversation was resolved.",
        "conversation.closed",
        filters={"assignee": "The agent.", "channel": "The conversation's channel."},
    ),
    event_trigger(
        "score_changed",
        "Score changed",
        "A contact's score crossed config.threshold (the event carries old_score and new_score).",
        "score.changed",
        config={
            "threshold": {"type": "number"},
            "direction": {
                "enum": list(SCORE_DIRECTIONS),
                "default": "up",
                "description": "up: from below to at or above; down: from at or above to below.",
            },
        },
        required=("threshold",),
    ),
    event_trigger(
        "lifecycle_stage_changed",
        "Lifecycle stage changed",
        "A contact moved between lifecycle stages (e.g. lead to customer).",
        "lifecycle_stage.changed",
        config={"from": _STAGE, "to": _STAGE},
    ),
    event_trigger(
        "subscription_status_changed",
        "Subscription status changed",
        "A contact subscribed or unsubscribed.",
        "subscription.changed",
        config={"status": {"enum": list(SUBSCRIPTION_STATUSES)}, "channel": {"enum": list(CHANNELS)}},
    ),
    event_trigger(
        "api_webhook_received",
        "API webhook received",
        "An external system posted to one of the organization's inbound webhooks.",
        "webhook.received",
        filters={"hook_id": "The inbound webhook."},
    ),
    event_trigger(
        "file_uploaded",
        "File uploaded",
        "A document was attached to a contact.",
        "file.uploaded",
        filters={"content_type": "The file's media type.", "folder": "Where it was filed."},
    ),
    event_trigger(
        "task_created",
        "Task created",
        "A CRM task was created.",
        "task.created",
        filters={"assignee": "Who the task is for.", "task_type": "The kind of task."},
    ),
    event_trigger(
        "task_completed",
        "Task completed",
        "A CRM task was completed.",
        "task.completed",
        filters={"assignee": "Who the task was for.", "task_type": "The kind of task."},
    ),
    event_trigger(
        "meeting_scheduled",
        "Meeting scheduled",
        "A calendar event was created with the contact.",
        "meeting.scheduled",
        filters={"calendar": "The calendar.", "meeting_type": "The kind of meeting."},
    ),
    event_trigger(
        "payment_received",
        "Payment received",
        "An invoice was paid.",
        "payment.received",
        filters={"invoice_id": "The invoice.", "currency": "ISO 4217 code."},
        config=_MIN_AMOUNT,
    ),
    event_trigger(
        "campaign_sent",
        "Campaign sent",
        "A bulk campaign was delivered.",
        "campaign.sent",
        filters={"campaign": "The campaign.", "channel": "email, sms or whatsapp."},
    ),
    event_trigger(
        "automation_completed",
        "Automation completed",
        "Another automation's execution ended (never the automation's own).",
        "automation.completed",
        config={"automation_id": _ID, "outcome": {"enum": list(OUTCOMES)}},
    ),
    event_trigger(
        "message_received",
        "Message received",
        "A contact sent a message on any channel.",
        "message.received",
        filters={"channel": "email, sms or whatsapp."},
        config=_CONTAINS,
    ),
    event_trigger(
        "link_clicked",
        "Link clicked",
        "A contact clicked a tracked link.",
        "link.clicked",
        filters={"link": "The link."},
    ),
    event_trigger(
        "custom_event",
        "Custom event",
        "Any event a producer publishes; trigger.event names its type.",
        None,
    ),
    *TIME_TRIGGERS,
    *CONDITION_TRIGGERS,
)
