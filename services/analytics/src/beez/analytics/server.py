"""Assembles the analytics service: its servicers, probes and background loops."""

from __future__ import annotations

import grpc

from beez.api.analytics.v1 import analytics_pb2, analytics_pb2_grpc
from beez.kit.grpc.server import ServerSpec
from beez.kit.runtime import Runtime

SERVICE_NAMES = [
    analytics_pb2.DESCRIPTOR.services_by_name["AnalyticsService"].full_name,
]


async def build(runtime: Runtime) -> ServerSpec:
    """The analytics service's part of the server."""

    def register(server: grpc.aio.Server) -> None:
        analytics_service = analytics_pb2_grpc.AnalyticsServiceServicer()  # type: ignore[abstract]
        analytics_pb2_grpc.add_AnalyticsServiceServicer_to_server(analytics_service, server)

    return ServerSpec(register=register, service_names=SERVICE_NAMES, probes={}, background=[])
