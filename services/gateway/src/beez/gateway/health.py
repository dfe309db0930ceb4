"""The gateway's own probes: ``/healthz`` (liveness) and ``/readyz`` (backends' readiness).

Liveness says only that this process answers HTTP, so a backend outage never gets the gateway
restarted. Readiness asks each backend's standard ``grpc.health.v1.Health/Check`` for each
service the gateway routes to, and is 503 unless every one is SERVING, naming the ones that are
not.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import grpc
from aiohttp import web
from grpc_health.v1 import health_pb2

HEALTH_CHECK = "/grpc.health.v1.Health/Check"
SERVING = "SERVING"


async def healthz(_: web.Request) -> web.Response:
    """Liveness: 200 while the process serves HTTP."""
    return web.json_response({"status": "ok"})


class Readiness:
    """``/readyz``: every backend service's health, checked concurrently with a short deadline."""

    def __init__(self, backends: Mapping[str, grpc.aio.Channel], timeout_s: float = 2.0) -> None:
        self.timeout_s = timeout_s
        self.checks = {
            name: channel.unary_unary(
                HEALTH_CHECK,
                request_serializer=health_pb2.HealthCheckRequest.SerializeToString,
                response_deserializer=health_pb2.HealthCheckResponse.FromString,
            )
            for name, channel in backends.items()
        }

    async def check(self, service: str) -> str:
        """``SERVING``/``NOT_SERVING``/..., or the gRPC code of a failed check (``UNAVAILABLE``)."""
        try:
            response = await self.checks[service](
                health_pb2.HealthCheckRequest(service=service), timeout=self.timeout_s
            )
        except grpc.aio.AioRpcError as exc:
            return str(exc.code().name)
        return str(health_pb2.HealthCheckResponse.ServingStatus.Name(response.status))

    async def handle(self, _: web.Request) -> web.Response:
        names = sorted(self.checks)
        results = await asyncio.gather(*(self.check(name) for name in names))
        services = dict(zip(names, results, strict=True))
        ready = all(status == SERVING for status in results)
        return web.json_response(
            {"status": "ok" if ready else "unavailable", "services": services}, status=200 if ready else 503
        )
