"""gRPC servicer: protobuf in, the service's domain calls, protobuf out, nothing else."""

from __future__ import annotations

from typing import Any

from beez.analytics.service import AnalyticsService
from beez.api.analytics.v1 import analytics_pb2, analytics_pb2_grpc
from beez.kit.grpc.identity import current_identity


class AnalyticsServicer(analytics_pb2_grpc.AnalyticsServiceServicer):
    """``beez.api.analytics.v1.AnalyticsService``."""

    def __init__(self, service: AnalyticsService) -> None:
        self._service = service

    async def GetAutomationStats(
        self, request: analytics_pb2.GetAutomationStatsRequest, context: Any
    ) -> analytics_pb2.GetAutomationStatsResponse:
        stats = await self._service.automation_stats(current_identity().org_id, request.automation_id)
        return analytics_pb2.GetAutomationStatsResponse(
            automation_id=stats.automation_id,
            total=stats.total,
            succeeded=stats.succeeded,
            failed=stats.failed,
            cancelled=stats.cancelled,
            success_rate=stats.success_rate,
            duration_p50_ms=stats.duration_p50_ms,
            duration_p95_ms=stats.duration_p95_ms,
            duration_p99_ms=stats.duration_p99_ms,
        )
