"""Settings of the actions: providers, credentials, HTTP limits and the SSRF allowlist.

:class:`ActionSettings` is a plain pydantic model so the executor's ``ExecutorSettings`` can
embed it (``actions: ActionSettings = ActionSettings()``) and read it from the environment with
a nested delimiter. Credentials are :class:`~pydantic.SecretStr`, so they never show in a repr
or a log line.
"""

from __future__ import annotations

import ipaddress
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

__all__ = ["ActionSettings", "EmailTemplate", "OrgTracking"]


class OrgTracking(BaseModel):
    """One organization's email tracking (decision 0041): unset follows the platform's default."""

    model_config = ConfigDict(frozen=True)

    opens: bool | None = None
    clicks: bool | None = None


class EmailTemplate(BaseModel):
    """A stored email template, referenced by name from ``send_email``'s ``template``.

    ``subject`` and ``body`` are Jinja2 templates rendered in the same sandbox as action
    configs, with the step's ``contact``, ``event``, ``vars`` and ``execution``.
    """

    model_config = ConfigDict(frozen=True)

    subject: str
    body: str


class ActionSettings(BaseModel):
    """How the executor's actions reach the outside world."""

    model_config = ConfigDict(frozen=True)

    # --- email (SMTP) ---
    smtp_host: str = Field(default="", description="SMTP server; empty means email is not configured.")
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_use_tls: bool = Field(default=False, description="Implicit TLS from the first byte (port 465).")
    smtp_start_tls: bool | None = Field(
        default=None,
        description=(
            "STARTTLS: True requires it, False never, None upgrades when the server offers it. With "
            "smtp_username set it is always required (credentials never travel in clear)."
        ),
    )
    smtp_validate_certs: bool = True
    smtp_ca_file: str = Field(
        default="", description="CA that verifies the SMTP server (system roots when empty)."
    )
    smtp_timeout_s: float = Field(default=30.0, gt=0)
    default_from: str = Field(default="", description="From address when a step gives none.")
    email_templates: dict[str, EmailTemplate] = Field(
        default_factory=dict, description="Stored templates by name, for send_email's `template`."
    )

    # --- engagement tracking (decision 0041) ---
    tracking_base_url: str = Field(
        default="",
        description=(
            "The gateway's public URL (https://track.example.com) that tracked links and the open "
            "pixel of HTML emails point at (/t/c/..., /t/o/...); empty: emails are not tracked."
        ),
    )
    tracking_opens: bool = Field(default=True, description="Add the open pixel unless org or step say no.")
    tracking_clicks: bool = Field(default=True, description="Track links unless an org or step says no.")
    tracking_orgs: dict[str, OrgTracking] = Field(
        default_factory=dict, description="Per organization id: its own opens/clicks default."
    )
    callbacks_base_url: str = Field(
        default="",
        description=(
            "The gateway's public URL that SMS delivery callbacks go to (StatusCallback "
            "{url}/callbacks/twilio/{org}); empty: no StatusCallback is sent."
        ),
    )

    # --- WhatsApp Cloud API ---
    whatsapp_base_url: str = "https://graph.facebook.com/v21.0"
    whatsapp_token: SecretStr = SecretStr("")
    whatsapp_phone_number_id: str = ""
    whatsapp_template_language: str = Field(
        default="en_US", description="Language code sent with WhatsApp template messages."
    )

    # --- SMS (Twilio-compatible) ---
    sms_base_url: str = "https://api.twilio.com/2010-04-01"
    sms_account_sid: str = ""
    sms_auth_token: SecretStr = SecretStr("")
    sms_from: str = Field(
        default="",
        description="Sender number, or a Messaging Service SID (MG...) sent as MessagingServiceSid.",
    )

    # --- Slack ---
    slack_default_webhook_url: SecretStr = Field(
        default=SecretStr(""), description="Incoming webhook used when a step gives no webhook_url."
    )

    # --- connections (decision 0040) ---
    provider_base_urls: dict[str, str] = Field(
        default_factory=dict,
        description="Base URL per connection provider (slack, stripe, hubspot, salesforce, google, "
        "shopify), over the documented one; WhatsApp and Twilio use whatsapp_base_url and "
        "sms_base_url. Provider actions with an API host of their own read theirs here too "
        "(google_sheets; zapier and make, whose hook URLs must then be under it).",
    )

    fcm_token_url: str = Field(
        default="https://oauth2.googleapis.com/token",
        description="Google's OAuth2 token endpoint, where an FCM connection's service account "
        "exchanges its signed JWT for an access token (the JWT's audience).",
    )

    # --- outgoing HTTP (webhook, call_api and the providers above) ---
    http_timeout_s: float = Field(default=10.0, gt=0, description="Bounds a whole call, redirects included.")
    http_max_redirects: int = Field(default=5, ge=0, le=20)
    http_max_response_bytes: int = Field(
        default=1_048_576, ge=1024, description="Response bodies are read up to this size."
    )
    http_retry_after_cap_s: float = Field(
        default=3600.0,
        gt=0,
        le=86_400,
        description="The longest wait a provider's Retry-After can ask for; longer values are cut to it.",
    )
    http_retry_after_jitter: float = Field(
        default=0.1,
        ge=0,
        le=1,
        description="A provider's Retry-After is stretched by up to this fraction at random, "
        "so retries spread.",
    )
    http_breaker_failures: int = Field(
        default=5,
        ge=0,
        description="Transient failures in a row (timeouts, connection errors, 5xx) that open a provider's "
        "circuit; 0 turns the breaker off.",
    )
    http_breaker_cooldown_s: float = Field(
        default=30.0,
        gt=0,
        description="How long an open circuit fails calls fast before one probe is let through.",
    )
    output_body_chars: int = Field(
        default=2000, ge=0, description="How much of a response body the step log keeps."
    )
    ssrf_allowlist: list[str] = Field(
        default_factory=list,
        description="Hosts (exact, or *.suffix) or IPs/CIDRs reachable even when private or loopback.",
    )
    user_agent: str = "BeezAutomations/1.0 (+https://beez.example/automations)"

    # --- CRM requests (decision 0042) ---
    platform_request_timeout_s: float = Field(
        default=5.0,
        gt=0,
        le=60,
        description="How long a request-reply CRM step (create_contact, export_contact_data) waits "
        "for the CRM's answer before the attempt counts as a transient failure and is retried.",
    )

    # --- trigger_automation ---
    max_trigger_depth: int = Field(
        default=5, ge=1, description="How deep automations may start one another (A → B → C ...)."
    )

    @model_validator(mode="after")
    def _credentials_need_tls(self) -> Self:
        if self.smtp_username and not self.smtp_use_tls and self.smtp_start_tls is False:
            raise ValueError(
                "smtp_username is set but smtp_start_tls is false: SMTP credentials are only sent over "
                "TLS, so leave STARTTLS on (or use smtp_use_tls)"
            )
        return self

    @field_validator("ssrf_allowlist")
    @classmethod
    def _check_allowlist(cls, entries: list[str]) -> list[str]:
        cleaned = []
        for entry in entries:
            entry = entry.strip().lower().rstrip(".")
            if not entry:
                continue
            if "/" in entry:
                ipaddress.ip_network(entry, strict=False)  # raises ValueError: a bad CIDR
            cleaned.append(entry)
        return cleaned
