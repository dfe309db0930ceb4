"""Assembles the executor service: its servicers, probes and background loops."""

from __future__ import annotations

import grpc

from beez.api.executor.v1 import executor_pb2, executor_pb2_grpc
from beez.executor import models
from beez.kit.grpc.server import ServerSpec
from beez.kit.runtime import Runtime

SERVICE_NAMES = [
    executor_pb2.DESCRIPTOR.services_by_name["ExecutionService"].full_name,
]


async def build(runtime: Runtime) -> ServerSpec:
    """The executor service's part of the server."""

    def register(server: grpc.aio.Server) -> None:
        execution_service = executor_pb2_grpc.ExecutionServiceServicer()  # type: ignore[abstract]
        executor_pb2_grpc.add_ExecutionServiceServicer_to_server(execution_service, server)

    return ServerSpec(
        register=register,
        service_names=SERVICE_NAMES,
        probes={},
        background=[runtime.outbox_relay(models.outbox)],
    )
