"""``create_salesforce_lead``: ``POST {instance_url}/services/data/v60.0/sobjects/Lead/``.

The REST API's sObject create with the Lead's fields as JSON (``LastName`` and ``Company``
required) and the connection's OAuth2 access token as a bearer token. ``instance_url`` is the
host the token answer names (kept in the connection's credentials, or given when connecting).
A created lead answers 201 ``{"id", "success": true, "errors": []}``; errors are a list
``[{"message", "errorCode", "fields"}]`` (400 ``REQUIRED_FIELD_MISSING``,
``INVALID_FIELD``, ``DUPLICATES_DETECTED``...), and the step fails with their messages.
``REQUEST_LIMIT_EXCEEDED`` (403: the org's API allocation is spent) and ``SERVER_UNAVAILABLE``
are transient.

Idempotency: sObject create takes no idempotency key, so this action has a duplicate window: a
crash after Salesforce created the lead and before the step's result is committed creates a
second lead when the attempt is redelivered, unless the org's duplicate rules block it.
"""

from __future__ import annotations

import re
from typing import Any

from beez.executor.actions.base import (
    ActionContext,
    ActionResult,
    ConnectionAccess,
    PermanentError,
    TransientError,
)
from beez.executor.actions.http import HttpResponse
from beez.executor.actions.providers.base import ProviderAction, ProviderRequest, answer_json, required_text

__all__ = ["API_VERSION", "CreateSalesforceLead"]

API_VERSION = "v60.0"
_STANDARD = {
    "first_name": "FirstName",
    "email": "Email",
    "phone": "Phone",
    "title": "Title",
    "lead_source": "LeadSource",
    "status": "Status",
    "description": "Description",
}
_API_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,79}$")
_TRANSIENT_CODES = frozenset({"REQUEST_LIMIT_EXCEEDED", "SERVER_UNAVAILABLE", "UNABLE_TO_LOCK_ROW"})


def _errors(body: Any) -> list[dict[str, Any]]:
    if isinstance(body, list):
        return [e for e in body if isinstance(e, dict)]
    return []


class CreateSalesforceLead(ProviderAction):
    """``create_salesforce_lead``: ``connection``, ``last_name``, ``company``, ``first_name``,
    ``email`` (default the contact's), ``phone``, ``title``, ``lead_source``, ``status``,
    ``description``, ``fields`` (more Lead fields by API name, ``Industry``, ``Score__c``).

    Output: ``lead_id``, ``status_code``.
    """

    type = "create_salesforce_lead"
    provider = "salesforce"
    label = "Salesforce"
    default_base_url = ""
    idempotency = "none: duplicate window (the org's duplicate rules may block the second lead)"

    async def build(self, ctx: ActionContext, connection: ConnectionAccess | None) -> ProviderRequest:
        assert connection is not None
        config = ctx.config
        lead: dict[str, Any] = {
            "LastName": required_text(config, "last_name"),
            "Company": required_text(config, "company"),
        }
        for name, api_name in _STANDARD.items():
            value = config.get(name)
            if name == "email" and not value:
                value = ctx.contact.get("email")
            if value not in (None, ""):
                lead[api_name] = value
        for api_name, value in (config.get("fields") or {}).items():
            if not _API_NAME.match(str(api_name)):
                raise PermanentError(
                    f"`fields.{api_name}` is not a Salesforce field API name", category="invalid_config"
                )
            lead[str(api_name)] = value
        token = await connection.access_token()
        instance = connection.credentials.get("instance_url", "")
        if not instance:
            # The first refresh of a connection stores instance_url ("Test connection" does one);
            # this attempt's credentials were read before it: the retry reads them again.
            raise TransientError(
                "the Salesforce connection's instance_url was not known yet; retrying with it",
                category="connection",
            )
        return ProviderRequest(
            "POST",
            f"{instance.rstrip('/')}/services/data/{API_VERSION}/sobjects/Lead/",
            headers={"Authorization": f"Bearer {token}"},
            json=lead,
        )

    def result(self, ctx: ActionContext, response: HttpResponse) -> ActionResult:
        answer = answer_json(response.content) or {}
        return ActionResult(
            output={"lead_id": str(answer.get("id", "")), "status_code": response.status_code}
        )

    def provider_message(self, status: int, body: Any) -> str | None:
        errors = _errors(body)
        if not errors:
            return None
        parts = []
        for error in errors:
            fields = error.get("fields") or []
            where = f" [{', '.join(map(str, fields))}]" if fields else ""
            parts.append(f"{error.get('errorCode', '')}: {error.get('message', '')}{where}")
        return "; ".join(parts)

    def transient(self, status: int, body: Any) -> bool:
        return any(error.get("errorCode") in _TRANSIENT_CODES for error in _errors(body))
