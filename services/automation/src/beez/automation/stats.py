"""Execution stats for GetAutomation, asked of the analytics service over gRPC.

Analytics owns the numbers (it consumes the execution lifecycle); automation never reads its
schema. The call forwards the caller's identity, so analytics scopes it to the same
organization. Stats are a decoration: when analytics is down, slow or failing, GetAutomation
still answers, without stats, and a warning is logged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import grpc

from beez.api.analytics.v1 import analytics_pb2, analytics_pb2_grpc
from beez.kit.grpc.identity import Identity, identity_metadata
from beez.kit.logging import get_logger
from beez.kit.telemetry import grpc_client_interceptors
from beez.kit.tls import TlsFiles, channel

log = get_logger(__name__)

RECONNECT_OPTIONS = [("grpc.initial_reconnect_backoff_ms", 200), ("grpc.max_reconnect_backoff_ms", 5000)]
"""Calls fail fast while analytics is away; this keeps stats from staying away long after it is back
(gRPC's default reconnect backoff grows to two minutes)."""


@dataclass(frozen=True)
class Stats:
    """An automation's execution counts and duration percentiles."""

    total: int = 0
    succeeded: int = 0
    failed: int = 0
    cancelled: int = 0
    success_rate: float = 0.0
    duration_p50_ms: float = 0.0
    duration_p95_ms: float = 0.0
    duration_p99_ms: float = 0.0


class StatsSource(Protocol):
    """Where GetAutomation gets stats from."""

    async def automation_stats(self, identity: Identity, automation_id: str) -> Stats | None:
        """The automation's stats, or None when they cannot be had right now."""
        ...


class AnalyticsStats:
    """A :class:`StatsSource` calling ``AnalyticsService.GetAutomationStats`` (over mutual TLS
    with automation's own certificate when ``tls`` is given)."""

    def __init__(self, address: str, timeout_s: float, tls: TlsFiles | None = None) -> None:
        self.address = address
        self._timeout_s = timeout_s
        self._channel = channel(
            address, tls, options=RECONNECT_OPTIONS, interceptors=grpc_client_interceptors()
        )
        self._stub = analytics_pb2_grpc.AnalyticsServiceStub(self._channel)

    async def automation_stats(self, identity: Identity, automation_id: str) -> Stats | None:
        metadata = identity_metadata(identity)
        request = analytics_pb2.GetAutomationStatsRequest(automation_id=automation_id)
        try:
            reply = await self._stub.GetAutomationStats(request, metadata=metadata, timeout=self._timeout_s)
        except grpc.aio.AioRpcError as exc:
            log.warning(
                "analytics unavailable; answering without stats",
                analytics=self.address,
                automation_id=automation_id,
                code=exc.code().name,
                error=exc.details(),
            )
            return None
        return Stats(
            total=reply.total,
            succeeded=reply.succeeded,
            failed=reply.failed,
            cancelled=reply.cancelled,
            success_rate=reply.success_rate,
            duration_p50_ms=reply.duration_p50_ms,
            duration_p95_ms=reply.duration_p95_ms,
            duration_p99_ms=reply.duration_p99_ms,
        )

    async def close(self) -> None:
        await self._channel.close()
