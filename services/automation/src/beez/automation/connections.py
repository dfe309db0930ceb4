"""An organization's connections, asked of the executor, which owns them (decision 0040).

Validation checks that every step naming a connection names one the organization has, of a
provider its action can use, and that no step must choose among several
(:func:`beez.workflow.connections.connection_issues`). The list (ids, names and providers; the
executor never returns credentials) comes from ``ConnectionService.ListConnections`` with the
caller's identity, so it is the caller's organization's, and is cached per organization for
``cache_s``; a check that finds a problem asks again before it reports it, so a connection
created a moment ago is seen. When the executor cannot answer, the check is skipped (a warning
is logged): the executor fails a step whose connection is missing when it runs.
"""

from __future__ import annotations

import time
from typing import Protocol

import grpc

from beez.api.executor.v1 import connections_pb2, connections_pb2_grpc
from beez.automation.stats import RECONNECT_OPTIONS
from beez.kit.cache import BoundedCache
from beez.kit.grpc.identity import Identity, identity_metadata
from beez.kit.logging import get_logger
from beez.kit.telemetry import grpc_client_interceptors
from beez.kit.tls import TlsFiles, channel
from beez.workflow.connections import KnownConnection

__all__ = ["ConnectionsSource", "ExecutorConnections"]

log = get_logger(__name__)


class ConnectionsSource(Protocol):
    """Where validation learns an organization's connections."""

    async def connections(self, identity: Identity, *, fresh: bool = False) -> list[KnownConnection] | None:
        """The caller's organization's connections, or None when they cannot be had right now."""
        ...


class ExecutorConnections:
    """A :class:`ConnectionsSource` calling ``ConnectionService.ListConnections``, cached."""

    def __init__(
        self,
        address: str,
        timeout_s: float,
        tls: TlsFiles | None = None,
        *,
        cache_s: float = 10.0,
        max_entries: int = 10_000,
    ) -> None:
        self.address = address
        self._timeout_s = timeout_s
        self._cache_s = cache_s
        self._cache: BoundedCache[str, tuple[float, list[KnownConnection]]] = BoundedCache(
            max_entries=max_entries,
            max_bytes=max_entries * 2048,
            sizeof=lambda entry: 128 + 256 * len(entry[1]),
        )
        self._channel = channel(
            address, tls, options=RECONNECT_OPTIONS, interceptors=grpc_client_interceptors()
        )
        self._stub = connections_pb2_grpc.ConnectionServiceStub(self._channel)

    async def connections(self, identity: Identity, *, fresh: bool = False) -> list[KnownConnection] | None:
        org_id = identity.org_id
        now = time.monotonic()
        cached = self._cache.get(org_id)
        if not fresh and cached is not None and now - cached[0] < self._cache_s:
            return cached[1]
        try:
            reply = await self._stub.ListConnections(
                connections_pb2.ListConnectionsRequest(),
                metadata=identity_metadata(identity),
                timeout=self._timeout_s,
            )
        except grpc.aio.AioRpcError as exc:
            log.warning(
                "executor unavailable; workflow connections not checked",
                executor=self.address,
                code=exc.code().name,
                error=exc.details(),
            )
            return None
        found = [KnownConnection(c.id, c.name, c.provider) for c in reply.connections]
        self._cache.put(org_id, (now, found))
        return found

    async def close(self) -> None:
        await self._channel.close()
