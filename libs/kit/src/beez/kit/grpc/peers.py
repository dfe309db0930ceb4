"""Trusted peers: identity metadata is accepted only from callers whose certificate allows it.

In production every connection is mutual TLS (:mod:`beez.kit.tls`), so each call has a peer
certificate verified against the CA. Its subject common name is the caller's name
(``gateway``, ``automation``, an internal platform caller...). A call carrying ``x-org-id`` /
``x-user-id`` / ``x-roles`` acts for that organization and user, so only the callers listed in
``BEEZ_TLS_ALLOWED_CALLERS`` may make one: any other certificate holder gets
PERMISSION_DENIED, and a call without a verified certificate UNAUTHENTICATED. Health checks
and reflection carry no identity and stay open to every certificate holder.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import Any, TypeAlias

import grpc

from beez.kit.grpc.errors import PermissionDenied, Unauthenticated

Context: TypeAlias = "grpc.aio.ServicerContext[Any, Any]"


def peer_name(context: Context) -> str | None:
    """The common name of the caller's verified certificate, or None without one."""
    auth = context.auth_context() or {}
    names = auth.get("x509_common_name") or []
    return names[0].decode() if names else None


class TrustedPeers:
    """The callers allowed to pass identity metadata, checked per call."""

    def __init__(self, allowed: Iterable[str]) -> None:
        self.allowed = frozenset(allowed)

    def check(self, context: Context) -> str:
        """The caller's name; raises unless it is an allowed caller."""
        name = peer_name(context)
        if name is None:
            raise Unauthenticated("a client certificate is required")
        if name not in self.allowed:
            raise PermissionDenied(f"caller {name!r} may not act for an organization")
        return name

    def guard(self, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        """``handler`` with :meth:`check` run before its behaviour, for every kind of RPC."""
        kinds: list[tuple[str, Callable[..., Any], Callable[..., Any]]] = [
            ("unary_unary", self._unary, grpc.unary_unary_rpc_method_handler),
            ("unary_stream", self._stream, grpc.unary_stream_rpc_method_handler),
            ("stream_unary", self._unary, grpc.stream_unary_rpc_method_handler),
            ("stream_stream", self._stream, grpc.stream_stream_rpc_method_handler),
        ]
        for attribute, wrap, build in kinds:
            behavior = getattr(handler, attribute)
            if behavior is not None:
                result: grpc.RpcMethodHandler = build(
                    wrap(behavior),
                    request_deserializer=handler.request_deserializer,
                    response_serializer=handler.response_serializer,
                )
                return result
        return handler

    def _unary(self, behavior: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        async def checked(request: Any, context: Context) -> Any:
            self.check(context)
            return await behavior(request, context)

        return checked

    def _stream(self, behavior: Callable[..., AsyncIterator[Any]]) -> Callable[..., AsyncIterator[Any]]:
        async def checked(request: Any, context: Context) -> AsyncIterator[Any]:
            self.check(context)
            async for item in behavior(request, context):
                yield item

        return checked
