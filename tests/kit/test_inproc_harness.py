from __future__ import annotations

from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.support.inproc import running_service


async def test_a_service_runs_in_process_against_real_dependencies(
    database_url: str, nats_url: str, bus_prefix: str
) -> None:
    async with running_service("trigger", database_url, nats_url, bus_prefix) as svc:
        resp = await health_pb2_grpc.HealthStub(svc.channel).Check(health_pb2.HealthCheckRequest())
        assert resp.status == health_pb2.HealthCheckResponse.SERVING
        assert svc.runtime.topology.prefix == bus_prefix
