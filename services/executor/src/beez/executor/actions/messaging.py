"""send_whatsapp, send_sms and send_slack, over :class:`~.http.OutboundHttp`.

- WhatsApp: the Cloud API, ``POST {whatsapp_base_url}/{phone_number_id}/messages`` with a bearer
  token and ``Idempotency-Key``; a text message, or an approved template when ``template`` is set.
  Meta reports throttling as HTTP 400 with error codes 4, 80007, 130429, 131048 and 131056, and
  temporary trouble with codes 1, 2 and 131000: those are transient despite the 400.
- SMS: a Twilio-compatible ``POST {sms_base_url}/Accounts/{sid}/Messages.json``, form-encoded
  ``To``/``From``/``Body`` (``MessagingServiceSid`` when ``sms_from`` is an ``MG...`` SID), basic
  auth, ``I-Twilio-Idempotency-Token``.
- Slack: an incoming webhook (``webhook_url`` or ``slack_default_webhook_url``) with
  ``{"text", "channel"?}``; with a Slack connection, ``chat.postMessage`` with its bot token
  (``channel`` required). Slack has no contact consent: it goes to the team.
- An organization's own connection (decision 0040: the one the step names, or its only one of
  the provider) replaces the platform's WhatsApp token and number, or Twilio account and sender.

Every request also carries ``X-Beez-Idempotency-Key``. WhatsApp and SMS check consent and the
recipient first (:mod:`.recipients`, after :mod:`beez.workflow.recipients`).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import httpx

from beez.executor.actions.base import ActionContext, ActionResult, PermanentError, TransientError
from beez.executor.actions.http import HttpPermanentError, OutboundHttp, json_body
from beez.executor.actions.outgoing import OutgoingRequest
from beez.executor.actions.preview import Preview, http_preview
from beez.executor.actions.recipients import delivery, skipped
from beez.executor.actions.settings import ActionSettings

__all__ = ["SendSlack", "SendSms", "SendWhatsApp"]

_WHATSAPP_TRANSIENT_CODES = frozenset({1, 2, 4, 80007, 130429, 131000, 131048, 131056})


def _json_or_empty(content: bytes) -> dict[str, Any]:
    try:
        value = json.loads(content)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _required(config: dict[str, Any], key: str) -> str:
    """Message text that must not be empty (a template may have rendered to nothing)."""
    value = config.get(key)
    text = "" if value is None else str(value)
    if not text.strip():
        raise PermanentError(f"`{key}` is empty", category="invalid_config")
    return text


class SendWhatsApp:
    """``send_whatsapp``: ``body`` or ``template``, ``to`` (default the contact's phone).

    Output: ``provider_message_id`` (``wamid...``), ``wa_id``, ``to``, ``kind`` (text/template).
    """

    type = "send_whatsapp"

    def __init__(self, settings: ActionSettings, http: OutboundHttp) -> None:
        self.settings = settings
        self.http = http

    def payload(self, to: str, config: dict[str, Any]) -> dict[str, Any]:
        """The Cloud API message object."""
        number = to.lstrip("+")
        template = config.get("template")
        if template:
            return {
                "messaging_product": "whatsapp",
                "to": number,
                "type": "template",
                "template": {
                    "name": str(template),
                    "language": {"code": self.settings.whatsapp_template_language},
                },
            }
        return {
            "messaging_product": "whatsapp",
            "to": number,
            "type": "text",
            "text": {"body": _required(config, "body")},
        }

    def prepare(self, ctx: ActionContext) -> tuple[OutgoingRequest, dict[str, Any], str] | ActionResult:
        """The Cloud API request :meth:`run` sends, its payload and recipient, or the skip result."""
        found = delivery(ctx, self.type)
        if found.skip is not None:
            return skipped(found.skip)
        own = ctx.connection.credentials if ctx.connection is not None else None
        if own is not None:
            token, number_id = own.get("token", ""), own.get("phone_number_id", "")
        else:
            token = self.settings.whatsapp_token.get_secret_value()
            number_id = self.settings.whatsapp_phone_number_id
        if not token or not number_id:
            raise PermanentError(
                "WhatsApp is not configured (whatsapp_token, whatsapp_phone_number_id)",
                category="not_configured",
            )
        payload = self.payload(found.to, ctx.config)
        # Echoed in the status webhooks: names the organization whose step sent it (decision 0041).
        payload["biz_opaque_callback_data"] = ctx.org_id
        url = f"{self.settings.whatsapp_base_url.rstrip('/')}/{number_id}/messages"
        outgoing = self.http.prepare(
            "POST",
            url,
            headers={
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/json",
                "Idempotency-Key": ctx.idempotency_key,
            },
            content=json_body(payload),
            idempotency_key=ctx.idempotency_key,
        )
        return outgoing, payload, found.to

    async def preview(self, ctx: ActionContext) -> Preview | ActionResult:
        prepared = self.prepare(ctx)
        return prepared if isinstance(prepared, ActionResult) else http_preview(prepared[0], ctx.now)

    async def run(self, ctx: ActionContext) -> ActionResult:
        prepared = self.prepare(ctx)
        if isinstance(prepared, ActionResult):
            return prepared
        outgoing, payload, to = prepared
        try:
            response = await self.http.send(outgoing, now=ctx.now)
        except HttpPermanentError as exc:
            code = _json_or_empty(exc.body.encode()).get("error", {}).get("code")
            if exc.status_code == 400 and code in _WHATSAPP_TRANSIENT_CODES:
                raise TransientError(str(exc), category="whatsapp_throttled") from exc
            raise
        answer = _json_or_empty(response.content)
        messages = answer.get("messages") or [{}]
        contacts = answer.get("contacts") or [{}]
        return ActionResult(
            output={
                "provider_message_id": messages[0].get("id", ""),
                "wa_id": contacts[0].get("wa_id", ""),
                "to": to,
                "kind": payload["type"],
                "status_code": response.status_code,
            }
        )


class SendSms:
    """``send_sms``: ``body``, ``to`` (default the contact's phone).

    Output: ``provider_message_id`` (Twilio ``sid``), ``provider_status``, ``to``.
    """

    type = "send_sms"

    def __init__(self, settings: ActionSettings, http: OutboundHttp) -> None:
        self.settings = settings
        self.http = http

    def prepare(self, ctx: ActionContext) -> tuple[OutgoingRequest, str] | ActionResult:
        """The Twilio request :meth:`run` sends and the recipient, or the skip result."""
        found = delivery(ctx, self.type)
        if found.skip is not None:
            return skipped(found.skip)
        to = found.to
        settings = self.settings
        own = ctx.connection.credentials if ctx.connection is not None else None
        if own is not None:
            sid, token, sender = own.get("account_sid", ""), own.get("auth_token", ""), own.get("from", "")
        else:
            sid, token, sender = (
                settings.sms_account_sid,
                settings.sms_auth_token.get_secret_value(),
                settings.sms_from,
            )
        if not sid or not token or not sender:
            raise PermanentError(
                "SMS is not configured (sms_account_sid, sms_auth_token, sms_from)", category="not_configured"
            )
        form = {"To": to, "Body": _required(ctx.config, "body")}
        if sender.startswith("MG") and not sender.startswith("+"):
            form["MessagingServiceSid"] = sender
        else:
            form["From"] = sender
        if settings.callbacks_base_url:
            # Twilio signs the callback URL: the organization in it is as trustworthy as the rest.
            # An own account signs with its own token, which only its connection can check.
            base = settings.callbacks_base_url.rstrip("/")
            own_account = f"/{ctx.connection.id}" if ctx.connection is not None else ""
            form["StatusCallback"] = f"{base}/callbacks/twilio/{ctx.org_id}{own_account}"
        url = f"{settings.sms_base_url.rstrip('/')}/Accounts/{sid}/Messages.json"
        outgoing = self.http.prepare(
            "POST",
            url,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "I-Twilio-Idempotency-Token": ctx.idempotency_key,
            },
            content=urlencode(form).encode(),
            idempotency_key=ctx.idempotency_key,
            auth=httpx.BasicAuth(sid, token),
        )
        return outgoing, to

    async def preview(self, ctx: ActionContext) -> Preview | ActionResult:
        prepared = self.prepare(ctx)
        return prepared if isinstance(prepared, ActionResult) else http_preview(prepared[0], ctx.now)

    async def run(self, ctx: ActionContext) -> ActionResult:
        prepared = self.prepare(ctx)
        if isinstance(prepared, ActionResult):
            return prepared
        outgoing, to = prepared
        response = await self.http.send(outgoing, now=ctx.now)
        answer = _json_or_empty(response.content)
        return ActionResult(
            output={
                "provider_message_id": str(answer.get("sid", "")),
                "provider_status": str(answer.get("status", "")),
                "to": to,
                "status_code": response.status_code,
            }
        )


class SendSlack:
    """``send_slack``: ``text``, optional ``webhook_url`` and ``channel``.

    Output: ``status_code``, ``response`` (Slack answers ``ok``).
    """

    type = "send_slack"

    def __init__(self, settings: ActionSettings, http: OutboundHttp) -> None:
        self.settings = settings
        self.http = http

    def prepare(self, ctx: ActionContext) -> OutgoingRequest:
        """The call :meth:`run` sends: ``chat.postMessage`` with the organization's bot token when
        the step uses a Slack connection, else the incoming webhook."""
        if ctx.connection is not None:
            channel = str(ctx.config.get("channel") or "")
            if not channel:
                raise PermanentError(
                    "`channel` is required with a Slack connection", category="invalid_config"
                )
            token = ctx.connection.credentials["bot_token"]
            return self.http.prepare(
                "POST",
                f"{ctx.connection.base_url.rstrip('/')}/chat.postMessage",
                headers={
                    "Content-Type": "application/json; charset=utf-8",
                    "Authorization": f"Bearer {token}",
                },
                content=json_body({"channel": channel, "text": _required(ctx.config, "text")}),
                idempotency_key=ctx.idempotency_key,
            )
        url = str(ctx.config.get("webhook_url") or self.settings.slack_default_webhook_url.get_secret_value())
        if not url:
            raise PermanentError(
                "no Slack webhook (config webhook_url or settings slack_default_webhook_url)",
                category="not_configured",
            )
        payload: dict[str, Any] = {"text": _required(ctx.config, "text")}
        if ctx.config.get("channel"):
            payload["channel"] = str(ctx.config["channel"])
        return self.http.prepare(
            "POST",
            url,
            headers={"Content-Type": "application/json"},
            content=json_body(payload),
            idempotency_key=ctx.idempotency_key,
        )

    async def preview(self, ctx: ActionContext) -> Preview:
        return http_preview(self.prepare(ctx), ctx.now, secret_path=ctx.connection is None)

    async def run(self, ctx: ActionContext) -> ActionResult:
        outgoing = self.prepare(ctx)
        if ctx.connection is not None:
            return await self._posted(outgoing, ctx)
        payload = json.loads(outgoing.content or b"{}")
        response = await self.http.send(outgoing, now=ctx.now, secret_path=True)
        return ActionResult(
            output={
                "status_code": response.status_code,
                "response": response.text[:200],
                "channel": payload.get("channel", ""),
            }
        )

    async def _posted(self, outgoing: OutgoingRequest, ctx: ActionContext) -> ActionResult:
        """Sends a ``chat.postMessage`` (a Slack connection); Slack answers 200 with ``ok: false``
        on errors, which fail the step here."""
        channel = str(json.loads(outgoing.content or b"{}").get("channel", ""))
        response = await self.http.send(outgoing, now=ctx.now)
        answer = _json_or_empty(response.content)
        if not answer.get("ok"):
            error = str(answer.get("error", "not ok"))
            if error == "ratelimited":
                raise TransientError("slack: ratelimited", category="http_429")
            raise PermanentError(f"slack chat.postMessage: {error}", category="slack_error")
        return ActionResult(
            output={"status_code": response.status_code, "ts": str(answer.get("ts", "")), "channel": channel}
        )
