"""Assembles the beezora service: its servicers, probes and background loops."""

from __future__ import annotations

import grpc

from beez.kit.grpc.server import ServerSpec
from beez.kit.runtime import Runtime

SERVICE_NAMES: list[str] = []


async def build(runtime: Runtime) -> ServerSpec:
    """The beezora service's part of the server."""

    def register(server: grpc.aio.Server) -> None:
        del server

    return ServerSpec(register=register, service_names=SERVICE_NAMES, probes={}, background=[])
