"""The shared server: identity required, errors mapped to google.rpc statuses with details."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from beez.api.analytics.v1 import analytics_pb2, analytics_pb2_grpc
from beez.kit.grpc.errors import FieldViolation, InvalidArgument, NotFound
from beez.kit.grpc.identity import current_identity
from beez.kit.grpc.server import Server, ServerSpec


class Stats(analytics_pb2_grpc.AnalyticsServiceServicer):
    """Answers by automation id, so each test can pick the behaviour it needs."""

    async def GetAutomationStats(
        self, request: analytics_pb2.GetAutomationStatsRequest, context: Any
    ) -> analytics_pb2.GetAutomationStatsResponse:
        identity = current_identity()
        if request.automation_id == "invalid":
            raise InvalidArgument(
                "workflow is invalid",
                [
                    FieldViolation("actions[2].config.subject", "is required"),
                    FieldViolation("trigger.type", "unknown"),
                ],
            )
        if request.automation_id == "missing":
            raise NotFound("automation missing not found")
        if request.automation_id == "boom":
            raise RuntimeError("secret internal detail")
        return analytics_pb2.GetAutomationStatsResponse(
            automation_id=f"{identity.org_id}/{identity.user_id or '-'}/{request.automation_id}"
        )


async def healthy() -> bool:
    return True


@pytest.fixture
async def stub() -> AsyncIterator[analytics_pb2_grpc.AnalyticsServiceStub]:
    def register(server: grpc.aio.Server) -> None:
        analytics_pb2_grpc.add_AnalyticsServiceServicer_to_server(Stats(), server)

    spec = ServerSpec(
        register=register,
        service_names=["beez.api.analytics.v1.AnalyticsService"],
        probes={"always": healthy},
    )
    server = Server(spec, "127.0.0.1", 0, health_interval_s=0.1, drain_grace_s=0.5, local_mode=True)
    await server.start()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        yield analytics_pb2_grpc.AnalyticsServiceStub(channel)
    await server.stop()


def req(automation_id: str) -> analytics_pb2.GetAutomationStatsRequest:
    return analytics_pb2.GetAutomationStatsRequest(automation_id=automation_id)


async def test_identity_from_metadata_reaches_the_handler(
    stub: analytics_pb2_grpc.AnalyticsServiceStub,
) -> None:
    resp = await stub.GetAutomationStats(req("a1"), metadata=[("x-org-id", "org_1"), ("x-user-id", "u_9")])
    assert resp.automation_id == "org_1/u_9/a1"


async def test_a_call_without_organization_is_refused(stub: analytics_pb2_grpc.AnalyticsServiceStub) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.GetAutomationStats(req("a1"))
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert "x-org-id" in (err.value.details() or "")


async def test_an_organization_id_unsafe_for_subjects_is_refused(
    stub: analytics_pb2_grpc.AnalyticsServiceStub,
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.GetAutomationStats(req("a1"), metadata=[("x-org-id", "org.*")])
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_invalid_argument_carries_every_field_violation(
    stub: analytics_pb2_grpc.AnalyticsServiceStub,
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.GetAutomationStats(req("invalid"), metadata=[("x-org-id", "o")])
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    status = rpc_status.from_call(err.value)
    assert status is not None
    bad = error_details_pb2.BadRequest()
    assert status.details[0].Unpack(bad)
    assert [(v.field, v.description) for v in bad.field_violations] == [
        ("actions[2].config.subject", "is required"),
        ("trigger.type", "unknown"),
    ]


async def test_not_found_maps_to_not_found(stub: analytics_pb2_grpc.AnalyticsServiceStub) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.GetAutomationStats(req("missing"), metadata=[("x-org-id", "o")])
    assert err.value.code() == grpc.StatusCode.NOT_FOUND


async def test_unexpected_errors_are_internal_and_leak_nothing(
    stub: analytics_pb2_grpc.AnalyticsServiceStub,
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.GetAutomationStats(req("boom"), metadata=[("x-org-id", "o")])
    assert err.value.code() == grpc.StatusCode.INTERNAL
    assert "secret" not in (err.value.details() or "")
