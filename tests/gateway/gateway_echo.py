"""The in-process gRPC backend of the gateway tests: EchoService on a free port.

Every RPC records what it received (the typed request and the invocation metadata) and answers
an ``EchoResponse`` carrying the request as JSON and the identity it saw, so tests can check the
HTTP -> gRPC mapping both from the outside (the HTTP answer) and the inside (the recorded call).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import grpc
from google.protobuf import any_pb2, json_format, struct_pb2
from google.protobuf.message import Message
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_status import rpc_status

import beez.testing.v1.echo_pb2 as echo_pb2
import beez.testing.v1.echo_pb2_grpc as echo_pb2_grpc
from beez.api.permissions import Role

SERVICE = echo_pb2.DESCRIPTOR.services_by_name["EchoService"]

_WRITES = {"CreateThing": Role.EDITOR, "UpdateThing": Role.EDITOR, "PatchThing": Role.EDITOR}
_ROLES = {**_WRITES, "DeleteThing": Role.EDITOR, "ReportThings": Role.ADMIN}
ECHO_PERMISSIONS: dict[str, Role] = {
    f"/{SERVICE.full_name}/{method.name}": _ROLES.get(method.name, Role.VIEWER) for method in SERVICE.methods
}
"""The test contract's permission table: reads for viewers, writes for editors, ReportThings for admins."""


@dataclass
class Call:
    """One RPC as the backend saw it."""

    rpc: str
    request: Any
    metadata: dict[str, str]


@dataclass
class EchoServicer(echo_pb2_grpc.EchoServiceServicer):  # type: ignore[misc]
    """Records each call and echoes it back."""

    calls: list[Call] = field(default_factory=list)

    async def _echo(self, rpc: str, request: Message, context: Any) -> echo_pb2.EchoResponse:
        metadata = {k: v for k, v in context.invocation_metadata() if isinstance(v, str)}
        self.calls.append(Call(rpc, request, metadata))
        echoed = struct_pb2.Struct()
        echoed.update(json_format.MessageToDict(request))
        return echo_pb2.EchoResponse(
            rpc=rpc,
            request=echoed,
            org_id=metadata.get("x-org-id", ""),
            user_id=metadata.get("x-user-id", ""),
            traceparent=metadata.get("traceparent", ""),
            big_number=2**53 + 1,
            present_zero=0,
        )

    async def GetThing(self, request: Any, context: Any) -> Any:
        return await self._echo("GetThing", request, context)

    async def GetSpecialThing(self, request: Any, context: Any) -> Any:
        return await self._echo("GetSpecialThing", request, context)

    async def SearchParts(self, request: Any, context: Any) -> Any:
        return await self._echo("SearchParts", request, context)

    async def GetPart(self, request: Any, context: Any) -> Any:
        return await self._echo("GetPart", request, context)

    async def ListThings(self, request: Any, context: Any) -> Any:
        await self._echo("ListThings", request, context)
        things = [echo_pb2.Thing(id=f"t{i}", count=i) for i in range(request.page_size)]
        return echo_pb2.ListThingsResponse(things=things, next_page_token="next")

    async def CreateThing(self, request: Any, context: Any) -> Any:
        return await self._echo("CreateThing", request, context)

    async def UpdateThing(self, request: Any, context: Any) -> Any:
        return await self._echo("UpdateThing", request, context)

    async def PatchThing(self, request: Any, context: Any) -> Any:
        return await self._echo("PatchThing", request, context)

    async def DeleteThing(self, request: Any, context: Any) -> Any:
        await self._echo("DeleteThing", request, context)
        return echo_pb2.DeleteThingResponse()

    async def ReportThings(self, request: Any, context: Any) -> Any:
        return await self._echo("ReportThings", request, context)

    async def GetByName(self, request: Any, context: Any) -> Any:
        return await self._echo("GetByName", request, context)

    async def Internal(self, request: Any, context: Any) -> Any:
        return await self._echo("Internal", request, context)

    async def WatchThings(self, request: Any, context: Any) -> AsyncIterator[Any]:
        await self._echo("WatchThings", request, context)
        yield echo_pb2.Thing(id="t0")

    async def FailThing(self, request: Any, context: Any) -> Any:
        await self._echo("FailThing", request, context)
        if request.mode == "invalid":
            violation = error_details_pb2.BadRequest.FieldViolation(
                field="thing.display_name", description="must not be empty"
            )
            detail = any_pb2.Any()
            detail.Pack(error_details_pb2.BadRequest(field_violations=[violation]))
            status = status_pb2.Status(
                code=code_pb2.INVALID_ARGUMENT, message="thing is invalid", details=[detail]
            )
            await context.abort_with_status(rpc_status.to_status(status))
        if request.mode == "not_found":
            await context.abort(grpc.StatusCode.NOT_FOUND, f"thing {request.id} not found")
        if request.mode == "exhausted":
            await context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, "slow down")
        if request.mode == "slow":
            await asyncio.sleep(2)
        raise ValueError("secret internals at 10.0.0.7")


@dataclass
class Backend:
    """A running EchoService, its recorded calls and a client channel to it."""

    servicer: EchoServicer
    server: grpc.aio.Server
    channel: grpc.aio.Channel
    health: Any
    address: str

    @property
    def calls(self) -> list[Call]:
        return self.servicer.calls


async def start_backend() -> Backend:
    """Starts EchoService (with grpc.health.v1 reporting it SERVING) on 127.0.0.1, port 0."""
    server = grpc.aio.server()
    servicer = EchoServicer()
    echo_pb2_grpc.add_EchoServiceServicer_to_server(servicer, server)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    await health_servicer.set(SERVICE.full_name, health_pb2.HealthCheckResponse.SERVING)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    address = f"127.0.0.1:{port}"
    return Backend(servicer, server, grpc.aio.insecure_channel(address), health_servicer, address)


async def stop_backend(backend: Backend) -> None:
    await backend.channel.close()
    await backend.server.stop(None)
