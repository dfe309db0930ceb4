"""send_push: Firebase Cloud Messaging HTTP v1, one ``messages:send`` per device token.

``POST {fcm base}/v1/projects/{project_id}/messages:send`` with ``Authorization: Bearer <access
token>`` (the FCM connection's service account, :mod:`..connections.service_account`) and
``{"message": {"token", "notification": {"title", "body", "image"?}, "data"?, "webpush"?:
{"fcm_options": {"link"}}}}``; FCM answers ``{"name": "projects/<p>/messages/<id>"}``.

Errors (firebase.google.com/docs/cloud-messaging/error-codes), read from the answer's
``error.details[].errorCode`` (else ``error.status``):

- ``UNREGISTERED`` (404) and ``INVALID_ARGUMENT`` (400) are about one token: that token is
  dropped and reported in ``unregistered`` / ``invalid``; the step fails for good only when no
  token took the message (category ``fcm_unregistered`` / ``fcm_invalid_argument``, FCM's message);
- ``SENDER_ID_MISMATCH`` (403), ``THIRD_PARTY_AUTH_ERROR`` (401) and other 4xx: permanent;
- ``QUOTA_EXCEEDED`` / any 429, ``UNAVAILABLE`` (503) and ``INTERNAL`` (500): transient, with
  FCM's ``Retry-After``.

FCM has no idempotency key. The step's key travels as ``X-Beez-Idempotency-Key`` (FCM ignores
it), so a crash between the call and the settle sends the push again under the same key: the
duplicate window is the time between FCM's answer and the step's commit (milliseconds, unless
the process dies right there). A retry after a transient failure sends to every token again
(FCM keeps nothing to ask about): a device shows the second notification unless the app
collapses it (``data`` can carry a collapse id of the app's choosing).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from beez.executor.actions.base import ActionContext, ActionResult, PermanentError, TransientError
from beez.executor.actions.http import HttpPermanentError, HttpTransientError, OutboundHttp, json_body
from beez.executor.actions.outgoing import OutgoingRequest
from beez.executor.actions.preview import REDACTED, Preview, http_preview
from beez.executor.actions.recipients import delivery, skipped
from beez.executor.actions.settings import ActionSettings
from beez.executor.connections.providers import PROVIDERS, Provider
from beez.executor.connections.service_account import service_account

__all__ = ["SendPush", "fcm_error_code"]

_PER_TOKEN = {"UNREGISTERED": "unregistered", "INVALID_ARGUMENT": "invalid"}


def fcm_error_code(body: str) -> str:
    """FCM's error code of an error answer: ``details[].errorCode``, else ``error.status``."""
    try:
        error = json.loads(body).get("error") or {}
    except (ValueError, AttributeError):
        return ""
    for detail in error.get("details") or []:
        if isinstance(detail, dict) and detail.get("errorCode"):
            return str(detail["errorCode"])
    return str(error.get("status") or "")


def _fcm_message(body: str) -> str:
    try:
        return str((json.loads(body).get("error") or {}).get("message") or "")
    except (ValueError, AttributeError):
        return ""


class SendPush:
    """``send_push``: ``title``, ``body``, ``device_tokens`` (default the contact's
    ``push_tokens``), ``data``, ``link``, ``image``; the organization's FCM connection.

    Output: ``message_ids`` (FCM's names), ``sent``, ``unregistered`` and ``invalid`` (the
    tokens FCM refused, for the app to forget), ``project_id``.
    """

    type = "send_push"

    def __init__(self, settings: ActionSettings, http: OutboundHttp) -> None:
        self.settings = settings
        self.http = http

    def message(self, token: str, config: dict[str, Any]) -> dict[str, Any]:
        """The FCM v1 ``message`` object for one device."""
        notification: dict[str, Any] = {
            "title": str(config.get("title") or ""),
            "body": str(config.get("body") or ""),
        }
        if not notification["title"].strip() or not notification["body"].strip():
            raise PermanentError("`title` and `body` must not be empty", category="invalid_config")
        if config.get("image"):
            notification["image"] = str(config["image"])
        message: dict[str, Any] = {"token": token, "notification": notification}
        data = config.get("data")
        if isinstance(data, dict) and data:
            message["data"] = {str(k): str(v) for k, v in data.items()}
        if config.get("link"):
            message["webpush"] = {"fcm_options": {"link": str(config["link"])}}
        return message

    def prepare(
        self, ctx: ActionContext, token: str = "", *, preview: bool = False
    ) -> tuple[list[OutgoingRequest], str] | ActionResult:
        """One request per token (sent with ``token`` as the bearer), and the project; or the skip.
        ``preview``: the ``Authorization`` header holds a placeholder, and without a connection
        (ActionService.TestAction binds none) the URL names ``{project_id}``."""
        found = delivery(ctx, self.type)
        if found.skip is not None:
            return skipped(found.skip)
        if ctx.connection is not None and ctx.connection.provider == "fcm":
            project = service_account(dict(ctx.connection.credentials)).project_id
            base = ctx.connection.base_url
        elif preview and ctx.connection is None:
            project = "{project_id}"
            base = self.settings.provider_base_urls.get("fcm") or PROVIDERS[Provider.FCM].base_url
        else:
            raise PermanentError(
                "send_push needs the organization's FCM connection (provider fcm)", category="not_configured"
            )
        if not project:
            raise PermanentError(
                "fcm: no project_id (connection or service account)", category="invalid_credentials"
            )
        url = f"{base.rstrip('/')}/v1/projects/{quote(project, safe='{}')}/messages:send"
        requests = [
            self.http.prepare(
                "POST",
                url,
                headers={"Authorization": f"Bearer {token or REDACTED}", "Content-Type": "application/json"},
                content=json_body({"message": self.message(device, ctx.config)}),
                idempotency_key=ctx.idempotency_key,
            )
            for device in found.to.split(",")
        ]
        return requests, project

    async def preview(self, ctx: ActionContext) -> Preview | ActionResult:
        """The first device's request (no token is fetched)."""
        prepared = self.prepare(ctx, preview=True)
        if isinstance(prepared, ActionResult):
            return prepared
        shown = http_preview(prepared[0][0], ctx.now)
        shown.details = {"devices": len(prepared[0])}
        return shown

    async def run(self, ctx: ActionContext) -> ActionResult:
        checked = self.prepare(ctx)  # the skip, or a configuration error, before any token
        if isinstance(checked, ActionResult) or ctx.connection is None:
            return checked if isinstance(checked, ActionResult) else ActionResult()
        prepared = self.prepare(ctx, await ctx.connection.access_token())
        if isinstance(prepared, ActionResult):
            return prepared
        requests, project = prepared
        names: list[str] = []
        refused: dict[str, list[str]] = {"unregistered": [], "invalid": []}
        last: HttpPermanentError | None = None
        for outgoing in requests:
            device = json.loads(outgoing.content or b"{}")["message"]["token"]
            try:
                response = await self.http.send(outgoing, now=ctx.now)
            except HttpTransientError as exc:
                code = fcm_error_code(exc.body) or f"http_{exc.status_code}"
                raise TransientError(
                    f"fcm {code}: {_fcm_message(exc.body) or exc}",
                    category=exc.category,
                    retry_after=exc.retry_after,
                ) from exc
            except HttpPermanentError as exc:
                code = fcm_error_code(exc.body)
                if code in _PER_TOKEN:
                    refused[_PER_TOKEN[code]].append(device)
                    last = exc
                    continue
                raise PermanentError(
                    f"fcm {code or exc.status_code}: {_fcm_message(exc.body) or exc}",
                    category=f"fcm_{code.lower()}" if code else exc.category,
                ) from exc
            names.append(str(json.loads(response.content or b"{}").get("name", "")))
        if not names and last is not None:
            code = fcm_error_code(last.body)
            raise PermanentError(f"fcm {code}: {_fcm_message(last.body)}", category=f"fcm_{code.lower()}")
        return ActionResult(
            output={"message_ids": names, "sent": len(names), **refused, "project_id": project}
        )
