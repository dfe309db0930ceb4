"""``sync_crm``: upsert the contact as a person in Pipedrive or a lead in Close, by email.

The step's connection says which CRM (decision 0040): a Pipedrive or a Close connection.

- Pipedrive (API v2, the connection's API token in ``x-api-token``):
  ``GET /api/v2/persons/search?term=<email>&fields=email&exact_match=true&limit=1``, then
  ``PATCH /api/v2/persons/<id>`` for the person found or ``POST /api/v2/persons``, with
  ``{name, emails: [{value, primary, label}], phones?: [...]}``. Errors are
  ``{"success": false, "error", "error_info"?}``.
- Close (HTTP Basic auth, the API key as user name and an empty password):
  ``GET /api/v1/lead/?query=email_address:"<email>"&_limit=1&_fields=id,display_name``, then
  ``PUT /api/v1/lead/<id>/`` (a partial update: the lead's ``name``) when ``organization`` is
  given, or ``POST /api/v1/lead/`` with ``{name, contacts: [{name, emails: [{email, type}],
  phones?: [...]}]}``. Errors are ``{"error": ..., "field-errors": {...}}``.

Idempotency is natural, by the email: neither CRM documents an idempotency key, but an attempt
repeated after a crash finds the record the first one made and updates it, so the CRM keeps one
person (or lead) per email. Both CRMs index new records for search within seconds; a repeat
inside that window (an immediate redelivery) can still create a second record, the documented
duplicate window of this action. 429 and 5xx retry (Close's ``rate_reset`` seconds when no
``Retry-After``); validation errors fail the step with the CRM's message.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from beez.executor.actions.base import (
    ActionContext,
    ActionResult,
    ConnectionAccess,
    PermanentError,
    TransientError,
)
from beez.executor.actions.http import HttpResponse, HttpTransientError, OutboundHttp
from beez.executor.actions.preview import Preview
from beez.executor.actions.providers.auth import basic
from beez.executor.actions.providers.base import ProviderRequest, answer_json
from beez.executor.actions.providers.steps import MultiStepAction
from beez.executor.actions.settings import ActionSettings

__all__ = ["CloseSync", "PipedriveSync", "SyncCrm"]


def _person(ctx: ActionContext) -> tuple[str, str, str]:
    """(name, email, phone) from the config, else the contact."""
    config, contact = ctx.config, ctx.contact
    email = str(config.get("email") or contact.get("email") or "").strip()
    if not email:
        raise PermanentError(
            "no email: the contact has none and `email` is not set", category="invalid_config"
        )
    full = " ".join(str(contact.get(k) or "").strip() for k in ("first_name", "last_name")).strip()
    name = str(config.get("name") or full or email).strip()
    phone = str(config.get("phone") or contact.get("phone") or "").strip()
    return name, email, phone


class PipedriveSync(MultiStepAction):
    """The Pipedrive half of ``sync_crm``."""

    type = "sync_crm"
    provider = "pipedrive"
    label = "Pipedrive"
    default_base_url = "https://api.pipedrive.com"
    idempotency = "natural: one person per email (searched before the write)"

    def headers(self, connection: ConnectionAccess) -> dict[str, str]:
        return {"x-api-token": connection.credentials["api_token"]}

    async def first(self, ctx: ActionContext, connection: ConnectionAccess | None) -> ProviderRequest:
        assert connection is not None
        name, email, phone = _person(ctx)
        base = f"{self.base_url(connection)}/api/v2/persons"
        body: dict[str, Any] = {"name": name, "emails": [{"value": email, "primary": True, "label": "work"}]}
        if phone:
            body["phones"] = [{"value": phone, "primary": True, "label": "mobile"}]
        found = None
        if not self.previewing:
            query = urlencode({"term": email, "fields": "email", "exact_match": "true", "limit": "1"})
            answer = await self.lookup(
                ctx,
                ProviderRequest(
                    "GET",
                    f"{base}/search?{query}",
                    headers=self.headers(connection),
                    credential_headers=("x-api-token",),
                ),
            )
            data = answer.get("data") if isinstance(answer, dict) else None
            items = data.get("items") if isinstance(data, dict) else None
            item = (
                items[0].get("item")
                if isinstance(items, list) and items and isinstance(items[0], dict)
                else None
            )
            found = item.get("id") if isinstance(item, dict) else None
        if found is not None:
            url, method = f"{base}/{quote(str(found), safe='')}", "PATCH"
        else:
            url, method = base, "POST"
        return ProviderRequest(
            method, url, headers=self.headers(connection), json=body, credential_headers=("x-api-token",)
        )

    def result(self, ctx: ActionContext, response: HttpResponse) -> ActionResult:
        answer = answer_json(response.content) or {}
        data = answer.get("data") if isinstance(answer, dict) else None
        data = data if isinstance(data, dict) else {}
        return ActionResult(
            output={
                "crm": "pipedrive",
                "record_id": str(data.get("id", "")),
                "created": not response.url.path.rstrip("/").split("/")[-1].isdigit(),
                "status_code": response.status_code,
            }
        )

    def provider_message(self, status: int, body: Any) -> str | None:
        if not isinstance(body, dict) or not body.get("error"):
            return None
        info = body.get("error_info")
        return f"{body['error']}" + (f" ({info})" if info else "")


class CloseSync(MultiStepAction):
    """The Close half of ``sync_crm``."""

    type = "sync_crm"
    provider = "close"
    label = "Close"
    default_base_url = "https://api.close.com"
    idempotency = "natural: one lead per contact email (searched before the write)"

    def headers(self, connection: ConnectionAccess) -> dict[str, str]:
        return {"Authorization": basic(connection.credentials["api_key"], "")}

    async def first(self, ctx: ActionContext, connection: ConnectionAccess | None) -> ProviderRequest:
        assert connection is not None
        name, email, phone = _person(ctx)
        organization = str(ctx.config.get("organization") or "").strip()
        base = f"{self.base_url(connection)}/api/v1/lead/"
        found = None
        if not self.previewing:
            query = urlencode(
                {"query": f'email_address:"{email}"', "_limit": "1", "_fields": "id,display_name"}
            )
            answer = await self.lookup(
                ctx, ProviderRequest("GET", f"{base}?{query}", headers=self.headers(connection))
            )
            data = answer.get("data") if isinstance(answer, dict) else None
            lead = data[0] if isinstance(data, list) and data and isinstance(data[0], dict) else None
            found = lead.get("id") if lead is not None else None
        if found is not None:
            update = {"name": organization} if organization else {}
            return ProviderRequest(
                "PUT", f"{base}{quote(str(found), safe='')}/", headers=self.headers(connection), json=update
            )
        contact: dict[str, Any] = {"name": name, "emails": [{"email": email, "type": "office"}]}
        if phone:
            contact["phones"] = [{"phone": phone, "type": "mobile"}]
        return ProviderRequest(
            "POST",
            base,
            headers=self.headers(connection),
            json={"name": organization or name, "contacts": [contact]},
        )

    async def run(self, ctx: ActionContext) -> ActionResult:
        try:
            return await super().run(ctx)
        except TransientError as exc:
            cause = exc.__cause__
            if exc.retry_after is None and isinstance(cause, HttpTransientError):
                body = answer_json(cause.body)
                error = body.get("error") if isinstance(body, dict) else None
                reset = error.get("rate_reset") if isinstance(error, dict) else None
                if isinstance(reset, int | float) and reset >= 0:
                    exc.retry_after = min(float(reset), self.settings.http_retry_after_cap_s)
            raise

    def result(self, ctx: ActionContext, response: HttpResponse) -> ActionResult:
        answer = answer_json(response.content) or {}
        return ActionResult(
            output={
                "crm": "close",
                "record_id": str(answer.get("id", "")),
                "created": response.url.path.rstrip("/").endswith("/lead"),
                "status_code": response.status_code,
            }
        )

    def provider_message(self, status: int, body: Any) -> str | None:
        if not isinstance(body, dict):
            return None
        error = body.get("error")
        if isinstance(error, dict):
            error = error.get("message")
        fields = body.get("field-errors")
        parts = [str(error)] if error else []
        if isinstance(fields, dict):
            parts += [f"{name}: {text}" for name, text in fields.items()]
        return "; ".join(parts) or None


class SyncCrm:
    """``sync_crm``: ``connection`` (Pipedrive or Close), ``name``, ``email``, ``phone`` (default
    the contact's), ``organization`` (Close: the lead's name).

    Output: ``crm``, ``record_id``, ``created``, ``status_code``.
    """

    type = "sync_crm"

    def __init__(self, settings: ActionSettings, http: OutboundHttp) -> None:
        self.crms: dict[str, MultiStepAction] = {
            "pipedrive": PipedriveSync(settings, http),
            "close": CloseSync(settings, http),
        }

    def _crm(self, ctx: ActionContext) -> MultiStepAction:
        provider = ctx.connection.provider if ctx.connection is not None else ""
        crm = self.crms.get(provider)
        if crm is None:
            raise PermanentError(
                "sync_crm needs a Pipedrive or Close connection (`connection`)", category="connection"
            )
        return crm

    async def preview(self, ctx: ActionContext) -> Preview:
        return await self._crm(ctx).preview(ctx)

    async def run(self, ctx: ActionContext) -> ActionResult:
        return await self._crm(ctx).run(ctx)
