"""Health follows the dependency probes both ways, and goes NOT_SERVING on drain."""

from __future__ import annotations

import asyncio

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from beez.kit.grpc.server import Server, ServerSpec

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


async def status_of(stub: health_pb2_grpc.HealthStub, service: str = "") -> int:
    resp = await stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=1)
    return int(resp.status)


async def eventually(stub: health_pb2_grpc.HealthStub, want: int, service: str = "") -> None:
    for _ in range(100):
        if await status_of(stub, service) == want:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"health of {service!r} never became {want}")


async def test_health_turns_not_serving_when_a_probe_fails_and_recovers_by_itself() -> None:
    up = {"db": True}

    async def db() -> bool:
        return up["db"]

    async def hanging() -> bool:
        return True

    spec = ServerSpec(
        register=lambda s: None, service_names=["beez.test.v1.Thing"], probes={"db": db, "n": hanging}
    )
    server = Server(spec, "127.0.0.1", 0, health_interval_s=0.02, drain_grace_s=0.1)
    await server.start()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        assert await status_of(stub) == SERVING
        assert await status_of(stub, "beez.test.v1.Thing") == SERVING
        up["db"] = False
        await eventually(stub, NOT_SERVING)
        await eventually(stub, NOT_SERVING, "beez.test.v1.Thing")
        up["db"] = True
        await eventually(stub, SERVING)
        drain = asyncio.create_task(server.stop())
        await asyncio.sleep(0)
        await drain
    assert server.monitor.serving is False


async def test_a_probe_that_hangs_counts_as_down() -> None:
    async def slow() -> bool:
        await asyncio.sleep(10)
        return True

    spec = ServerSpec(register=lambda s: None, service_names=[], probes={"slow": slow})
    server = Server(spec, "127.0.0.1", 0, health_interval_s=5, drain_grace_s=0.1)
    server.monitor.probe_timeout_s = 0.05
    assert await server.monitor.check_once() is False


async def test_a_probe_finishing_after_the_drain_began_does_not_turn_serving_again() -> None:
    probing = asyncio.Event()
    release = asyncio.Event()

    async def db() -> bool:
        probing.set()
        await release.wait()
        return True

    spec = ServerSpec(register=lambda s: None, service_names=[], probes={"db": db})
    server = Server(spec, "127.0.0.1", 0, health_interval_s=5, drain_grace_s=0.1)
    check = asyncio.create_task(server.monitor.check_once())
    await probing.wait()
    await server.monitor.stop()
    release.set()
    assert await check is False
    assert server.monitor.serving is False
