"""``send_zapier_webhook`` and ``send_make_webhook``: a JSON POST to a catch-hook URL.

The hook URL is the credential (whoever knows it can start the Zap or scenario), so it is only
accepted on the provider's own host, over https: ``hooks.zapier.com/hooks/catch/...`` for Zapier,
``hook.<zone>.make.com/...`` for Make. ``provider_base_urls["zapier"]`` / ``["make"]`` replace
that rule with "under this base URL" (tests). The path never shows in errors or previews.

The body is the step's ``body``, or by default what ``webhook`` sends: the automation, execution
and step ids, the contact fields ``include_fields`` lists (id and email) and the event. Zapier
answers ``{"status": "success", "id", "request_id", "attempt"}``; Make answers ``Accepted``.
Errors: 410 (the hook was deleted, or its Zap is off) and other 4xx fail the step; 429 (Zapier:
more than 10,000 requests per 5 minutes or 30/s per user) and 5xx retry.

Idempotency: neither provider deduplicates, so these actions have a duplicate window: a crash
after the provider accepted the request and before the step's result is committed sends it again
when the attempt is redelivered. Every request carries ``X-Beez-Idempotency-Key``, which a
Zap's filter or a scenario's data store can use to drop the repeat.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

import httpx

from beez.executor.actions.base import ActionContext, ActionResult, ConnectionAccess, PermanentError
from beez.executor.actions.http import HttpResponse
from beez.executor.actions.integration import DEFAULT_INCLUDE_FIELDS, minimal_contact
from beez.executor.actions.providers.base import ProviderAction, ProviderRequest, answer_json, required_text

__all__ = ["SendMakeWebhook", "SendZapierWebhook"]


class _CatchHook(ProviderAction):
    provider = ""
    default_base_url = ""
    idempotency = "none: duplicate window (X-Beez-Idempotency-Key lets the receiver drop a repeat)"
    host: ClassVar[re.Pattern[str]]
    path_prefix: ClassVar[str] = "/"
    example: ClassVar[str]

    def checked_url(self, url: str) -> str:
        """``url`` when it is a hook of this provider (or under the base URL setting)."""
        base = self.settings.provider_base_urls.get(self.base_url_key, "")
        try:
            parsed = httpx.URL(url)
        except (httpx.InvalidURL, TypeError, ValueError) as exc:
            raise PermanentError(f"`url` is not a URL: {exc}", category="invalid_config") from None
        if base:
            if not url.startswith(base.rstrip("/") + "/"):
                raise PermanentError(f"`url` must be under {base}", category="invalid_config")
            return url
        if (
            parsed.scheme != "https"
            or not self.host.match(parsed.host)
            or not parsed.path.startswith(self.path_prefix)
        ):
            raise PermanentError(
                f"`url` must be a {self.label} hook URL ({self.example})", category="invalid_config"
            )
        return url

    async def build(self, ctx: ActionContext, connection: ConnectionAccess | None) -> ProviderRequest:
        url = self.checked_url(required_text(ctx.config, "url"))
        body = ctx.config.get("body")
        if body is None:
            listed = ctx.config.get("include_fields")
            include = DEFAULT_INCLUDE_FIELDS if listed is None else tuple(str(name) for name in listed)
            body = {
                "automation_id": ctx.automation_id,
                "execution_id": ctx.execution_id,
                "step_id": ctx.step_id,
                "contact": minimal_contact(ctx.contact, include),
                "event": {key: ctx.event[key] for key in ("id", "type", "data") if key in ctx.event},
            }
        return ProviderRequest("POST", url, json=body, secret_path=True)

    def result(self, ctx: ActionContext, response: HttpResponse) -> ActionResult:
        answer = answer_json(response.content)
        output: dict[str, Any] = {"status_code": response.status_code}
        if isinstance(answer, dict):
            output.update({k: str(answer[k]) for k in ("status", "request_id", "id") if k in answer})
        else:
            output["response"] = response.text[:200]
        return ActionResult(output=output)

    def provider_message(self, status: int, body: Any) -> str | None:
        if isinstance(body, dict):
            said = body.get("message") or body.get("error") or body.get("status")
            return str(said) if said else None
        return str(body).strip()[:300] or None


class SendZapierWebhook(_CatchHook):
    """``send_zapier_webhook``: ``url`` (``https://hooks.zapier.com/hooks/catch/...``), ``body``,
    ``include_fields``. Output: ``status``, ``request_id``, ``id``, ``status_code``."""

    type = "send_zapier_webhook"
    label = "Zapier"
    base_url_key = "zapier"
    host = re.compile(r"^hooks\.zapier\.com$")
    path_prefix = "/hooks/catch/"
    example = "https://hooks.zapier.com/hooks/catch/<account>/<hook>/"


class SendMakeWebhook(_CatchHook):
    """``send_make_webhook``: ``url`` (``https://hook.<zone>.make.com/...``), ``body``,
    ``include_fields``. Output: ``response`` (``Accepted``), ``status_code``."""

    type = "send_make_webhook"
    label = "Make"
    base_url_key = "make"
    host = re.compile(r"^hook\.[a-z0-9-]+\.make\.com$")
    example = "https://hook.eu1.make.com/<hook>"
