"""How a provider action is defined: one documented request, its answer and its errors mapped.

A provider action (``create_shopify_order``, ``update_stripe_subscription``, ...) sends exactly
the request its provider documents and nothing else, so each one is a small subclass of
:class:`ProviderAction` that says four things (decision 0044):

* ``type``, ``provider`` (the connection provider whose credentials it uses, decision 0040; empty
  for a provider without credentials, such as a Zapier catch hook) and ``idempotency`` (how a
  repeated attempt is deduplicated: the provider's key mechanism, or the documented duplicate
  window when the provider has none);
* :meth:`ProviderAction.build`: the :class:`ProviderRequest` (method, URL under the provider's
  base URL, auth and idempotency headers, a JSON or form body) from the rendered config and the
  step's connection;
* :meth:`ProviderAction.result`: the :class:`~.base.ActionResult` of a 2xx answer (provider ids in
  ``output``; variables, contact changes or platform commands when the action has any);
* :meth:`ProviderAction.provider_message` (and, rarely, :meth:`ProviderAction.transient`): the
  provider's own message from an error body, and whether a non-5xx error is worth retrying.

The base class does the rest the same way for every provider: it sends through
:class:`~.http.OutboundHttp` (SSRF guard, redirects without credentials, bounded reads, circuit
breaker), keeps ``http_429`` / ``http_5xx`` / ``http_408`` transient with the provider's
``Retry-After`` (capped by ``http_retry_after_cap_s``), turns any other 4xx into a permanent
failure whose message is ``"<provider> <status>: <the provider's message>"`` (category
``provider_validation`` for 400/409/422, ``provider_auth`` for 401/403, ``provider_not_found``
for 404, else ``http_4xx``), and previews the exact first hop for ``ActionService.TestAction``
(:meth:`ProviderAction.preview`, credentials redacted by :func:`.preview.http_preview`).

The base URL of each provider is ``ActionSettings.provider_base_urls[<key>]`` over the documented
default (:meth:`ProviderAction.base_url`): tests point it at a local stand-in. A new provider
action is registered in :mod:`..registry`, its catalog entry names exactly the fields
:meth:`build` sends, and a stand-in under ``tests/support/standins/`` checks the request shape.

Example (the whole Stripe action is :mod:`.stripe`)::

    class UpdateStripeSubscription(ProviderAction):
        type = "update_stripe_subscription"
        provider = "stripe"
        idempotency = "Idempotency-Key header (Stripe keeps keys at least 24 h)"

        async def build(self, ctx, connection):
            return ProviderRequest("POST", f"{self.base_url(connection)}/v1/subscriptions/{id}",
                                   headers={...}, form=[...], idempotency_header="Idempotency-Key")

        def result(self, ctx, response):
            return ActionResult(output={"subscription_id": response.json()["id"]})

        def provider_message(self, status, body):
            return body.get("error", {}).get("message")
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import urlencode

from beez.executor.actions.base import (
    ActionContext,
    ActionResult,
    ConnectionAccess,
    PermanentError,
    TransientError,
)
from beez.executor.actions.http import (
    HttpPermanentError,
    HttpResponse,
    HttpTransientError,
    OutboundHttp,
    json_body,
)
from beez.executor.actions.outgoing import OutgoingRequest
from beez.executor.actions.preview import Preview, http_preview
from beez.executor.actions.settings import ActionSettings
from beez.kit.logging import mask_text

__all__ = ["ProviderAction", "ProviderRequest", "answer_json", "required_text"]

_VALIDATION = frozenset({400, 409, 422})
_AUTH = frozenset({401, 403})
MESSAGE_CHARS = 500
"""How much of a provider's error message a failed step quotes."""


@dataclass(frozen=True)
class ProviderRequest:
    """The one request a provider action sends, before the HTTP client adds its own headers."""

    method: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    json: Any = None
    """A JSON body (sent compact, ``Content-Type: application/json``)."""
    form: Sequence[tuple[str, str]] | None = None
    """A form body (``application/x-www-form-urlencoded``, Stripe's bracket notation kept)."""
    idempotency_header: str = ""
    """The provider's own idempotency header, given the step's key (``Idempotency-Key``)."""
    credential_headers: tuple[str, ...] = ()
    """Headers besides ``Authorization`` that hold a credential (``X-Shopify-Access-Token``):
    redacted in previews and dropped on a redirect to another origin."""
    secret_path: bool = False
    """The URL's path is a credential (a catch-hook URL): kept out of errors and previews."""


def answer_json(content: bytes | str) -> Any:
    """A provider's JSON answer, or None when it is not JSON."""
    try:
        return json.loads(content)
    except ValueError:
        return None


def required_text(config: Mapping[str, Any], key: str) -> str:
    """A config value that must not render to nothing (a template may have)."""
    value = config.get(key)
    text = "" if value is None else str(value).strip()
    if not text:
        raise PermanentError(f"`{key}` is empty", category="invalid_config")
    return text


class ProviderAction(ABC):
    """One provider action; see the module docstring for what a subclass defines."""

    type: str
    provider: ClassVar[str]
    """The connection provider it needs (decision 0040), or "" when it needs none."""
    label: ClassVar[str]
    """The provider's name in messages (``Stripe``)."""
    default_base_url: ClassVar[str]
    """The documented API base URL; ``provider_base_urls[base_url_key]`` overrides it."""
    base_url_key: ClassVar[str] = ""
    """The key of ``ActionSettings.provider_base_urls`` (default: ``provider``)."""
    idempotency: ClassVar[str]
    """How a repeated attempt is deduplicated (the provider's key, or its duplicate window)."""

    def __init__(self, settings: ActionSettings, http: OutboundHttp) -> None:
        self.settings = settings
        self.http = http

    # --- what a provider defines ----------------------------------------------------------

    @abstractmethod
    async def build(self, ctx: ActionContext, connection: ConnectionAccess | None) -> ProviderRequest:
        """The documented request for ``ctx``; raises PermanentError for config it cannot send."""

    @abstractmethod
    def result(self, ctx: ActionContext, response: HttpResponse) -> ActionResult:
        """What a 2xx answer means for the step."""

    def provider_message(self, status: int, body: Any) -> str | None:
        """The provider's own message in an error answer (``body`` parsed JSON, or the text)."""
        return None

    def transient(self, status: int, body: Any) -> bool:
        """Whether a 4xx other than 408/429 is still worth retrying (a throttle sent as 400)."""
        return False

    # --- the same for every provider -------------------------------------------------------

    def base_url(self, connection: ConnectionAccess | None = None) -> str:
        """The provider's API base URL: the setting, else the documented default."""
        key = self.base_url_key or self.provider
        return (self.settings.provider_base_urls.get(key) or self.default_base_url).rstrip("/")

    def connection(self, ctx: ActionContext) -> ConnectionAccess | None:
        """The step's connection; a provider with credentials refuses to run without one."""
        if not self.provider:
            return None
        if ctx.connection is None or ctx.connection.provider != self.provider:
            raise PermanentError(
                f"{self.type} needs a {self.provider} connection (`connection`)", category="connection"
            )
        return ctx.connection

    async def prepare(self, ctx: ActionContext) -> tuple[OutgoingRequest, bool]:
        """The request :meth:`run` sends (and whether its path is secret), built once by :meth:`build`."""
        request = await self.build(ctx, self.connection(ctx))
        headers = dict(request.headers)
        content: bytes | None = None
        if request.form is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            content = urlencode(list(request.form)).encode()
        elif request.json is not None:
            headers["Content-Type"] = "application/json"
            content = json_body(request.json)
        headers.setdefault("Accept", "application/json")
        if request.idempotency_header:
            headers[request.idempotency_header] = ctx.idempotency_key
        outgoing = self.http.prepare(
            request.method,
            request.url,
            headers=headers,
            content=content,
            idempotency_key=ctx.idempotency_key,
            credential_headers=request.credential_headers,
        )
        return outgoing, request.secret_path

    async def preview(self, ctx: ActionContext) -> Preview:
        outgoing, secret_path = await self.prepare(ctx)
        return http_preview(outgoing, ctx.now, secret_path=secret_path)

    async def run(self, ctx: ActionContext) -> ActionResult:
        outgoing, secret_path = await self.prepare(ctx)
        try:
            response = await self.http.send(outgoing, now=ctx.now, secret_path=secret_path)
        except HttpTransientError as exc:
            raise TransientError(
                self._message(exc.status_code, exc.body, str(exc)),
                category=exc.category,  # http_429 lowers the connection's rate (decision 0040)
                retry_after=exc.retry_after,
            ) from exc
        except HttpPermanentError as exc:
            body = answer_json(exc.body)
            parsed = exc.body if body is None else body
            message = self._message(exc.status_code, exc.body, str(exc))
            if self.transient(exc.status_code, parsed):
                raise TransientError(message, category=f"{self.provider or self.type}_throttled") from exc
            raise PermanentError(message, category=_category(exc.status_code)) from exc
        return self.result(ctx, response)

    def _message(self, status: int, raw: str, fallback: str) -> str:
        body = answer_json(raw)
        said = self.provider_message(status, raw if body is None else body)
        if not said:
            return fallback
        return f"{self.label} {status}: {mask_text(str(said))[:MESSAGE_CHARS]}"


def _category(status: int) -> str:
    if status in _VALIDATION:
        return "provider_validation"
    if status in _AUTH:
        return "provider_auth"
    if status == 404:
        return "provider_not_found"
    return "http_4xx"
