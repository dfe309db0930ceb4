"""The trigger types, in display order."""

from __future__ import annotations

from beez.workflow.catalog.entries import TriggerType, event_trigger

TRIGGERS: tuple[TriggerType, ...] = (
    event_trigger("contact_created", "Contact created", "A new contact was added.", "contact.created"),
    event_trigger("contact_updated", "Contact updated", "A contact's details changed.", "contact.updated"),
    event_trigger("tag_added", "Tag added", "A tag was added to a contact.", "tag.added"),
    event_trigger("tag_removed", "Tag removed", "A tag was removed from a contact.", "tag.removed"),
    event_trigger("list_joined", "List joined", "A contact was added to a list.", "list.joined"),
    event_trigger("list_left", "List left", "A contact was removed from a list.", "list.left"),
    event_trigger("form_submitted", "Form submitted", "A contact submitted a form.", "form.submitted"),
    event_trigger("cart_abandoned", "Cart abandoned", "A contact left items in a cart.", "cart.abandoned"),
    event_trigger("purchase_made", "Purchase made", "A contact completed a purchase.", "purchase.made"),
    event_trigger(
        "message_received",
        "Message received",
        "A contact sent a message on any channel.",
        "message.received",
    ),
    event_trigger("link_clicked", "Link clicked", "A contact clicked a tracked link.", "link.clicked"),
    event_trigger("email_opened", "Email opened", "A contact opened an email.", "email.opened"),
    event_trigger(
        "custom_event",
        "Custom event",
        "Any event a producer publishes; trigger.event names its type.",
        None,
    ),
)
