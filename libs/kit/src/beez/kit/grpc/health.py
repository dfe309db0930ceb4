"""Health that tells the truth: SERVING only while every dependency answers.

A :class:`HealthMonitor` probes the service's dependencies (PostgreSQL, NATS) on an interval and
sets the standard grpc.health.v1 status for the whole server and for each service name. It goes
NOT_SERVING as soon as a probe fails and back to SERVING by itself when they all pass again, so
Kubernetes readiness and ``beez status`` follow reality.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping, Sequence

from grpc_health.v1 import health_pb2
from grpc_health.v1._async import HealthServicer

from beez.kit.logging import get_logger

log = get_logger(__name__)

Probe = Callable[[], Awaitable[bool]]


class HealthMonitor:
    """Keeps a HealthServicer in step with the dependency probes."""

    def __init__(
        self,
        servicer: HealthServicer,
        service_names: Sequence[str],
        probes: Mapping[str, Probe],
        interval_s: float = 2.0,
        probe_timeout_s: float = 2.0,
    ) -> None:
        self.servicer = servicer
        self.service_names = ["", *service_names]
        self.probes = dict(probes)
        self.interval_s = interval_s
        self.probe_timeout_s = probe_timeout_s
        self.status: dict[str, bool] = {}
        self.serving: bool | None = None
        self._stopped = asyncio.Event()

    async def check_once(self) -> bool:
        """Runs every probe once and publishes the result; True when all pass."""
        results = await asyncio.gather(*(self._probe(p) for p in self.probes.values()))
        if self._stopped.is_set():
            return False  # a drain began while probing: its NOT_SERVING stands
        self.status = dict(zip(self.probes, results, strict=True))
        serving = all(results)
        if serving != self.serving:
            if self.serving is not None or not serving:
                log.info("health changed", serving=serving, dependencies=self.status)
            self.serving = serving
            await self._publish(
                health_pb2.HealthCheckResponse.SERVING
                if serving
                else health_pb2.HealthCheckResponse.NOT_SERVING
            )
        return serving

    async def _probe(self, probe: Probe) -> bool:
        try:
            return await asyncio.wait_for(probe(), self.probe_timeout_s)
        except Exception:
            return False

    async def _publish(self, status: health_pb2.HealthCheckResponse.ServingStatus.ValueType) -> None:
        for name in self.service_names:
            await self.servicer.set(name, status)

    async def run(self) -> None:
        """Probes until :meth:`stop`."""
        while not self._stopped.is_set():
            await self.check_once()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopped.wait(), self.interval_s)

    async def stop(self) -> None:
        """Marks everything NOT_SERVING for the drain, and stops probing."""
        self._stopped.set()
        self.serving = False
        await self.servicer.enter_graceful_shutdown()
