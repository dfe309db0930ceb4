""" "Test connection": one harmless, documented call per provider, against its base URL setting.

- Slack: ``POST /auth.test`` with the bot token (answers ``{"ok": true, ...}``; ``ok: false``
  with an ``error`` is a failure even with HTTP 200).
- Stripe: ``GET /v1/balance`` with the secret key as a bearer token (reads, changes nothing).
- WhatsApp: ``GET /<phone number id>?fields=id`` with the token (the phone number's node).
- Twilio: ``GET /Accounts/<sid>.json`` with HTTP Basic auth (the account resource).
- Shopify: ``GET /admin/api/<version>/shop.json`` with ``X-Shopify-Access-Token`` (the shop).
- Jira, Buffer, Mailchimp, Intercom, Pipedrive, Close, Asana, monday.com: :mod:`.probe_b`.
- HubSpot, Salesforce, Google: a refresh-token grant (:mod:`.oauth`), whose token is kept.
- SMTP: connect, EHLO, STARTTLS/AUTH when a username is given, QUIT: no message is sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

import aiosmtplib
import httpx

from beez.executor.actions.base import ActionError
from beez.executor.actions.http import OutboundHttp
from beez.executor.actions.providers.shopify import API_VERSION as SHOPIFY_API_VERSION
from beez.executor.actions.providers.shopify import shop_base_url
from beez.executor.connections import probe_b
from beez.executor.connections.providers import Provider

__all__ = ["Probe", "TestResult"]


@dataclass(frozen=True)
class TestResult:
    """Whether the call worked, and what it said (redacted of the credentials)."""

    ok: bool
    detail: str
    status_code: int = 0


class Probe:
    """Makes the test call of each provider."""

    def __init__(self, http: OutboundHttp, smtp_timeout_s: float = 10.0) -> None:
        self.http = http
        self.smtp_timeout_s = smtp_timeout_s

    async def call(
        self, provider: Provider, base_url: str, credentials: dict[str, str], now: datetime
    ) -> TestResult:
        """Calls the provider; an HTTP or protocol failure is a failed result, not an error."""
        base = base_url.rstrip("/")
        try:
            if provider is Provider.SMTP:
                return await self._smtp(credentials)
            if provider is Provider.SLACK:
                response = await self.http.request(
                    "POST",
                    f"{base}/auth.test",
                    now=now,
                    headers={"Authorization": f"Bearer {credentials['bot_token']}"},
                )
                answer = response.json()
                if not answer.get("ok"):
                    return TestResult(False, f"slack: {answer.get('error', 'not ok')}", response.status_code)
                return TestResult(True, f"slack team {answer.get('team', '')}".strip(), response.status_code)
            if provider is Provider.STRIPE:
                response = await self.http.request(
                    "GET",
                    f"{base}/v1/balance",
                    now=now,
                    headers={"Authorization": f"Bearer {credentials['secret_key']}"},
                )
                return TestResult(True, "stripe balance readable", response.status_code)
            if provider is Provider.WHATSAPP:
                number = quote(credentials["phone_number_id"], safe="")
                response = await self.http.request(
                    "GET",
                    f"{base}/{number}?fields=id",
                    now=now,
                    headers={"Authorization": f"Bearer {credentials['token']}"},
                )
                return TestResult(True, "whatsapp phone number readable", response.status_code)
            if provider is Provider.SHOPIFY:
                shop = shop_base_url("" if "{shop}" in base else base, credentials["shop"])
                response = await self.http.request(
                    "GET",
                    f"{shop}/admin/api/{SHOPIFY_API_VERSION}/shop.json",
                    now=now,
                    headers={"X-Shopify-Access-Token": credentials["access_token"]},
                    credential_headers=("X-Shopify-Access-Token",),
                )
                name = (response.json().get("shop") or {}).get("name", "")
                return TestResult(True, f"shopify shop {name}".strip(), response.status_code)
            found = await probe_b.probe(self.http, provider, base_url, credentials, now)
            if found is not None:
                return TestResult(*found)
            if provider is Provider.TWILIO:
                sid = quote(credentials["account_sid"], safe="")
                response = await self.http.request(
                    "GET",
                    f"{base}/Accounts/{sid}.json",
                    now=now,
                    auth=httpx.BasicAuth(credentials["account_sid"], credentials["auth_token"]),
                )
                return TestResult(True, "twilio account readable", response.status_code)
        except ActionError as exc:
            return TestResult(False, str(exc), int(getattr(exc, "status_code", 0)))
        except ValueError:
            return TestResult(False, f"{provider}: the answer is not JSON")
        raise ValueError(f"no test call for {provider}")  # OAuth2 providers refresh instead

    async def _smtp(self, credentials: dict[str, str]) -> TestResult:
        use_tls = credentials.get("use_tls", "").lower() in ("1", "true", "yes")
        username = credentials.get("username") or None
        client = aiosmtplib.SMTP(
            hostname=credentials["host"],
            port=int(credentials.get("port") or (465 if use_tls else 587)),
            use_tls=use_tls,
            start_tls=True if username and not use_tls else None,
            timeout=self.smtp_timeout_s,
        )
        try:
            await client.connect()
            if username:
                await client.login(username, credentials.get("password", ""))
            await client.quit()
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            return TestResult(False, f"smtp: {type(exc).__name__}: {exc}")
        return TestResult(True, "smtp server accepted the connection")
