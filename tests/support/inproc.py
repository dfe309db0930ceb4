"""A service running inside the test process: real PostgreSQL, NATS and gRPC, controllable clock.

Integration tests of one service use it; end-to-end tests run the services as processes instead
(:class:`beez.kit.stack.ServiceProcess`).
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import grpc

from beez.kit.clock import Clock
from beez.kit.embedded import free_port
from beez.kit.grpc.server import Server
from beez.kit.migrations import upgrade
from beez.kit.runtime import Runtime, start
from beez.kit.settings import ServiceSettings


@dataclass
class InProcService:
    """A started service: its server, runtime and a channel to it."""

    name: str
    server: Server
    runtime: Runtime
    channel: grpc.aio.Channel

    def metadata(self, org: str, user: str | None = None) -> list[tuple[str, str]]:
        meta = [("x-org-id", org)]
        if user:
            meta.append(("x-user-id", user))
        return meta

    async def ready(self, timeout: float = 10.0) -> None:
        """Waits until NATS is connected and health is SERVING."""
        await asyncio.wait_for(self.runtime.nats_ready.wait(), timeout)
        for _ in range(int(timeout / 0.02)):
            if await self.server.monitor.check_once():
                return
            await asyncio.sleep(0.02)
        raise AssertionError(f"{self.name} never became healthy: {self.server.monitor.status}")


@asynccontextmanager
async def running_service(
    name: str,
    database_url: str,
    nats_url: str,
    bus_prefix: str,
    *,
    clock: Clock | None = None,
    migrate: bool = True,
    **settings: Any,
) -> AsyncIterator[InProcService]:
    """Migrates ``name``'s schema, starts the service on a free port, and stops it afterwards.

    Extra keyword arguments override the service's settings (e.g. ``smtp_port=...``).
    """
    main = importlib.import_module(f"beez.{name}.__main__")
    config = importlib.import_module(f"beez.{name}.config")
    server_mod = importlib.import_module(f"beez.{name}.server")
    if migrate:
        await asyncio.to_thread(upgrade, main.MIGRATIONS, database_url, name)
    settings_cls: type[ServiceSettings] = next(
        v
        for k, v in vars(config).items()
        if k.endswith("Settings") and isinstance(v, type) and v.__module__ == config.__name__
    )
    if name == "trigger":  # never the default port: a stack of tests/e2e may be serving it
        settings.setdefault("automation_addr", f"127.0.0.1:{free_port()}")
    if name == "executor":  # likewise: ListScheduled asks the trigger for its fires
        settings.setdefault("trigger_addr", f"127.0.0.1:{free_port()}")
    cfg = settings_cls(
        database_url=database_url,
        nats_url=nats_url,
        bus_prefix=bus_prefix,
        grpc_host="127.0.0.1",
        grpc_port=0,
        health_interval_s=0.2,
        drain_grace_s=0.5,
        **settings,
    )
    server, runtime = await start(cfg, name, server_mod.build, clock=clock)
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{server.port}")
    service = InProcService(name, server, runtime, channel)
    try:
        await service.ready()
        yield service
    finally:
        await channel.close()
        try:
            await delete_streams(runtime, bus_prefix)
        finally:
            await server.stop()  # even when NATS is slow to answer: a running service never leaks


async def delete_streams(runtime: Runtime, prefix: str) -> None:
    """Removes the test's streams, so a shared NATS server does not collect them."""
    if runtime.js is None or not prefix:
        return
    for info in await runtime.js.streams_info():
        if info.config.name and info.config.name.startswith(f"{prefix.upper()}_"):
            await runtime.js.delete_stream(info.config.name)
