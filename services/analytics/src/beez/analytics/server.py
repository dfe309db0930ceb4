"""Assembles the analytics service: its servicer, probes and background loops."""

from __future__ import annotations

from datetime import timedelta

import grpc

from beez.analytics.config import AnalyticsSettings
from beez.analytics.consumers import DURABLE, ExecutionEventsConsumer, inbox_purger
from beez.analytics.handlers import AnalyticsServicer
from beez.analytics.service import AnalyticsService
from beez.api.analytics.v1 import analytics_pb2, analytics_pb2_grpc
from beez.kit.grpc.server import ServerSpec
from beez.kit.runtime import Runtime

SERVICE_NAMES = [
    analytics_pb2.DESCRIPTOR.services_by_name["AnalyticsService"].full_name,
]


async def build(runtime: Runtime) -> ServerSpec:
    """The analytics service's part of the server: the stats RPC and the lifecycle consumer."""
    settings = runtime.settings
    assert isinstance(settings, AnalyticsSettings)
    service = AnalyticsService(runtime.db, runtime.clock, duration_samples=settings.duration_samples)
    consumer = ExecutionEventsConsumer(
        runtime.topology,
        service,
        concurrency=settings.executions_concurrency,
        max_batch=settings.executions_batch_max,
        linger=settings.executions_linger_s,
    )

    def register(server: grpc.aio.Server) -> None:
        analytics_pb2_grpc.add_AnalyticsServiceServicer_to_server(AnalyticsServicer(service), server)

    return ServerSpec(
        register=register,
        service_names=SERVICE_NAMES,
        probes={},
        background=[
            runtime.consumers(DURABLE, consumer.workers),
            inbox_purger(service, timedelta(days=settings.inbox_retention_days)),
        ],
    )
