"""Assembles the automation service: its servicers, probes and background loops."""

from __future__ import annotations

import grpc

from beez.api.automation.v1 import automation_pb2, automation_pb2_grpc, catalog_pb2, catalog_pb2_grpc
from beez.automation import models
from beez.kit.grpc.server import ServerSpec
from beez.kit.runtime import Runtime

SERVICE_NAMES = [
    automation_pb2.DESCRIPTOR.services_by_name["AutomationService"].full_name,
    catalog_pb2.DESCRIPTOR.services_by_name["CatalogService"].full_name,
]


async def build(runtime: Runtime) -> ServerSpec:
    """The automation service's part of the server."""

    def register(server: grpc.aio.Server) -> None:
        automation_service = automation_pb2_grpc.AutomationServiceServicer()  # type: ignore[abstract]
        automation_pb2_grpc.add_AutomationServiceServicer_to_server(automation_service, server)
        catalog_service = catalog_pb2_grpc.CatalogServiceServicer()  # type: ignore[abstract]
        catalog_pb2_grpc.add_CatalogServiceServicer_to_server(catalog_service, server)

    return ServerSpec(
        register=register,
        service_names=SERVICE_NAMES,
        probes={},
        background=[runtime.outbox_relay(models.outbox)],
    )
