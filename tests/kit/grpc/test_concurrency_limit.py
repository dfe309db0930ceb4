"""The server runs at most ``max_concurrent_rpcs`` calls at once and refuses the rest."""

from __future__ import annotations

import asyncio
from typing import Any

import grpc
import pytest

from beez.api.permissions import Role
from beez.kit.grpc.server import Server, ServerSpec

ORG = (("x-org-id", "org_1"),)
SLOW = "/beez.testing.v1.Slow/Call"


async def test_calls_over_the_limit_are_refused_with_resource_exhausted() -> None:
    entered = asyncio.Semaphore(0)
    release = asyncio.Event()

    async def slow(request: bytes, context: Any) -> bytes:
        entered.release()
        await release.wait()
        return request

    def register(server: grpc.aio.Server) -> None:
        handler = grpc.method_handlers_generic_handler(
            "beez.testing.v1.Slow", {"Call": grpc.unary_unary_rpc_method_handler(slow)}
        )
        server.add_generic_rpc_handlers((handler,))

    spec = ServerSpec(register=register, service_names=["beez.testing.v1.Slow"], probes={})
    server = Server(
        spec,
        "127.0.0.1",
        0,
        health_interval_s=1,
        drain_grace_s=0.1,
        local_mode=True,
        permissions={SLOW: Role.VIEWER},
        max_concurrent_rpcs=2,
    )
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:
            call = channel.unary_unary(SLOW)
            running = [
                asyncio.ensure_future(call(b"a", timeout=10, metadata=ORG)),
                asyncio.ensure_future(call(b"b", timeout=10, metadata=ORG)),
            ]
            for _ in running:
                await asyncio.wait_for(entered.acquire(), 5)
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await call(b"c", timeout=5, metadata=ORG)
            assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
            release.set()
            assert sorted(await asyncio.gather(*running)) == [b"a", b"b"]
            assert await call(b"d", timeout=5, metadata=ORG) == b"d"  # the slots are free again
    finally:
        await server.stop()
