"""What the gateway passes to the backends as gRPC metadata: the verified identity and trace context.

Services trust ``x-org-id``/``x-user-id``/``x-roles`` metadata (``beez.kit.grpc.identity``) from
the gateway, so it sets them only from the identity its :mod:`~beez.gateway.authn` proved. Only
the trace headers named here are forwarded besides: a client cannot smuggle arbitrary metadata
(or its own ``x-roles``) through.
"""

from __future__ import annotations

from collections.abc import Mapping

from beez.kit.grpc.identity import Identity, identity_metadata

TRACE_HEADERS = ("traceparent", "tracestate")

Metadata = tuple[tuple[str, str], ...]


def outgoing_metadata(identity: Identity, headers: Mapping[str, str]) -> Metadata:
    """The metadata for the backend call; ``headers`` must look names up case-insensitively."""
    metadata = identity_metadata(identity)
    for name in TRACE_HEADERS:
        value = headers.get(name, "").strip()
        if value and value.isascii() and value.isprintable():
            metadata.append((name, value))
    return tuple(metadata)
