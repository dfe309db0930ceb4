"""Asks each component whether it is healthy: gRPC health checks and the gateway's /healthz.

The gRPC checks are plaintext, or mutual TLS presenting ``tls`` (a ``beez up --tls`` stack).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import grpc
import httpx
from grpc_health.v1 import health_pb2, health_pb2_grpc

from beez.cli.components import Component
from beez.kit.tls import TlsFiles, channel


@dataclass(frozen=True)
class Health:
    component: Component
    status: str

    @property
    def healthy(self) -> bool:
        return self.status == "SERVING"


async def check(component: Component, timeout: float = 1.5, tls: TlsFiles | None = None) -> Health:
    """The component's health: SERVING, NOT_SERVING, or UNREACHABLE."""
    if component.http:
        try:
            async with httpx.AsyncClient(timeout=timeout) as client:
                resp = await client.get(f"http://{component.address}/healthz")
            return Health(component, "SERVING" if resp.status_code == 200 else f"HTTP {resp.status_code}")
        except httpx.HTTPError:
            return Health(component, "UNREACHABLE")
    async with channel(component.address, tls) as health:
        try:
            resp = await health_pb2_grpc.HealthStub(health).Check(
                health_pb2.HealthCheckRequest(), timeout=timeout
            )
            return Health(component, health_pb2.HealthCheckResponse.ServingStatus.Name(resp.status))
        except grpc.aio.AioRpcError:
            return Health(component, "UNREACHABLE")


async def check_all(components: list[Component], tls: TlsFiles | None = None) -> list[Health]:
    return list(await asyncio.gather(*(check(c, tls=tls) for c in components)))
