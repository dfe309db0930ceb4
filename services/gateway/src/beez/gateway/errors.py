"""gRPC statuses as HTTP errors: the status code mapping and the ``google.rpc.Status`` JSON body.

Backends report failures as a ``google.rpc.Status`` (code, message and typed details such as
``BadRequest`` field violations) in the ``grpc-status-details-bin`` trailer. The gateway answers
with the HTTP status grpc-gateway uses for that code and the same Status rendered as proto3 JSON,
so REST clients see exactly the details the service produced::

    {"code": 3, "message": "...", "details": [{"@type": "type.googleapis.com/google.rpc.BadRequest",
                                             "fieldViolations": [{"field": "...", "description": "..."}]}]}

Errors the gateway raises itself (no route, bad query parameter, missing identity) use the same
shape through :class:`GatewayError`.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from typing import Any

import grpc
from aiohttp import web
from google.protobuf import any_pb2, json_format
from google.rpc import error_details_pb2, status_pb2

from beez.kit.logging import get_logger

log = get_logger(__name__)

# Importing error_details_pb2 registers google.rpc.BadRequest & co. in the default descriptor pool,
# which json_format needs to render Any-packed details.
_ = error_details_pb2

DETAILS_TRAILER = "grpc-status-details-bin"

HTTP_STATUS: dict[grpc.StatusCode, int] = {
    grpc.StatusCode.OK: 200,
    grpc.StatusCode.CANCELLED: 499,
    grpc.StatusCode.UNKNOWN: 500,
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.FAILED_PRECONDITION: 400,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.OUT_OF_RANGE: 400,
    grpc.StatusCode.UNIMPLEMENTED: 501,
    grpc.StatusCode.INTERNAL: 500,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DATA_LOSS: 500,
    grpc.StatusCode.UNAUTHENTICATED: 401,
}

_BY_NUMBER: dict[int, grpc.StatusCode] = {code.value[0]: code for code in grpc.StatusCode}

# Messages not passed on to clients: UNKNOWN is how grpc reports an uncaught exception in a
# servicer (its text is the exception), and transport-level UNAVAILABLE names internal addresses.
_GENERIC_MESSAGES: dict[grpc.StatusCode, str] = {
    grpc.StatusCode.UNKNOWN: "internal error",
    grpc.StatusCode.UNAVAILABLE: "service unavailable; retry shortly",
}


def http_status(code: grpc.StatusCode) -> int:
    """The HTTP status for a gRPC code, as grpc-gateway maps it."""
    return HTTP_STATUS.get(code, 500)


def status_code(number: int) -> grpc.StatusCode:
    """The :class:`grpc.StatusCode` for a numeric code (UNKNOWN when out of range)."""
    return _BY_NUMBER.get(number, grpc.StatusCode.UNKNOWN)


class GatewayError(Exception):
    """An error answered by the gateway itself, rendered like a backend status."""

    def __init__(
        self,
        code: grpc.StatusCode,
        message: str,
        details: Iterable[any_pb2.Any] = (),
        *,
        http_status: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = list(details)
        self.http_status = http_status
        self.headers = headers

    def to_status(self) -> status_pb2.Status:
        return status_pb2.Status(code=self.code.value[0], message=self.message, details=self.details)

    def to_response(self) -> web.Response:
        """The HTTP answer: the code's status unless overridden (e.g. 405), Status JSON body."""
        status = self.http_status or http_status(self.code)
        return web.json_response(status_json(self.to_status()), status=status, headers=self.headers)


def invalid_argument(message: str, field: str | None = None, description: str | None = None) -> GatewayError:
    """An INVALID_ARGUMENT error; with ``field``, also a ``BadRequest`` violation naming it.

    The violation's description defaults to ``message``.
    """
    details: list[any_pb2.Any] = []
    if field:
        violation = error_details_pb2.BadRequest.FieldViolation(
            field=field, description=description or message
        )
        packed = any_pb2.Any()
        packed.Pack(error_details_pb2.BadRequest(field_violations=[violation]))
        details.append(packed)
    return GatewayError(grpc.StatusCode.INVALID_ARGUMENT, message, details)


def status_from_rpc_error(error: grpc.aio.AioRpcError) -> status_pb2.Status:
    """The ``google.rpc.Status`` of a failed call: the rich trailer when present, else code+message.

    A trailer whose code disagrees with the call's code (a misbehaving proxy, say) is ignored
    rather than trusted, and the call's own code and message are used.
    """
    code: grpc.StatusCode = error.code()
    message: str = error.details() or ""
    for key, value in error.trailing_metadata() or ():
        if key != DETAILS_TRAILER or not isinstance(value, bytes):
            continue
        try:
            rich = status_pb2.Status.FromString(value)
        except Exception:
            log.warning("unparseable grpc-status-details-bin trailer", code=code.name)
            break
        if rich.code == code.value[0]:
            return rich
        log.warning("status trailer disagrees with call status", call=code.name, trailer=rich.code)
        break
    return status_pb2.Status(code=code.value[0], message=message)


def public_status(status: status_pb2.Status) -> status_pb2.Status:
    """``status`` as clients may see it: messages that could leak internals are replaced."""
    generic = _GENERIC_MESSAGES.get(status_code(status.code))
    if generic is None:
        return status
    public = status_pb2.Status()
    public.CopyFrom(status)
    public.message = generic
    return public


def status_json(status: status_pb2.Status) -> dict[str, Any]:
    """``status`` as google.rpc.Status JSON; ``details`` is always present.

    Each detail is rendered by its own type when the descriptor pool knows it; an unknown type
    is passed on as ``{"@type": ..., "value": <base64>}`` rather than failing the whole answer.
    """
    details: list[Any] = []
    for detail in status.details:
        try:
            details.append(json_format.MessageToDict(detail, preserving_proto_field_name=False))
        except (TypeError, KeyError, json_format.Error):
            encoded = base64.b64encode(detail.value).decode("ascii")
            details.append({"@type": detail.type_url, "value": encoded})
    return {"code": status.code, "message": status.message, "details": details}


def retry_after(status: status_pb2.Status) -> str | None:
    """``Retry-After`` (whole seconds, rounded up, at least 1) from a ``google.rpc.RetryInfo``
    detail of ``status``, or None when it carries none."""
    for detail in status.details:
        if detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
            info = error_details_pb2.RetryInfo()
            detail.Unpack(info)
            nanos = info.retry_delay.ToNanoseconds()
            return str(max(1, -(-nanos // 1_000_000_000)))
    return None


def error_response(status: status_pb2.Status) -> web.Response:
    """The HTTP answer for a failed call: mapped status and Status JSON body, and ``Retry-After``
    when the backend said when to retry (a ``RetryInfo`` detail, e.g. a rate limit's)."""
    wait = retry_after(status)
    return web.json_response(
        status_json(status),
        status=http_status(status_code(status.code)),
        headers={"Retry-After": wait} if wait is not None else None,
    )
