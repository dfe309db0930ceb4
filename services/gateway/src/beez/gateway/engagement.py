"""Engagement in: email tracking hits and provider delivery callbacks, turned into events.

None of these routes takes a bearer token; each proves itself another way, and anything that does
not prove itself changes nothing (decision 0041):

- ``GET /t/o/{token}``: the open pixel. A genuine token (:mod:`beez.kit.tracking`) publishes
  ``email.opened`` and answers a 1x1 GIF that no cache keeps; any other token answers 404.
- ``GET /t/c/{token}``: a tracked link. A genuine token publishes ``email.clicked`` and redirects
  (302) to the URL signed into it, the link that was in the email, and nowhere else; any other
  token answers 404 and redirects nowhere.
- ``POST /callbacks/twilio/{org}``: an SMS status callback, verified by ``X-Twilio-Signature``
  (base64 HMAC-SHA1, keyed with the auth token, of the URL Twilio called followed by every POST
  parameter, sorted by name, name and value concatenated). The executor puts the organization into
  the ``StatusCallback`` URL it gives Twilio, which Twilio signs with the rest.
- ``GET /callbacks/whatsapp``: the Cloud API's verification handshake (``hub.mode=subscribe``,
  ``hub.verify_token``): the ``hub.challenge`` back when the token matches, 403 otherwise.
- ``POST /callbacks/whatsapp``: status webhooks, verified by ``X-Hub-Signature-256``
  (``sha256=`` and the hex HMAC-SHA256 of the raw body with the app secret). The organization is
  the ``biz_opaque_callback_data`` the executor sent with the message, echoed inside the signed body.

An organization that sends through its own Twilio account or WhatsApp app (a connection,
decision 0040) has its callbacks come to ``/callbacks/twilio/{org}/{connection}`` and
``/callbacks/whatsapp/{org}/{connection}`` (GET for the handshake, POST for statuses): those are
signed with the connection's own secret, which only the executor holds, so the gateway asks it
(``ConnectionService.VerifyCallbackSignature``, within the organization in the path: another
organization's connection is a refusal). A WhatsApp webhook to an own app speaks for that
organization only.

A bad or missing signature answers 403 before anything is read from the body. A verified status
(``delivered``, ``read``, ``failed``/``undelivered``) is mapped to the step that sent the message
through the executor's record of provider ids, within the organization the callback names
(``ActionService.GetProviderMessage``; another organization's message is not found), and published
as ``message.delivered``, ``message.read`` or ``message.failed`` for that organization through the
trigger's ``PublishEvent``, as any event the gateway forwards. Event ids make repeats duplicates:
one per tracking token and hour (opens) or minute (clicks), one per message and status.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import grpc
from aiohttp import web
from google.protobuf import struct_pb2, timestamp_pb2

from beez.api.executor.v1 import actions_pb2, actions_pb2_grpc, connections_pb2, connections_pb2_grpc
from beez.api.messages.v1 import events_pb2
from beez.api.permissions import Role
from beez.api.trigger.v1 import trigger_pb2, trigger_pb2_grpc
from beez.gateway.limits import RequestLimits
from beez.kit.grpc.identity import Identity, identity_metadata
from beez.kit.logging import get_logger
from beez.kit.signatures import matches, twilio_signature, whatsapp_signature
from beez.kit.tracking import CLICK, OPEN, TrackingClaims, TrackingKeys, hit_event_id

__all__ = [
    "PIXEL_GIF",
    "Engagement",
    "EngagementSettings",
    "twilio_signature",
    "whatsapp_signature",
]

log = get_logger(__name__)

PIXEL_GIF = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
"""A transparent 1x1 GIF89a."""

NO_STORE = {
    "Cache-Control": "no-store, no-cache, must-revalidate, private, max-age=0",
    "Pragma": "no-cache",
    "Expires": "0",
}
EVENT_SERVICE = "beez.api.trigger.v1.EventService"
ACTION_SERVICE = "beez.api.executor.v1.ActionService"
CONNECTION_SERVICE = "beez.api.executor.v1.ConnectionService"
_REFUSALS = (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.FAILED_PRECONDITION)
_ORG = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_TWILIO_STATUSES = {"delivered": "delivered", "read": "read", "failed": "failed", "undelivered": "failed"}
_WHATSAPP_STATUSES = {"delivered": "delivered", "read": "read", "failed": "failed"}


@dataclass(frozen=True)
class EngagementSettings:
    """What the engagement routes need; each part off while its secret is missing."""

    tracking_keys: TrackingKeys | None = None
    twilio_auth_token: str = ""
    whatsapp_app_secret: str = ""
    whatsapp_verify_token: str = ""
    public_base_url: str = ""
    """The gateway's URL as providers call it (behind a proxy); empty: the request's own."""
    timeout_s: float = 10.0


def _not_found() -> web.Response:
    return web.Response(status=404, text="not found", headers=NO_STORE)


def _forbidden(reason: str) -> web.Response:
    return web.Response(status=403, text=reason)


def _timestamp(at: datetime) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(at)
    return stamp


def _struct(values: Mapping[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update({k: v for k, v in values.items() if v not in ("", None)})
    return struct


class Engagement:
    """The engagement routes, calling the trigger and the executor through ``resolve``."""

    def __init__(
        self,
        settings: EngagementSettings,
        resolve: Callable[[str], grpc.aio.Channel],
        *,
        limits: RequestLimits | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.settings = settings
        self.events = trigger_pb2_grpc.EventServiceStub(resolve(EVENT_SERVICE))
        self.messages = actions_pb2_grpc.ActionServiceStub(resolve(ACTION_SERVICE))
        self.connections = connections_pb2_grpc.ConnectionServiceStub(resolve(CONNECTION_SERVICE))
        self.limits = limits
        self.clock = clock

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/t/o/{token}", self.opened)
        app.router.add_get("/t/c/{token}", self.clicked)
        app.router.add_post("/callbacks/twilio/{org}", self.twilio)
        app.router.add_post("/callbacks/twilio/{org}/{connection}", self.twilio)
        app.router.add_get("/callbacks/whatsapp", self.whatsapp_handshake)
        app.router.add_post("/callbacks/whatsapp", self.whatsapp)
        app.router.add_get("/callbacks/whatsapp/{org}/{connection}", self.whatsapp_handshake)
        app.router.add_post("/callbacks/whatsapp/{org}/{connection}", self.whatsapp)

    @staticmethod
    def _metadata(org_id: str, user: str) -> list[tuple[str, str]]:
        return identity_metadata(Identity(org_id, user, frozenset({Role.EDITOR})))

    async def _publish(self, org_id: str, event: events_pb2.Event, user: str) -> bool:
        """Publishes ``event`` for ``org_id``; False (logged) when the trigger refused or failed."""
        if self.limits is not None:
            await self.limits.admit(org_id)
        try:
            await self.events.PublishEvent(
                trigger_pb2.PublishEventRequest(event=event),
                metadata=self._metadata(org_id, user),
                timeout=self.settings.timeout_s,
            )
        except grpc.aio.AioRpcError as exc:
            code = exc.code().name
            log.warning("engagement event not published", type=event.type, org_id=org_id, code=code)
            return False
        return True

    # --- email tracking ------------------------------------------------------------------------

    def _claims(self, request: web.Request, kind: str) -> tuple[str, TrackingClaims] | None:
        keys = self.settings.tracking_keys
        token = request.match_info["token"]
        if keys is None or len(token) > 8192:
            return None
        claims = keys.verify(token, kind)
        return None if claims is None else (token, claims)

    def _email_event(self, token: str, claims: TrackingClaims, type_: str, now: datetime) -> events_pb2.Event:
        return events_pb2.Event(
            id=hit_event_id(token, claims.kind, now),
            type=type_,
            occurred_at=_timestamp(now),
            contact_id=claims.contact_id,
            data=_struct(claims.event_data()),
        )

    async def opened(self, request: web.Request) -> web.StreamResponse:
        found = self._claims(request, OPEN)
        if found is None:
            return _not_found()
        token, claims = found
        event = self._email_event(token, claims, "email.opened", self.clock())
        await self._publish(claims.org_id, event, "tracking")
        return web.Response(body=PIXEL_GIF, content_type="image/gif", headers=NO_STORE)

    async def clicked(self, request: web.Request) -> web.StreamResponse:
        found = self._claims(request, CLICK)
        if found is None:
            return _not_found()
        token, claims = found
        await self._publish(
            claims.org_id, self._email_event(token, claims, "email.clicked", self.clock()), "tracking"
        )
        return web.Response(
            status=302, headers={"Location": claims.url, "Referrer-Policy": "no-referrer", **NO_STORE}
        )

    # --- delivery callbacks --------------------------------------------------------------------

    async def _delivery(
        self,
        org_id: str,
        provider: str,
        message_id: str,
        status: str,
        at: datetime,
        details: Mapping[str, Any],
    ) -> bool:
        """Maps a verified status to its step and publishes ``message.<status>``; False when the
        message is not one of the organization's."""
        try:
            found = await self.messages.GetProviderMessage(
                actions_pb2.GetProviderMessageRequest(provider=provider, provider_message_id=message_id),
                metadata=self._metadata(org_id, "callbacks"),
                timeout=self.settings.timeout_s,
            )
        except grpc.aio.AioRpcError as exc:
            if exc.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT):
                log.info("delivery callback for an unknown message", provider=provider, org_id=org_id)
                return False
            raise web.HTTPServiceUnavailable(text="try again") from None  # the provider retries
        sent = found.message
        event = events_pb2.Event(
            id=f"msg:{provider}:{message_id}:{status}",
            type=f"message.{status}",
            occurred_at=_timestamp(at),
            contact_id=sent.contact_id,
            data=_struct(
                {
                    "channel": provider,
                    "provider_message_id": message_id,
                    "status": status,
                    "execution_id": sent.execution_id,
                    "automation_id": sent.automation_id,
                    "step_id": sent.step_id,
                    "step_path": sent.step_path,
                    **details,
                }
            ),
        )
        if not await self._publish(org_id, event, "callbacks"):
            raise web.HTTPServiceUnavailable(text="try again")
        return True

    def _called_url(self, request: web.Request) -> str:
        base = self.settings.public_base_url.rstrip("/")
        if base:
            return base + request.rel_url.raw_path_qs
        return str(request.url)

    async def _connection_says(
        self,
        request: web.Request,
        scheme: connections_pb2.CallbackScheme,
        given: str,
        *,
        params: Sequence[tuple[str, str]] = (),
        body: bytes = b"",
    ) -> bool:
        """Whether the organization's connection named in the path signed this callback: the
        executor checks with the connection's secret (which never leaves it). An unknown
        connection, another organization's, or one of another provider is a refusal."""
        org_id, connection = request.match_info["org"], request.match_info["connection"]
        if not _ORG.match(org_id) or not _ORG.match(connection) or not given:
            return False
        try:
            found = await self.connections.VerifyCallbackSignature(
                connections_pb2.VerifyCallbackSignatureRequest(
                    id=connection,
                    scheme=scheme,
                    url=self._called_url(request),
                    params=[connections_pb2.CallbackParam(name=n, value=v) for n, v in params],
                    body=body,
                    signature=given,
                ),
                metadata=self._metadata(org_id, "callbacks"),
                timeout=self.settings.timeout_s,
            )
        except grpc.aio.AioRpcError as exc:
            if exc.code() in _REFUSALS:
                log.info("callback for an unknown connection", org_id=org_id, code=exc.code().name)
                return False
            raise web.HTTPServiceUnavailable(text="try again") from None  # the provider retries
        return bool(found.valid)

    async def twilio(self, request: web.Request) -> web.StreamResponse:
        """A status callback, to the platform's Twilio account (``/callbacks/twilio/{org}``) or to
        the organization's own (``/callbacks/twilio/{org}/{connection}``)."""
        org_id = request.match_info["org"]
        own = "connection" in request.match_info
        token = self.settings.twilio_auth_token
        if not _ORG.match(org_id) or (not own and not token):
            return _not_found()
        form = await request.post()
        params = [(name, str(value)) for name, value in form.items() if isinstance(value, str)]
        given = request.headers.get("X-Twilio-Signature", "")
        if own:
            valid = await self._connection_says(
                request, connections_pb2.CALLBACK_SCHEME_TWILIO, given, params=params
            )
        else:
            valid = matches(twilio_signature(token, self._called_url(request), params), given)
        if not valid:
            return _forbidden("bad signature")
        values = dict(params)
        status = _TWILIO_STATUSES.get(values.get("MessageStatus") or values.get("SmsStatus") or "")
        message_id = values.get("MessageSid") or values.get("SmsSid") or ""
        if status is not None and message_id:
            details = {
                "error_code": values.get("ErrorCode", ""),
                "provider_status": values.get("MessageStatus", ""),
            }
            await self._delivery(org_id, "sms", message_id, status, self.clock(), details)
        return web.Response(status=204)

    async def whatsapp_handshake(self, request: web.Request) -> web.StreamResponse:
        """The Cloud API's subscription handshake, for the platform's app or a connection's."""
        query = request.rel_url.query
        given = query.get("hub.verify_token", "")
        if query.get("hub.mode") != "subscribe":
            return _forbidden("verification failed")
        if "connection" in request.match_info:
            valid = await self._connection_says(
                request, connections_pb2.CALLBACK_SCHEME_WHATSAPP_HANDSHAKE, given
            )
        else:
            valid = matches(self.settings.whatsapp_verify_token, given)
        if not valid:
            return _forbidden("verification failed")
        return web.Response(text=query.get("hub.challenge", ""))

    async def whatsapp(self, request: web.Request) -> web.StreamResponse:
        """Status webhooks, to the platform's app (``/callbacks/whatsapp``: the organization is the
        ``biz_opaque_callback_data`` signed into the body) or to an organization's own app
        (``/callbacks/whatsapp/{org}/{connection}``: its statuses are that organization's)."""
        own = "connection" in request.match_info
        secret = self.settings.whatsapp_app_secret
        if not own and not secret:
            return _not_found()
        body = await request.read()
        given = request.headers.get("X-Hub-Signature-256", "")
        if own:
            valid = await self._connection_says(
                request, connections_pb2.CALLBACK_SCHEME_WHATSAPP, given, body=body
            )
        else:
            valid = matches(whatsapp_signature(secret, body), given)
        if not valid:
            return _forbidden("bad signature")
        try:
            payload = json.loads(body)
        except ValueError:
            return web.Response(status=400, text="not JSON")
        path_org = request.match_info.get("org")
        for status in _statuses(payload):
            kind = _WHATSAPP_STATUSES.get(str(status.get("status", "")))
            echoed = str(status.get("biz_opaque_callback_data") or "")
            org_id = path_org if path_org is not None and echoed in ("", path_org) else echoed
            if path_org is not None and org_id != path_org:
                continue  # an own app's webhook speaks for its organization only
            message_id = str(status.get("id") or "")
            if kind is None or not message_id or not _ORG.match(org_id):
                continue
            at = self.clock()
            with contextlib.suppress(TypeError, ValueError, OverflowError):
                at = datetime.fromtimestamp(int(status.get("timestamp", "")), UTC)
            errors = status.get("errors") or [{}]
            first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}
            details = {"error_code": str(first.get("code", "")), "error": str(first.get("title", ""))}
            await self._delivery(org_id, "whatsapp", message_id, kind, at, details)
        return web.Response(text="ok")


def _statuses(payload: Any) -> list[dict[str, Any]]:
    """Every ``statuses[]`` item of a Cloud API webhook body."""
    found: list[dict[str, Any]] = []
    if not isinstance(payload, dict):
        return found
    for entry in payload.get("entry") or []:
        if not isinstance(entry, dict):
            continue
        for change in entry.get("changes") or []:
            value = change.get("value") if isinstance(change, dict) else None
            if isinstance(value, dict):
                found.extend(s for s in value.get("statuses") or [] if isinstance(s, dict))
    return found
