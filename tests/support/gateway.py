"""The REST gateway serving real HTTP inside the test process, in front of in-process services."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web

from beez.gateway.config import GatewaySettings
from beez.gateway.server import build_app
from beez.kit.embedded import free_port


@asynccontextmanager
async def running_gateway(settings: GatewaySettings, port: int = 0) -> AsyncIterator[str]:
    """Serves the gateway ``settings`` describe on ``port`` (a free one when 0) of 127.0.0.1;
    yields its base URL.

    ``settings``' host and port are not used: the gateway listens where nothing else does.
    """
    runner = web.AppRunner(await build_app(settings), access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    port = port or free_port()
    try:
        await web.TCPSite(runner, "127.0.0.1", port).start()
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()
