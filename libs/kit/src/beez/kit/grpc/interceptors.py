"""The server interceptor every service runs: identity and roles in, errors out.

It requires ``x-org-id`` on every RPC except health checks and reflection, checks the caller's
roles against the permission table (:mod:`beez.kit.grpc.permissions`), makes the caller's
:class:`Identity` current for the handler, and maps exceptions to google.rpc statuses:
:class:`ServiceError` to its code with details, lost database or NATS connections to
UNAVAILABLE, anything else to INTERNAL (logged with its traceback, never leaked).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

import grpc
from grpc_status import rpc_status

from beez.api.permissions import PERMISSIONS, Role
from beez.kit.grpc.errors import ServiceError, Unavailable
from beez.kit.grpc.identity import reset_identity, set_identity
from beez.kit.grpc.peers import TrustedPeers
from beez.kit.grpc.permissions import authorized_identity
from beez.kit.logging import get_logger

log = get_logger(__name__)

OPEN_PREFIXES = ("/grpc.health.v1.Health/", "/grpc.reflection.")


def _is_unavailable(exc: BaseException) -> bool:
    """True for errors that mean a dependency is down rather than a bug."""
    from nats.errors import ConnectionClosedError, NoRespondersError
    from nats.errors import TimeoutError as NatsTimeout
    from sqlalchemy.exc import DBAPIError

    if isinstance(exc, DBAPIError):
        return (
            bool(exc.connection_invalidated)
            or exc.orig is None
            or type(exc.orig).__name__
            in (
                "OperationalError",
                "InterfaceError",
            )
        )
    return isinstance(
        exc, ConnectionClosedError | NoRespondersError | NatsTimeout | ConnectionError | OSError
    )


async def _abort(context: grpc.aio.ServicerContext[Any, Any], exc: BaseException, method: str) -> None:
    if isinstance(exc, ServiceError):
        error: ServiceError = exc
    elif _is_unavailable(exc):
        log.warning("dependency unavailable", method=method, error=repr(exc))
        error = Unavailable("a dependency is unavailable; retry shortly")
    else:
        log.exception("unhandled error in RPC", method=method)
        await context.abort(grpc.StatusCode.INTERNAL, "internal error")
        return
    await context.abort_with_status(rpc_status.to_status(error.to_status()))


class ServiceInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    """Identity, roles and error mapping for every unary and streaming RPC.

    With ``peers`` (production), only the callers it allows may pass identity metadata.
    ``local_mode`` gives a caller that sends no ``x-roles`` every role (development only);
    ``permissions`` is the role each RPC needs (the contracts' table unless a test adds its own).
    """

    def __init__(
        self,
        peers: TrustedPeers | None = None,
        *,
        local_mode: bool = False,
        permissions: Mapping[str, Role] = PERMISSIONS,
    ) -> None:
        self.peers = peers
        self.local_mode = local_mode
        self.permissions = permissions

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(details)
        method: str = details.method
        if handler is None or method.startswith(OPEN_PREFIXES):
            return handler
        if self.peers is not None:
            handler = self.peers.guard(handler)
        if handler.unary_unary:
            return grpc.unary_unary_rpc_method_handler(
                self._wrap_unary(handler.unary_unary, method),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.unary_stream:
            return grpc.unary_stream_rpc_method_handler(
                self._wrap_stream(handler.unary_stream, method),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.stream_unary:
            return grpc.stream_unary_rpc_method_handler(
                self._wrap_unary(handler.stream_unary, method),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        return grpc.stream_stream_rpc_method_handler(
            self._wrap_stream(handler.stream_stream, method),
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )

    def _wrap_unary(
        self, behavior: Callable[..., Awaitable[Any]], method: str
    ) -> Callable[..., Awaitable[Any]]:
        local_mode, permissions = self.local_mode, self.permissions

        async def wrapped(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            try:
                metadata = context.invocation_metadata()
                identity = authorized_identity(
                    method, metadata, local_mode=local_mode, permissions=permissions
                )
            except ServiceError as exc:
                await _abort(context, exc, method)
                return None
            token = set_identity(identity)
            try:
                return await behavior(request, context)
            except grpc.aio.AbortError:
                raise
            except Exception as exc:
                await _abort(context, exc, method)
                return None
            finally:
                reset_identity(token)

        return wrapped

    def _wrap_stream(
        self, behavior: Callable[..., AsyncIterator[Any]], method: str
    ) -> Callable[..., AsyncIterator[Any]]:
        local_mode, permissions = self.local_mode, self.permissions

        async def wrapped(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> AsyncIterator[Any]:
            try:
                metadata = context.invocation_metadata()
                identity = authorized_identity(
                    method, metadata, local_mode=local_mode, permissions=permissions
                )
            except ServiceError as exc:
                await _abort(context, exc, method)
                return
            token = set_identity(identity)
            try:
                async for item in behavior(request, context):
                    yield item
            except grpc.aio.AbortError:
                raise
            except Exception as exc:
                await _abort(context, exc, method)
            finally:
                reset_identity(token)

        return wrapped
