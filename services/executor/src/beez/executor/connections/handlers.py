"""ConnectionService over gRPC: requests to calls of :class:`.service.Connections`, rows to protos.

No response ever carries a credential: :func:`connection_proto` has no field for one.
"""

from __future__ import annotations

from typing import Any

from beez.api.executor.v1 import connections_pb2 as pb
from beez.api.executor.v1 import connections_pb2_grpc
from beez.executor.connections.callbacks import Signed
from beez.executor.connections.service import Connections
from beez.executor.connections.store import ConnectionRow
from beez.executor.messages import timestamp
from beez.kit.clock import Clock
from beez.kit.grpc.errors import require
from beez.kit.grpc.identity import current_identity
from beez.kit.ratelimit import Limit


def _limit(limit: Limit) -> pb.RateLimit:
    return pb.RateLimit(per_second=limit.rate, burst=limit.burst)


def connection_proto(row: ConnectionRow, connections: Connections, clock: Clock) -> pb.Connection:
    rate = connections.rate(row, clock.now())
    message = pb.Connection(
        id=row.id,
        provider=row.provider,
        name=row.name,
        credential_fields=row.fields,
        create_time=timestamp(row.created_at),
        created_by=row.created_by,
        default_rate_limit=_limit(rate.default),
        effective_rate_limit=_limit(rate.effective),
    )
    if rate.own is not None:
        message.rate_limit.CopyFrom(_limit(rate.own))
    if row.rotated_at is not None:
        message.rotate_time.CopyFrom(timestamp(row.rotated_at))
    if row.access_expires_at is not None:
        message.access_token_expire_time.CopyFrom(timestamp(row.access_expires_at))
    return message


class ConnectionServicer(connections_pb2_grpc.ConnectionServiceServicer):
    """The gRPC face of :class:`Connections`."""

    def __init__(self, connections: Connections, clock: Clock) -> None:
        self._connections = connections
        self._clock = clock

    def _proto(self, row: ConnectionRow) -> pb.Connection:
        return connection_proto(row, self._connections, self._clock)

    async def CreateConnection(
        self, request: pb.CreateConnectionRequest, context: Any
    ) -> pb.CreateConnectionResponse:
        require(provider=request.provider, name=request.name)
        identity = current_identity()
        row = await self._connections.create(
            identity.org_id,
            identity.user_id or "",
            request.provider,
            request.name,
            dict(request.credentials),
            (request.rate_limit.per_second, request.rate_limit.burst),
            self._clock.now(),
        )
        return pb.CreateConnectionResponse(connection=self._proto(row))

    async def ListConnections(
        self, request: pb.ListConnectionsRequest, context: Any
    ) -> pb.ListConnectionsResponse:
        rows = await self._connections.of_org(current_identity().org_id, request.provider)
        return pb.ListConnectionsResponse(connections=[self._proto(row) for row in rows])

    async def GetConnection(self, request: pb.GetConnectionRequest, context: Any) -> pb.GetConnectionResponse:
        require(id=request.id)
        row = await self._connections.get(current_identity().org_id, request.id)
        return pb.GetConnectionResponse(connection=self._proto(row))

    async def TestConnection(
        self, request: pb.TestConnectionRequest, context: Any
    ) -> pb.TestConnectionResponse:
        require(id=request.id)
        result = await self._connections.test(current_identity().org_id, request.id, self._clock.now())
        return pb.TestConnectionResponse(ok=result.ok, detail=result.detail, status_code=result.status_code)

    async def RotateConnection(
        self, request: pb.RotateConnectionRequest, context: Any
    ) -> pb.RotateConnectionResponse:
        require(id=request.id)
        row = await self._connections.rotate(
            current_identity().org_id, request.id, dict(request.credentials), self._clock.now()
        )
        return pb.RotateConnectionResponse(connection=self._proto(row))

    async def SetConnectionRateLimit(
        self, request: pb.SetConnectionRateLimitRequest, context: Any
    ) -> pb.SetConnectionRateLimitResponse:
        require(id=request.id)
        row = await self._connections.set_rate(
            current_identity().org_id, request.id, request.rate_limit.per_second, request.rate_limit.burst
        )
        return pb.SetConnectionRateLimitResponse(connection=self._proto(row))

    async def DeleteConnection(
        self, request: pb.DeleteConnectionRequest, context: Any
    ) -> pb.DeleteConnectionResponse:
        require(id=request.id)
        await self._connections.delete(current_identity().org_id, request.id)
        return pb.DeleteConnectionResponse()

    async def VerifyCallbackSignature(
        self, request: pb.VerifyCallbackSignatureRequest, context: Any
    ) -> pb.VerifyCallbackSignatureResponse:
        require(id=request.id)
        signed = Signed(request.url, [(p.name, p.value) for p in request.params], request.body)
        valid = await self._connections.verify_callback(
            current_identity().org_id, request.id, request.scheme, signed, request.signature
        )
        return pb.VerifyCallbackSignatureResponse(valid=valid)
