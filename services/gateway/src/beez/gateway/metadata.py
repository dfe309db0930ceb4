"""What the gateway passes from HTTP headers to gRPC metadata: identity and trace context.

Services trust ``x-org-id``/``x-user-id`` metadata (``beez.kit.grpc.identity``), so only the
gateway may set them, from a verified source. In local mode (development, tests) that source is
the ``X-Org-Id``/``X-User-Id`` headers. Production verifies a JWT instead; until that exists,
``local_mode=False`` refuses every call rather than pretending to verify anything.

Only the headers named here are forwarded: a client cannot smuggle arbitrary metadata through.
"""

from __future__ import annotations

from collections.abc import Mapping

import grpc

from beez.gateway.errors import GatewayError
from beez.kit.grpc.identity import ORG_HEADER, USER_HEADER

ORG_HTTP_HEADER = "X-Org-Id"
USER_HTTP_HEADER = "X-User-Id"
TRACE_HEADERS = ("traceparent", "tracestate")

Metadata = tuple[tuple[str, str], ...]


def outgoing_metadata(headers: Mapping[str, str], *, local_mode: bool) -> Metadata:
    """The metadata for the backend call, or an UNAUTHENTICATED :class:`GatewayError`.

    ``headers`` must look names up case-insensitively (aiohttp's request headers do).
    """
    if not local_mode:
        raise GatewayError(grpc.StatusCode.UNAUTHENTICATED, "JWT verification is not configured")
    org = headers.get(ORG_HTTP_HEADER, "").strip()
    if not org:
        raise GatewayError(
            grpc.StatusCode.UNAUTHENTICATED, f"missing organization: set the {ORG_HTTP_HEADER} header"
        )
    metadata: list[tuple[str, str]] = [(ORG_HEADER, _header_value(ORG_HTTP_HEADER, org))]
    user = headers.get(USER_HTTP_HEADER, "").strip()
    if user:
        metadata.append((USER_HEADER, _header_value(USER_HTTP_HEADER, user)))
    for name in TRACE_HEADERS:
        value = headers.get(name, "").strip()
        if value and _is_metadata_safe(value):
            metadata.append((name, value))
    return tuple(metadata)


def _header_value(name: str, value: str) -> str:
    """``value`` if gRPC metadata can carry it (printable ASCII), else UNAUTHENTICATED."""
    if not _is_metadata_safe(value):
        raise GatewayError(grpc.StatusCode.UNAUTHENTICATED, f"invalid {name} header: use printable ASCII")
    return value


def _is_metadata_safe(value: str) -> bool:
    return value.isascii() and value.isprintable()
