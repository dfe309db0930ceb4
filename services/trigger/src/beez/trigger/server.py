"""Assembles the trigger service: its servicers, probes and background loops."""

from __future__ import annotations

import grpc

from beez.api.trigger.v1 import trigger_pb2, trigger_pb2_grpc
from beez.kit.grpc.server import ServerSpec
from beez.kit.runtime import Runtime
from beez.trigger import models

SERVICE_NAMES = [
    trigger_pb2.DESCRIPTOR.services_by_name["EventService"].full_name,
]


async def build(runtime: Runtime) -> ServerSpec:
    """The trigger service's part of the server."""

    def register(server: grpc.aio.Server) -> None:
        event_service = trigger_pb2_grpc.EventServiceServicer()  # type: ignore[abstract]
        trigger_pb2_grpc.add_EventServiceServicer_to_server(event_service, server)

    return ServerSpec(
        register=register,
        service_names=SERVICE_NAMES,
        probes={},
        background=[runtime.outbox_relay(models.outbox)],
    )
