"""``POST /hooks/{token}``: an external system's POST becomes an event (decision 0036).

The one route the gateway serves without a bearer token: the token in the path is the
credential. It is not transcoded from an http rule because the raw body is what a signature
covers. The handler:

1. takes the organization from the token (``<organization>.<random>``): a token of another
   shape is 404 without a backend call;
2. spends a token of the gateway's global request bucket (429 over it), as any request does;
   the per-hook limit is the trigger's, which knows the hook;
3. reads the body bounded: a ``Content-Length`` over ``max_body_bytes`` is 413 before a byte is
   read, and a chunked body is read only up to the limit, then 413;
4. calls ``HookService/DeliverHook`` on the trigger as that organization with the body, its
   content type, ``X-Beez-Signature`` and ``Idempotency-Key`` (else ``X-Request-Id``);
5. answers 202 ``{"eventId", "hookId", "accepted"}``, or the trigger's status: 404 unknown token,
   401 bad or missing signature, 429 with ``Retry-After`` over the hook's rate, 400 bad body.

Nothing here logs the token: the access log shows ``/hooks/<organization>.***``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import grpc
from aiohttp import web
from google.protobuf import json_format

from beez.api.permissions import Role
from beez.api.trigger.v1 import hooks_pb2
from beez.gateway.errors import (
    GatewayError,
    error_response,
    http_status,
    public_status,
    status_code,
    status_from_rpc_error,
)
from beez.gateway.limits import RequestLimits
from beez.gateway.metadata import outgoing_metadata
from beez.kit.grpc.identity import Identity
from beez.kit.logging import get_logger

log = get_logger(__name__)

HOOK_SERVICE = hooks_pb2.DESCRIPTOR.services_by_name["HookService"]
DELIVER = f"/{HOOK_SERVICE.full_name}/DeliverHook"
PATH_PREFIX = "/hooks/"
SIGNATURE_HEADER = "X-Beez-Signature"
IDEMPOTENCY_HEADERS = ("Idempotency-Key", "X-Request-Id")
_CHUNK = 64 * 1024


def loggable_path(path: str) -> str:
    """``path`` fit for a log line: a hook token is cut to its organization."""
    if not path.startswith(PATH_PREFIX):
        return path
    org, dot, _ = path[len(PATH_PREFIX) :].partition(".")
    return f"{PATH_PREFIX}{org}.***" if dot else f"{PATH_PREFIX}***"


def token_org(token: str) -> str | None:
    """The organization a token names (the trigger checks the rest), or None."""
    org, dot, random = token.rpartition(".")
    if not dot or not random or not org or len(org) > 64:
        return None
    if not all(c.isascii() and (c.isalnum() or c in "_-") for c in org + random):
        return None
    return org


class HookEndpoint:
    """Serves ``POST /hooks/{token}`` through the trigger's ``DeliverHook``."""

    def __init__(
        self,
        channel: grpc.aio.Channel,
        *,
        max_body_bytes: int,
        request_timeout_s: float,
        permissions: Mapping[str, Role],
        limits: RequestLimits | None = None,
    ) -> None:
        self._call = channel.unary_unary(
            DELIVER,
            request_serializer=hooks_pb2.DeliverHookRequest.SerializeToString,
            response_deserializer=hooks_pb2.DeliverHookResponse.FromString,
        )
        self._max_body_bytes = max_body_bytes
        self._timeout_s = request_timeout_s
        self._role = permissions[DELIVER]
        self._limits = limits

    async def handle(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        org = token_org(token)
        if org is None:
            raise GatewayError(grpc.StatusCode.NOT_FOUND, "no hook has this token")
        if self._limits is not None:
            await self._limits.admit_global()
        body = await self._read_body(request)
        headers = request.headers
        key = next((headers[name] for name in IDEMPOTENCY_HEADERS if headers.get(name, "").strip()), "")
        message = hooks_pb2.DeliverHookRequest(
            token=token,
            body=body,
            content_type=headers.get("Content-Type", ""),
            signature=headers.get(SIGNATURE_HEADER, ""),
            idempotency_key=key,
        )
        # The token is the credential: the gateway calls as the organization it names, with the
        # role a delivery needs, and the trigger checks that the token is one of its hooks.
        identity = Identity(org_id=org, roles=frozenset({self._role}))
        try:
            response = await self._call(
                message, metadata=outgoing_metadata(identity, headers), timeout=self._timeout_s
            )
        except grpc.aio.AioRpcError as exc:
            status = status_from_rpc_error(exc)
            if http_status(status_code(status.code)) >= 500:
                log.warning("hook delivery failed", org_id=org, code=exc.code().name, error=status.message)
            return error_response(public_status(status))
        return web.json_response(json_format.MessageToDict(response), status=202)

    async def _read_body(self, request: web.Request) -> bytes:
        limit = self._max_body_bytes
        if request.content_length is not None and request.content_length > limit:
            raise _too_large(limit)
        chunks: list[bytes] = []
        size = 0
        while True:
            chunk = await request.content.read(min(_CHUNK, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                raise _too_large(limit)
        return b"".join(chunks)


def openapi_operation(max_body_bytes: int) -> dict[str, Any]:
    """The OpenAPI operation of ``POST /hooks/{token}`` (it has no http rule to derive it from)."""
    status = {"$ref": "#/components/schemas/google.rpc.Status"}

    def error(description: str) -> dict[str, Any]:
        return {"description": description, "content": {"application/json": {"schema": status}}}

    return {
        "operationId": "HookService_DeliverHook",
        "tags": ["HookService"],
        "summary": "Turns an external system's POST into an event of the organization owning the token.",
        "description": (
            "No bearer token: the path's token is the credential. The body (JSON, or a form) is at most "
            f"{max_body_bytes} bytes. `{SIGNATURE_HEADER}: t=<unix seconds>,v1=<hex HMAC-SHA256 of "
            '"<t>.<body>" under the hook\'s secret>` is required when the hook says so and checked '
            "whenever sent. `Idempotency-Key` (else `X-Request-Id`) makes a retried delivery the same event."
        ),
        "security": [],
        "parameters": [
            {"name": "token", "in": "path", "required": True, "schema": {"type": "string"}},
            {"name": SIGNATURE_HEADER, "in": "header", "required": False, "schema": {"type": "string"}},
            {"name": "Idempotency-Key", "in": "header", "required": False, "schema": {"type": "string"}},
        ],
        "requestBody": {"content": {"application/json": {"schema": {}}}},
        "responses": {
            "202": {
                "description": "Accepted: the event id (accepted false: a retry of a delivered event).",
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "properties": {
                                "eventId": {"type": "string"},
                                "hookId": {"type": "string"},
                                "accepted": {"type": "boolean"},
                            },
                        }
                    }
                },
            },
            "400": error("The body is neither JSON nor a form, or the idempotency key is unusable."),
            "401": error("The signature is missing (when required), malformed, stale or wrong."),
            "404": error("No hook has this token."),
            "413": error(f"The body is larger than {max_body_bytes} bytes."),
            "429": error("Over the hook's delivery rate; see Retry-After."),
        },
    }


def _too_large(limit: int) -> GatewayError:
    return GatewayError(
        grpc.StatusCode.RESOURCE_EXHAUSTED, f"request body exceeds {limit} bytes", http_status=413
    )
