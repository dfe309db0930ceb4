"""The providers an organization can connect, what each needs, and how fast each may be called.

Every provider's base URL is a setting (``ActionSettings.provider_base_urls``, falling back to
the documented one here; WhatsApp and Twilio use ``whatsapp_base_url`` / ``sms_base_url``), so
tests point them at local stand-ins. ``test_call`` is the one harmless, documented call that
"Test connection" makes (:mod:`.probe`).

Default rate limits come from each provider's documented limits, per connection (one account,
one token); an organization overrides them per connection (``SetConnectionRateLimit``). Where a
provider documents a limit per minute or per ten seconds, the rate here is that limit per
second and the burst what the provider's window lets through at once, rounded down.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from beez.kit.ratelimit import Limit
from beez.workflow import connections as rules

__all__ = [
    "ACTION_PROVIDERS",
    "PLATFORM_DEFAULT_PROVIDERS",
    "PROVIDERS",
    "Provider",
    "ProviderSpec",
    "provider_for_action",
    "resolve_base_url",
]


class Provider(StrEnum):
    """A provider an organization can connect."""

    SMTP = "smtp"
    WHATSAPP = "whatsapp"
    TWILIO = "twilio"
    SLACK = "slack"
    STRIPE = "stripe"
    HUBSPOT = "hubspot"
    SALESFORCE = "salesforce"
    GOOGLE = "google"
    SHOPIFY = "shopify"
    FCM = "fcm"
    JIRA = "jira"
    BUFFER = "buffer"
    MAILCHIMP = "mailchimp"
    INTERCOM = "intercom"
    PIPEDRIVE = "pipedrive"
    CLOSE = "close"
    ASANA = "asana"
    MONDAY = "monday"


@dataclass(frozen=True)
class ProviderSpec:
    """What connecting a provider takes, and its documented defaults."""

    provider: Provider
    required: tuple[str, ...]
    """Credential fields a connection must give."""
    optional: tuple[str, ...]
    """Credential fields it may give."""
    base_url: str
    """The documented API (or OAuth2 token) base URL; a setting overrides it."""
    limit: Limit
    """Default rate limit per connection (see the source beside each entry)."""
    oauth2: bool = False
    """Stores a refresh token; access tokens are refreshed once per connection (:mod:`.oauth`)."""
    token_path: str = ""
    """The OAuth2 token endpoint under ``base_url``."""
    service_account: bool = False
    """Gets access tokens with a signed JWT of a Google service account (RFC 7523) instead of a
    refresh token (:mod:`.service_account`); refreshed once per connection all the same."""


_OAUTH = ("client_id", "client_secret", "refresh_token")
_SITE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_DC = re.compile(r"^[a-z]{2,4}[0-9]{1,3}$")

PROVIDERS: dict[Provider, ProviderSpec] = {
    spec.provider: spec
    for spec in (
        # No documented API limit of its own: the relay's. 10/s burst 20 is a conservative default
        # for a submission server (Gmail/Workspace SMTP relays accept about 10 messages/s).
        ProviderSpec(
            Provider.SMTP,
            ("host",),
            ("port", "username", "password", "from", "use_tls"),
            "",
            Limit(rate=10, burst=20),
        ),
        # Meta Cloud API: 80 messages/s per business phone number by default
        # (developers.facebook.com/docs/whatsapp/cloud-api/overview#throughput).
        ProviderSpec(
            Provider.WHATSAPP,
            ("token", "phone_number_id"),
            ("app_secret", "verify_token"),  # to take the app's webhooks (decision 0041)
            "https://graph.facebook.com/v21.0",
            Limit(rate=80, burst=80),
        ),
        # Twilio: 100 concurrent API requests per account; long-code SMS is queued at 1 message
        # segment/s per number (twilio.com/docs/usage/rate-limits, help article 115002943027).
        ProviderSpec(
            Provider.TWILIO,
            ("account_sid", "auth_token", "from"),
            (),
            "https://api.twilio.com/2010-04-01",
            Limit(rate=1, burst=10),
        ),
        # Slack Web API chat.postMessage: about 1 message/s per channel, Tier 3 methods 50+/min
        # (api.slack.com/docs/rate-limits).
        ProviderSpec(Provider.SLACK, ("bot_token",), (), "https://slack.com/api", Limit(rate=1, burst=5)),
        # Stripe: 100 read and 100 write operations/s in live mode (docs.stripe.com/rate-limits).
        ProviderSpec(
            Provider.STRIPE, ("secret_key",), (), "https://api.stripe.com", Limit(rate=100, burst=100)
        ),
        # HubSpot (OAuth apps): 110 requests per 10 s per account
        # (developers.hubspot.com/docs/api/usage-details).
        ProviderSpec(
            Provider.HUBSPOT,
            _OAUTH,
            (),
            "https://api.hubapi.com",
            Limit(rate=11, burst=110),
            oauth2=True,
            token_path="/oauth/v1/token",
        ),
        # Salesforce: 100,000 API requests per 24 h for Enterprise Edition plus per licence, and
        # 25 long-running concurrent requests (developer.salesforce.com, "API Request Limits and
        # Allocations"): about 1/s sustained.
        ProviderSpec(
            Provider.SALESFORCE,
            _OAUTH,
            ("instance_url",),
            "https://login.salesforce.com",
            Limit(rate=1, burst=25),
            oauth2=True,
            token_path="/services/oauth2/token",
        ),
        # Google Sheets API: 300 requests per minute per project, 60 per minute per user
        # (developers.google.com/sheets/api/limits).
        ProviderSpec(
            Provider.GOOGLE,
            _OAUTH,
            (),
            "https://oauth2.googleapis.com",
            Limit(rate=1, burst=60),
            oauth2=True,
            token_path="/token",
        ),
        # Shopify Admin REST API: a leaky bucket of 40 requests per app and store, leaking
        # 2 requests/s on standard plans (shopify.dev/docs/api/usage/limits#rest-admin-api-rate-limits).
        # The base URL is the shop's own: {shop} is the connection's `shop`.
        ProviderSpec(
            Provider.SHOPIFY,
            ("shop", "access_token"),
            (),
            "https://{shop}.myshopify.com",
            Limit(rate=2, burst=40),
        ),
        # Firebase Cloud Messaging HTTP v1: 600,000 messages per minute per project
        # (firebase.google.com/docs/cloud-messaging/throttling-and-quotas): 10,000/s, and a
        # second's worth at once since the minutes are not aligned to the clock.
        ProviderSpec(
            Provider.FCM,
            ("service_account_json",),
            ("project_id",),
            "https://fcm.googleapis.com",
            Limit(rate=10_000, burst=10_000),
            oauth2=True,
            service_account=True,
        ),
        # Jira Cloud: cost-based budgets per site, 429 with Retry-After; writes to one issue are
        # held to about 20 per 2 s (developer.atlassian.com/cloud/jira/platform/rate-limiting).
        # The base URL is the organization's site: {site} comes from the connection.
        ProviderSpec(
            Provider.JIRA,
            ("site", "email", "api_token"),
            (),
            "https://{site}.atlassian.net",
            Limit(rate=10, burst=20),
        ),
        # Buffer's GraphQL API: 100 requests per rolling 15 minutes per client on every plan
        # (developers.buffer.com/guides/api-limits).
        ProviderSpec(
            Provider.BUFFER, ("api_key",), (), "https://api.buffer.com", Limit(rate=100 / 900, burst=100)
        ),
        # Mailchimp Marketing API: 10 simultaneous connections per user, no per-second figure
        # (mailchimp.com/developer/marketing/docs/fundamentals/#api-limits). The data center
        # {dc} is the API key's suffix (``...-us21``).
        ProviderSpec(
            Provider.MAILCHIMP,
            ("api_key",),
            (),
            "https://{dc}.api.mailchimp.com/3.0",
            Limit(rate=10, burst=10),
        ),
        # Intercom: 10,000 calls per minute per app (25,000 per workspace), enforced over 10 s
        # windows (developers.intercom.com/docs/references/rest-api/errors/rate-limiting).
        ProviderSpec(
            Provider.INTERCOM,
            ("access_token",),
            (),
            "https://api.intercom.io",
            Limit(rate=166, burst=1666),
        ),
        # Pipedrive: a daily token budget per company plus a burst limit per token over a rolling
        # 2 s window, 20 requests on the smallest plan (pipedrive.readme.io/docs/core-api-concepts-
        # rate-limiting).
        ProviderSpec(
            Provider.PIPEDRIVE, ("api_token",), (), "https://api.pipedrive.com", Limit(rate=10, burst=20)
        ),
        # Close: limits per endpoint group and API key (the organization's 3x that), announced in
        # each answer's RateLimit header rather than as one published figure; 429 with the reset
        # time (developer.close.com/api/overview/rate-limits). A conservative default.
        ProviderSpec(Provider.CLOSE, ("api_key",), (), "https://api.close.com", Limit(rate=10, burst=20)),
        # Asana: 150 requests per minute on free workspaces, 1,500 on paid ones; 429 with
        # Retry-After (developers.asana.com/docs/rate-limits). The free figure.
        ProviderSpec(
            Provider.ASANA,
            ("access_token",),
            (),
            "https://app.asana.com/api/1.0",
            Limit(rate=2.5, burst=150),
        ),
        # monday.com: a per-minute query limit by plan (500 on Pro), a complexity budget per
        # minute, 429 with Retry-After (developer.monday.com/api-reference/docs/rate-limits).
        ProviderSpec(
            Provider.MONDAY, ("api_token",), (), "https://api.monday.com/v2", Limit(rate=500 / 60, burst=500)
        ),
    )
}

ACTION_PROVIDERS: dict[str, frozenset[Provider]] = {
    action: frozenset(Provider(p) for p in providers) for action, providers in rules.ACTION_PROVIDERS.items()
}
"""The providers whose connection each action type can use (the rule lives in libs/workflow,
which validation shares)."""

PLATFORM_DEFAULT_PROVIDERS: dict[str, Provider] = {
    action: Provider(provider) for action, provider in rules.DEFAULT_PROVIDERS.items()
}
"""Actions that use the organization's only connection of a provider when the step names none
(the platform's shared settings otherwise)."""


def resolve_base_url(base_url: str, credentials: Mapping[str, str]) -> str:
    """``base_url`` with the connection's own part filled in: Jira's ``{site}`` (``acme`` for
    acme.atlassian.net), Mailchimp's ``{dc}`` (the API key's suffix after its last ``-``). A URL
    without placeholders (a base URL setting) is returned as it is.
    """
    if "{site}" in base_url:
        site = credentials.get("site", "").strip()
        if not _SITE.match(site):
            raise ValueError(f"jira site {site!r} is not a site name (acme for acme.atlassian.net)")
        base_url = base_url.replace("{site}", site)
    if "{dc}" in base_url:
        _, _, dc = credentials.get("api_key", "").rpartition("-")
        if not _DC.match(dc):
            raise ValueError("the mailchimp API key carries no data center suffix (...-us21)")
        base_url = base_url.replace("{dc}", dc)
    return base_url


def provider_for_action(action_type: str) -> Provider | None:
    """The provider an action uses implicitly (its platform default), if it has one."""
    return PLATFORM_DEFAULT_PROVIDERS.get(action_type)
