"""The registry: one :class:`Action` per runnable action type of the catalog.

    registry = build_registry(settings.actions)          # or build_registry(..., http=client)
    result = await registry["send_email"].run(ctx)
    ...
    await registry.aclose()                               # on shutdown

The registry owns the HTTP client it creates (a :class:`~.ssrf.GuardedTransport` client that
pins every connection to an address the SSRF guard checked) and closes it in :meth:`aclose`.
A client passed as ``http`` stays the caller's: it is not closed, and although every hop is
still checked by the guard before it is sent, its connections are pinned only when it was built
with :meth:`OutboundHttp.guarded_client` (or a :class:`GuardedTransport`). SMTP opens one
connection per message, so there is nothing to close for email.
"""

from __future__ import annotations

import httpx

from beez.executor.actions import comms, control, crm, internal, tasks
from beez.executor.actions.base import Action
from beez.executor.actions.contacts import COMMAND_VERBS, crm_commands
from beez.executor.actions.email import SendEmail
from beez.executor.actions.http import OutboundHttp
from beez.executor.actions.integration import CallApi, SigningLookup, Webhook
from beez.executor.actions.messaging import SendSlack, SendSms, SendWhatsApp
from beez.executor.actions.providers import (
    enrich,
    google_sheets,
    hooks,
    hubspot,
    salesforce,
    set_b,
    shopify,
    stripe,
)
from beez.executor.actions.redaction import Redacting, Redactor, credentials
from beez.executor.actions.requests import REQUEST_VERBS, Requester, platform_requests
from beez.executor.actions.settings import ActionSettings
from beez.executor.actions.ssrf import Resolver
from beez.kit.bus.topology import Topology
from beez.kit.tracking import TrackingKeys
from beez.workflow.senders import SenderPolicy

__all__ = ["ACTION_TYPES", "ActionRegistry", "build_registry"]

ACTION_TYPES: tuple[str, ...] = (
    "send_email",
    "send_whatsapp",
    "send_sms",
    "send_slack",
    "webhook",
    "call_api",
    "add_tag",
    "remove_tag",
    "update_field",
    "add_to_list",
    "remove_from_list",
    "update_score",
    "assign_user",
    *COMMAND_VERBS,
    "calculate_lead_score",
    *sorted(REQUEST_VERBS),
    "create_task",
    "set_variable",
    "trigger_automation",
    "send_internal_notification",
    *(type_ for type_ in tasks.SCOPED_TYPES if type_ != "create_task"),
    "update_stripe_subscription",
    "create_shopify_order",
    "append_google_sheets_row",
    "create_salesforce_lead",
    "update_hubspot_contact",
    "send_zapier_webhook",
    "send_make_webhook",
    "enrich_contact",
    "send_push",
    "schedule_email",
    "cancel_scheduled_message",
    "send_personalized_video",
    "send_survey",
    "create_email_draft",
    "forward_email_to_team",
    *set_b.TYPES,
    *control.CONTROL_ACTION_TYPES,
)
"""Every non-control type of the catalog, each with an action in the registry."""


class ActionRegistry(dict[str, Action]):  # values are Redacting wrappers (with ``preview``)
    """Actions by type, plus the shared HTTP client they use (closed by :meth:`aclose`)."""

    def __init__(self, actions: dict[str, Action], http: OutboundHttp) -> None:
        super().__init__(actions)
        self.http = http

    async def aclose(self) -> None:
        """Closes the HTTP client the registry created (not one that was passed in)."""
        await self.http.aclose()


def build_registry(
    settings: ActionSettings,
    http: httpx.AsyncClient | None = None,
    *,
    resolver: Resolver | None = None,
    signing: SigningLookup | None = None,
    senders: SenderPolicy | None = None,
    tracking_keys: TrackingKeys | None = None,
    topology: Topology | None = None,
    requester: Requester | None = None,
) -> ActionRegistry:
    """The actions of every catalog type the executor runs (control types are the engine's).

    ``resolver`` replaces the system DNS resolver of the SSRF guard (tests). ``signing`` looks up
    the secrets that sign an organization's webhook and call_api requests (none: unsigned).
    ``senders``: who each organization may send email as (none: the default From address only).
    ``tracking_keys`` sign the tracked links and open pixels of HTML emails (none: untracked).
    ``requester`` sends the request-reply CRM verbs on ``topology``'s subjects (none: those steps
    fail transiently until there is one; decision 0042).
    """
    outbound = OutboundHttp(settings, http, resolver=resolver)
    email = SendEmail(settings, senders, tracking_keys)
    whatsapp, sms = SendWhatsApp(settings, outbound), SendSms(settings, outbound)
    actions: list[Action] = [
        email,
        whatsapp,
        sms,
        SendSlack(settings, outbound),
        Webhook(settings, outbound, signing),
        CallApi(settings, outbound, signing),
        crm.AddTag(),
        crm.RemoveTag(),
        crm.UpdateField(),
        crm.AddToList(),
        crm.RemoveFromList(),
        crm.UpdateScore(),
        crm.AssignUser(),
        *crm_commands(),
        *platform_requests(settings, topology or Topology(), requester),
        internal.SetVariable(),
        internal.TriggerAutomation(settings),
        internal.SendInternalNotification(),
        *tasks.scoped_actions(),
        stripe.UpdateStripeSubscription(settings, outbound),
        shopify.CreateShopifyOrder(settings, outbound),
        google_sheets.AppendGoogleSheetsRow(settings, outbound),
        salesforce.CreateSalesforceLead(settings, outbound),
        hubspot.UpdateHubspotContact(settings, outbound),
        hooks.SendZapierWebhook(settings, outbound),
        hooks.SendMakeWebhook(settings, outbound),
        enrich.EnrichContact(settings, outbound, signing),
        *comms.actions(
            settings, outbound, email, {"email": email, "sms": sms, "whatsapp": whatsapp}, tracking_keys
        ),
        *set_b.actions(settings, outbound),
        *control.control_actions(),
    ]
    redactor = Redactor(credentials(settings))
    return ActionRegistry({action.type: Redacting(action, redactor) for action in actions}, outbound)
