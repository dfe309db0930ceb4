"""Real local servers standing in for the providers: SMTP (aiosmtpd) and HTTP (aiohttp)."""

from __future__ import annotations

import asyncio
import email
import email.policy
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler
from aiosmtpd.controller import Controller

from beez.kit.embedded import free_port


@dataclass
class SmtpSink:
    """Collects every message an SMTP client delivers."""

    messages: list[EmailMessage] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    loop: asyncio.AbstractEventLoop | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        self.messages.append(msg)
        if self.loop is not None:
            self.loop.call_soon_threadsafe(self.arrived.set)
        return "250 OK"

    async def wait_for(self, count: int, timeout: float = 20.0) -> list[EmailMessage]:
        deadline = asyncio.get_running_loop().time() + timeout
        while len(self.messages) < count:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise AssertionError(f"expected {count} emails, got {len(self.messages)}")
            self.arrived.clear()
            with suppress(TimeoutError):
                await asyncio.wait_for(self.arrived.wait(), min(remaining, 0.2))
        return self.messages


@asynccontextmanager
async def smtp_server() -> AsyncIterator[tuple[SmtpSink, int]]:
    sink = SmtpSink(loop=asyncio.get_running_loop())
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        import json

        return json.loads(self.body)


@dataclass
class HttpStandIn:
    """An HTTP server that records requests and answers from a script of responses."""

    requests: list[Recorded] = field(default_factory=list)
    responses: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    status_headers: dict[int, dict[str, str]] = field(default_factory=dict)
    """Headers sent with every answer of a status (``{429: {"Retry-After": "30"}}``)."""
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.requests.append(Recorded(request.method, request.path_qs, dict(request.headers), body))
        status, payload = (
            self.responses.pop(0) if self.responses else (200, {"id": f"msg_{len(self.requests)}"})
        )
        return web.json_response(payload, status=status, headers=self.status_headers.get(status))

    async def wait_for(self, count: int, timeout: float = 20.0) -> list[Recorded]:
        deadline = asyncio.get_running_loop().time() + timeout
        while len(self.requests) < count:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"expected {count} requests, got {len(self.requests)}")
            await asyncio.sleep(0.05)
        return self.requests


@asynccontextmanager
async def serving(handler: Handler, port: int) -> AsyncIterator[None]:
    """A real HTTP server on 127.0.0.1:``port`` answering every method and path with ``handler``."""
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield
    finally:
        await runner.cleanup()


@asynccontextmanager
async def http_server() -> AsyncIterator[HttpStandIn]:
    stand_in = HttpStandIn(port=free_port())
    async with serving(stand_in.handle, stand_in.port):
        yield stand_in
