"""``update_hubspot_contact``: CRM v3 contacts, by email.

``PATCH /crm/v3/objects/contacts/{email}?idProperty=email`` with ``{"properties": {...}}``
(the contact must exist: 404 otherwise), or with ``create_if_missing``,
``POST /crm/v3/objects/contacts/batch/upsert`` with ``{"inputs": [{"idProperty": "email",
"id": email, "properties": {...}}]}`` (creates the contact when no contact has that email). The
connection's OAuth2 access token is the bearer token. Errors are ``{"status": "error",
"message", "category", "correlationId"}``: 400 ``VALIDATION_ERROR`` (an unknown property, an
invalid option) fails the step with the message; 429 (``policyName`` TEN_SECONDLY_ROLLING or
DAILY) and 5xx retry, and a 429 lowers the connection's rate (decision 0040).

Idempotency: both calls set properties to given values, so a repeat after a crash writes the
same values again and changes nothing (HubSpot takes no key and needs none here).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from beez.executor.actions.base import ActionContext, ActionResult, ConnectionAccess, PermanentError
from beez.executor.actions.http import HttpResponse
from beez.executor.actions.providers.base import ProviderAction, ProviderRequest, answer_json

__all__ = ["UpdateHubspotContact"]


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


class UpdateHubspotContact(ProviderAction):
    """``update_hubspot_contact``: ``connection``, ``email`` (default the contact's),
    ``properties`` (HubSpot property names to values), ``create_if_missing``.

    Output: ``hubspot_id``, ``created`` (upsert made a new contact), ``status_code``.
    """

    type = "update_hubspot_contact"
    provider = "hubspot"
    label = "HubSpot"
    default_base_url = "https://api.hubapi.com"
    idempotency = "naturally idempotent: the same properties set again change nothing"

    async def build(self, ctx: ActionContext, connection: ConnectionAccess | None) -> ProviderRequest:
        assert connection is not None
        config = ctx.config
        email = str(config.get("email") or ctx.contact.get("email") or "").strip()
        if not email:
            raise PermanentError("no email: the contact has none and `email` is empty", category="no_contact")
        properties = {str(name): _value(value) for name, value in (config.get("properties") or {}).items()}
        if not properties:
            raise PermanentError("`properties` is empty", category="invalid_config")
        headers = {"Authorization": f"Bearer {await connection.access_token()}"}
        base = self.base_url(connection)
        if config.get("create_if_missing"):
            return ProviderRequest(
                "POST",
                f"{base}/crm/v3/objects/contacts/batch/upsert",
                headers=headers,
                json={"inputs": [{"idProperty": "email", "id": email, "properties": properties}]},
            )
        return ProviderRequest(
            "PATCH",
            f"{base}/crm/v3/objects/contacts/{quote(email, safe='@')}?idProperty=email",
            headers=headers,
            json={"properties": properties},
        )

    def result(self, ctx: ActionContext, response: HttpResponse) -> ActionResult:
        answer = answer_json(response.content) or {}
        record = (answer.get("results") or [answer])[0] if isinstance(answer, dict) else {}
        return ActionResult(
            output={
                "hubspot_id": str(record.get("id", "")),
                "created": bool(record.get("new", False)),
                "status_code": response.status_code,
            }
        )

    def provider_message(self, status: int, body: Any) -> str | None:
        if not isinstance(body, dict) or not body.get("message"):
            return None
        category = f" ({body['category']})" if body.get("category") else ""
        return f"{body['message']}{category}"
