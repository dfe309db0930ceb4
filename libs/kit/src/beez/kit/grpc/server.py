"""The grpc.aio server every service runs.

It serves the service's own RPCs behind the tracing and identity/error interceptors, plus the
standard health and reflection services; keeps health in step with the dependencies; runs the
service's background loops (consumers, relays); and drains on SIGTERM: health goes NOT_SERVING
first so load balancers stop sending, in-flight RPCs get ``drain_grace_s`` to finish, and the
background loops are stopped last.

With TLS files it serves mutual TLS only (client certificates required, the files re-read when
they change, see :mod:`beez.kit.tls`); with ``peers`` only trusted callers may pass identity
metadata (:mod:`beez.kit.grpc.peers`). Without TLS files it is plaintext: local mode only.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer
from grpc_reflection.v1alpha import reflection

from beez.api.permissions import PERMISSIONS, Role
from beez.kit.grpc.health import HealthMonitor, Probe
from beez.kit.grpc.interceptors import ServiceInterceptor
from beez.kit.grpc.peers import TrustedPeers
from beez.kit.logging import get_logger
from beez.kit.telemetry import grpc_server_interceptor
from beez.kit.tls import TlsFiles, server_credentials

log = get_logger(__name__)


@dataclass
class ServerSpec:
    """What one service contributes to the shared server."""

    register: Callable[[grpc.aio.Server], None]
    service_names: Sequence[str]
    probes: Mapping[str, Probe]
    background: Sequence[Callable[[], Awaitable[None]]] = field(default_factory=list)
    on_stop: Sequence[Callable[[], Awaitable[None]]] = field(default_factory=list)


class Server:
    """A started server; :meth:`wait` blocks until a stop signal, then drains."""

    def __init__(
        self,
        spec: ServerSpec,
        host: str,
        port: int,
        *,
        health_interval_s: float,
        drain_grace_s: float,
        tls: TlsFiles | None = None,
        peers: TrustedPeers | None = None,
        local_mode: bool = False,
        permissions: Mapping[str, Role] = PERMISSIONS,
        max_concurrent_rpcs: int | None = None,
    ):
        self.spec = spec
        self.health = HealthServicer()
        self.monitor = HealthMonitor(self.health, spec.service_names, spec.probes, health_interval_s)
        self.drain_grace_s = drain_grace_s
        guard = ServiceInterceptor(peers, local_mode=local_mode, permissions=permissions)
        interceptors = [grpc_server_interceptor(), guard]
        # Past the limit grpc refuses a call with RESOURCE_EXHAUSTED before it runs anything.
        self.grpc = grpc.aio.server(interceptors=interceptors, maximum_concurrent_rpcs=max_concurrent_rpcs)
        spec.register(self.grpc)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.grpc)
        names = [*spec.service_names, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name]
        reflection.enable_server_reflection([*names, reflection.SERVICE_NAME], self.grpc)
        address = f"{host}:{port}"
        if tls is None:
            self.port = self.grpc.add_insecure_port(address)
        else:
            self.port = self.grpc.add_secure_port(address, server_credentials(tls))
        self.secure = tls is not None
        self._tasks: list[asyncio.Task[None]] = []
        self._stop = asyncio.Event()

    async def start(self) -> None:
        await self.monitor.check_once()
        await self.grpc.start()
        self._tasks.append(asyncio.create_task(self.monitor.run(), name="health"))
        for loop in self.spec.background:
            self._tasks.append(asyncio.create_task(_forever(loop), name=getattr(loop, "__qualname__", "bg")))
        log.info("serving", port=self.port, mtls=self.secure, services=list(self.spec.service_names))

    def request_stop(self) -> None:
        self._stop.set()

    async def wait(self) -> None:
        """Waits for SIGTERM/SIGINT (or :meth:`request_stop`), then drains and stops."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, self._stop.set)
        await self._stop.wait()
        await self.stop()

    async def stop(self) -> None:
        log.info("draining", grace_s=self.drain_grace_s)
        await self.monitor.stop()
        await self.grpc.stop(self.drain_grace_s)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for hook in self.spec.on_stop:
            with contextlib.suppress(Exception):
                await hook()
        log.info("stopped")


async def _forever(loop: Callable[[], Awaitable[None]]) -> None:
    """Runs a background loop, restarting it after an unexpected error instead of dying."""
    while True:
        try:
            await loop()
            return
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("background loop failed; restarting", loop=getattr(loop, "__qualname__", "?"))
            await asyncio.sleep(1.0)
