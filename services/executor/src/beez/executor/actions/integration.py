"""webhook and call_api: author-chosen HTTP requests, signed, through the SSRF guard.

Both send ``X-Beez-Idempotency-Key`` and, when the execution's organization has webhook signing
secrets, ``X-Beez-Signature: t=<unix>,kid=<key id>,v1=<hex>[,kid=...,v1=...]``: per secret, the
HMAC-SHA256 of ``"<t>.<body bytes>"`` (an empty body for GET/DELETE), ``t`` taken from the step's
clock. The secrets are looked up by the execution's organization (``signing``), never given by
the step, so no organization can sign as another. A receiver recomputes the signature of the key
id it holds over the raw body it got (see :func:`.http.verify_signature`). A body that is an
object or a list is sent as compact JSON, text as ``text/plain`` unless the step's headers set a
``Content-Type``.

``webhook`` with no ``body`` on POST/PUT/PATCH sends the default payload: the automation,
execution and step ids, the contact fields its ``include_fields`` lists (default
:data:`DEFAULT_INCLUDE_FIELDS`, the contact's id and email: data minimization, decision 0040),
and the event's id, type and data (never the contact snapshot an event may carry).

``call_api`` may name an organization's connection (``connection``: Slack, Stripe, HubSpot,
Salesforce or Google; decision 0040): the request then carries ``Authorization: Bearer`` with
its token (an OAuth2 access token, refreshed once per connection across replicas), and only
goes to a URL under that provider's base URL.

``call_api`` keeps the answer in ``vars.<save_as>`` (parsed JSON when the answer says it is JSON,
else text); an answer larger than ``http_max_response_bytes`` cannot be saved and fails the step
(``response_too_large``).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

import httpx

from beez.executor.actions.base import ActionContext, ActionResult, ConnectionAccess, PermanentError
from beez.executor.actions.http import (
    HttpResponse,
    OutboundHttp,
    SigningSecret,
    check_headers,
    json_body,
    safe_url,
)
from beez.executor.actions.outgoing import OutgoingRequest
from beez.executor.actions.preview import Preview, http_preview
from beez.executor.actions.settings import ActionSettings

__all__ = ["DEFAULT_INCLUDE_FIELDS", "CallApi", "SigningLookup", "Webhook", "minimal_contact"]

DEFAULT_INCLUDE_FIELDS: tuple[str, ...] = ("id", "email")
"""The contact fields a webhook's default payload carries when its config lists none."""

SigningLookup = Callable[[str, datetime], Awaitable[Sequence[SigningSecret]]]
"""The secrets that sign an organization's requests at a time (``SigningSecrets.signing``)."""

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def minimal_contact(contact: dict[str, Any], include: Sequence[str]) -> dict[str, Any]:
    """Only the ``include`` fields of ``contact``; a dotted path (``fields.plan``) takes a nested
    value and keeps its nesting. Fields the contact does not have are left out."""
    picked: dict[str, Any] = {}
    for path in include:
        value: Any = contact
        parts = str(path).split(".")
        for part in parts:
            if not isinstance(value, dict) or part not in value:
                break
            value = value[part]
        else:
            into = picked
            for part in parts[:-1]:
                into = into.setdefault(part, {})
            into[parts[-1]] = value
    return picked


_STATIC_TOKENS = {"slack": "bot_token", "stripe": "secret_key"}


async def _bearer(connection: ConnectionAccess, url: str) -> str:
    """The token a call through ``connection`` carries, once ``url`` is known to be the
    provider's: a connection's credentials never go anywhere else (an editor could otherwise
    send an admin's token to a server of their own)."""
    base = httpx.URL(connection.base_url)
    target = httpx.URL(url)
    prefix = base.path.rstrip("/") + "/"
    if (target.scheme, target.host, target.port) != (base.scheme, base.host, base.port) or not (
        target.path + "/"
    ).startswith(prefix):
        raise PermanentError(
            f"call_api with the {connection.provider} connection {connection.name!r} may only call "
            f"{safe_url(base)}",
            category="connection",
        )
    field = _STATIC_TOKENS.get(connection.provider)
    if field is not None:
        return connection.credentials[field]
    return await connection.access_token()


def _encode(body: Any, headers: dict[str, str]) -> bytes:
    has_type = any(name.lower() == "content-type" for name in headers)
    if isinstance(body, str):
        if not has_type:
            headers["Content-Type"] = "text/plain; charset=utf-8"
        return body.encode()
    if not has_type:
        headers["Content-Type"] = "application/json"
    return json_body(body)


class _HttpAction:
    type: str

    def __init__(
        self, settings: ActionSettings, http: OutboundHttp, signing: SigningLookup | None = None
    ) -> None:
        self.settings = settings
        self.http = http
        self.signing = signing

    def default_body(self, ctx: ActionContext) -> Any:
        return None

    def method(self, ctx: ActionContext) -> str:
        return str(ctx.config.get("method") or "POST").upper()

    async def prepare(self, ctx: ActionContext) -> OutgoingRequest:
        """The request :meth:`send` sends: the step's headers and body, the key, the signing secrets."""
        config = ctx.config
        method = self.method(ctx)
        headers = check_headers({str(k): str(v) for k, v in (config.get("headers") or {}).items()})
        body = config.get("body")
        if body is None and method in _BODY_METHODS:
            body = self.default_body(ctx)
        content = _encode(body, headers) if body is not None else None
        if ctx.connection is not None:
            headers["Authorization"] = f"Bearer {await _bearer(ctx.connection, str(config['url']))}"
        signing = await self.signing(ctx.org_id, ctx.now) if self.signing is not None else ()
        return self.http.prepare(
            method,
            str(config["url"]),
            headers=headers,
            content=content,
            idempotency_key=ctx.idempotency_key,
            signing=signing,
        )

    async def preview(self, ctx: ActionContext) -> Preview:
        return http_preview(await self.prepare(ctx), ctx.now)

    async def send(self, ctx: ActionContext) -> tuple[HttpResponse, bool]:
        """The answer, and whether the request was signed."""
        outgoing = await self.prepare(ctx)
        signed = bool(outgoing.signing)  # a redirect to another origin drops the signature
        timeout = ctx.config.get("timeout_s")
        response = await self.http.send(outgoing, now=ctx.now, timeout_s=float(timeout) if timeout else None)
        return response, signed

    def output(self, method: str, response: HttpResponse, signed: bool, body_key: str) -> dict[str, Any]:
        limit = self.settings.output_body_chars
        text = response.text
        return {
            "status_code": response.status_code,
            "method": method,
            "url": safe_url(response.url),
            "redirects": response.redirects,
            "signed": signed,
            body_key: text[:limit],
            "body_truncated": response.truncated or len(text) > limit,
        }


class Webhook(_HttpAction):
    """``webhook``: ``url``, ``method`` (POST), ``headers``, ``body``, ``timeout_s``,
    ``include_fields`` (the contact fields of the default payload; default id and email).

    Output: ``status_code``, ``method``, ``url`` (without query), ``redirects``, ``signed``,
    ``response`` (the start of the answer), ``body_truncated``.
    """

    type = "webhook"

    def default_body(self, ctx: ActionContext) -> Any:
        listed = ctx.config.get("include_fields")
        include = DEFAULT_INCLUDE_FIELDS if listed is None else tuple(str(name) for name in listed)
        return {
            "automation_id": ctx.automation_id,
            "execution_id": ctx.execution_id,
            "step_id": ctx.step_id,
            "contact": minimal_contact(ctx.contact, include),
            "event": {key: ctx.event[key] for key in ("id", "type", "data") if key in ctx.event},
        }

    async def run(self, ctx: ActionContext) -> ActionResult:
        method = self.method(ctx)
        response, signed = await self.send(ctx)
        return ActionResult(output=self.output(method, response, signed, "response"))


class CallApi(_HttpAction):
    """``call_api``: ``url``, ``method``, ``headers``, ``body``, ``timeout_s``, ``save_as``.

    Output: ``status_code``, ``method``, ``url``, ``redirects``, ``signed``, ``body`` (the start of
    the answer), ``body_truncated``, ``saved_as``. Vars: ``{save_as: answer}`` when asked.
    """

    type = "call_api"

    def method(self, ctx: ActionContext) -> str:
        return str(ctx.config.get("method") or "GET").upper()

    async def run(self, ctx: ActionContext) -> ActionResult:
        method = self.method(ctx)
        response, signed = await self.send(ctx)
        output = self.output(method, response, signed, "body")
        save_as = ctx.config.get("save_as")
        saved: dict[str, Any] = {}
        if save_as:
            if response.truncated:
                raise PermanentError(
                    f"the answer of {safe_url(response.url)} is larger than "
                    f"{self.settings.http_max_response_bytes} bytes and cannot be saved",
                    category="response_too_large",
                )
            value: Any = response.text
            if response.is_json:
                try:
                    value = json.loads(response.content)
                except ValueError:
                    value = response.text
            saved[str(save_as)] = value
            output["saved_as"] = str(save_as)
        return ActionResult(output=output, vars=saved)
