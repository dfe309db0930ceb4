"""The plaintext health port answers the service's own health, and serves nothing else."""

from __future__ import annotations

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from beez.api.trigger.v1 import trigger_pb2, trigger_pb2_grpc
from beez.kit.embedded import free_port, port_open
from beez.kit.grpc.health_port import HealthPort
from beez.kit.grpc.server import Server, ServerSpec
from tests.support.inproc import running_service

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


async def check(port: int, service: str = "") -> int:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        request = health_pb2.HealthCheckRequest(service=service)
        response = await health_pb2_grpc.HealthStub(channel).Check(request, timeout=2)
        return int(response.status)


async def test_a_service_with_a_health_port_answers_its_health_there_and_nothing_else(
    database_url: str, nats_url: str, bus_prefix: str
) -> None:
    port = free_port()
    async with running_service("trigger", database_url, nats_url, bus_prefix, health_port=port):
        assert await check(port) == SERVING
        assert await check(port, "beez.api.trigger.v1.EventService") == SERVING
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            with pytest.raises(grpc.aio.AioRpcError) as rpc:
                await trigger_pb2_grpc.EventServiceStub(channel).ListEvents(
                    trigger_pb2.ListEventsRequest(), metadata=[("x-org-id", "org_1")], timeout=2
                )
            assert rpc.value.code() == grpc.StatusCode.UNIMPLEMENTED
            reflect = reflection_pb2_grpc.ServerReflectionStub(channel).ServerReflectionInfo(
                iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=2
            )
            with pytest.raises(grpc.aio.AioRpcError) as listing:
                async for _ in reflect:
                    pass
            assert listing.value.code() == grpc.StatusCode.UNIMPLEMENTED
    assert not port_open("127.0.0.1", port)


async def test_the_health_port_goes_not_serving_when_the_server_drains() -> None:
    spec = ServerSpec(register=lambda s: None, service_names=[], probes={})
    server = Server(spec, "127.0.0.1", 0, health_interval_s=5, drain_grace_s=0.1)
    await server.start()
    health = HealthPort(server.health, "127.0.0.1", 0)
    await health.start()
    try:
        assert await check(health.port) == SERVING
        await server.monitor.stop()
        assert await check(health.port) == NOT_SERVING
    finally:
        await health.stop()
        await server.stop()
