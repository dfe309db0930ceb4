"""A plaintext port that serves grpc.health.v1 and nothing else, for Kubernetes probes.

In production the service port requires a client certificate (mTLS), and the kubelet's native
``grpc:`` probes speak neither TLS nor client certificates. This second listener answers the
same health status (the server's own :class:`HealthServicer`, so it follows the dependency
probes and goes NOT_SERVING on drain) and exposes no other service, no reflection and no
identity: what it reveals is SERVING or NOT_SERVING.
"""

from __future__ import annotations

import grpc
from grpc_health.v1 import health_pb2_grpc
from grpc_health.v1._async import HealthServicer

from beez.kit.logging import get_logger

log = get_logger(__name__)


class HealthPort:
    """A started plaintext health listener; :meth:`stop` closes it."""

    def __init__(self, servicer: HealthServicer, host: str, port: int) -> None:
        self.grpc = grpc.aio.server()
        health_pb2_grpc.add_HealthServicer_to_server(servicer, self.grpc)
        self.port = self.grpc.add_insecure_port(f"{host}:{port}")

    async def start(self) -> None:
        await self.grpc.start()
        log.info("serving health", port=self.port)

    async def stop(self) -> None:
        await self.grpc.stop(0)
