"""Local stand-ins for the providers: an aiohttp server on 127.0.0.1 and an aiosmtpd SMTP server.

Nothing here talks to anything but 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp import web
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from beez.executor.actions import ActionContext, ActionRegistry, ActionSettings, build_registry
from beez.executor.actions.integration import SigningLookup

NOW = datetime(2026, 11, 26, 10, 0, 0, tzinfo=UTC)


def ada(**overrides: Any) -> dict[str, Any]:
    """A contact with consent on every channel."""
    contact: dict[str, Any] = {
        "id": "c_123",
        "email": "ada@example.com",
        "phone": "+2348012345678",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "tags": ["lead"],
        "lists": ["New Customers"],
        "score": 42,
        "timezone": "Africa/Lagos",
        "consent": {"email": True, "sms": True, "whatsapp": True},
        "fields": {"plan": "pro"},
    }
    contact.update(overrides)
    return contact


def make_ctx(
    config: dict[str, Any],
    *,
    contact: dict[str, Any] | None = None,
    event: dict[str, Any] | None = None,
    attempt: int = 1,
    step_path: str = "0",
    execution_id: str = "ex_1",
    now: datetime = NOW,
    vars: dict[str, Any] | None = None,
) -> ActionContext:
    return ActionContext(
        org_id="org_1",
        execution_id=execution_id,
        automation_id="auto_1",
        step_id=f"step_{step_path}",
        step_path=step_path,
        attempt=attempt,
        idempotency_key=f"exec:{execution_id}:step:{step_path}:attempt:{attempt}",
        config=config,
        contact=ada() if contact is None else contact,
        event=event if event is not None else {"id": "evt_1", "type": "list.joined", "data": {}},
        vars=vars or {},
        now=now,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- HTTP stand-in ---------------------------------------------------------------------------

Handler = Callable[["Seen"], Awaitable[web.StreamResponse]]


@dataclass
class Seen:
    """One request the stand-in received."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    host: str

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass
class StandIn:
    """An HTTP server on 127.0.0.1: routes by (method, path), records every request."""

    port: int = 0
    seen: list[Seen] = field(default_factory=list)
    routes: dict[tuple[str, str], Handler] = field(default_factory=dict)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def route(self, method: str, path: str, handler: Handler) -> None:
        self.routes[(method, path)] = handler

    def script(self, method: str, path: str, *responses: Callable[[], web.StreamResponse]) -> None:
        """Answers with ``responses`` in turn, repeating the last one."""
        queue = list(responses)

        async def handler(_: Seen) -> web.StreamResponse:
            factory = queue.pop(0) if len(queue) > 1 else queue[0]
            return factory()

        self.route(method, path, handler)

    def hang(self, method: str, path: str) -> None:
        """Never answers (until the test ends)."""

        async def handler(_: Seen) -> web.StreamResponse:
            await self.release.wait()
            return web.Response(status=200)

        self.route(method, path, handler)

    def on(self, path: str) -> list[Seen]:
        return [s for s in self.seen if s.path == path]

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        seen = Seen(
            method=request.method,
            path=request.path,
            query=dict(request.query),
            headers={k.lower(): v for k, v in request.headers.items()},
            body=await request.read(),
            host=request.host,
        )
        self.seen.append(seen)
        handler = self.routes.get((request.method, request.path))
        if handler is None:
            return web.Response(status=404, text="no route")
        return await handler(seen)


async def _serve(stand_in: StandIn) -> AsyncIterator[StandIn]:
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", stand_in._dispatch)
    runner = web.AppRunner(app, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    stand_in.port = int(runner.addresses[0][1])
    try:
        yield stand_in
    finally:
        stand_in.release.set()
        await runner.cleanup()


@pytest.fixture
async def stand_in() -> AsyncIterator[StandIn]:
    async for server in _serve(StandIn()):
        yield server


@pytest.fixture
async def other_stand_in() -> AsyncIterator[StandIn]:
    """A second server: another origin (127.0.0.1, another port)."""
    async for server in _serve(StandIn()):
        yield server


SIGNING = {"org_1": [("whk_test", "whsec_test")], "org_2": [("whk_other", "whsec_other")]}
"""Each organization's webhook signing secrets in the action tests (key id, secret)."""


def signing_by_org(secrets: dict[str, list[tuple[str, str]]]) -> SigningLookup:
    """A signing lookup over fixed secrets, as ``SigningSecrets.signing`` answers from the database."""

    async def signing(org_id: str, now: datetime) -> list[tuple[str, str]]:
        return secrets.get(org_id, [])

    return signing


def settings_for(stand_in: StandIn, **overrides: Any) -> ActionSettings:
    values: dict[str, Any] = {
        "whatsapp_base_url": stand_in.url("/wa/v21.0"),
        "whatsapp_token": "wa-token",
        "whatsapp_phone_number_id": "1055",
        "sms_base_url": stand_in.url("/twilio/2010-04-01"),
        "sms_account_sid": "AC123",
        "sms_auth_token": "tw-secret",
        "sms_from": "+15005550006",
        "slack_default_webhook_url": stand_in.url("/slack/T000/B000/XXX"),
        "http_timeout_s": 2.0,
        "ssrf_allowlist": ["127.0.0.1/32"],
    }
    values.update(overrides)
    return ActionSettings(**values)


@pytest.fixture
async def registry(stand_in: StandIn) -> AsyncIterator[ActionRegistry]:
    actions = build_registry(settings_for(stand_in), signing=signing_by_org(SIGNING))
    yield actions
    await actions.aclose()


# --- SMTP stand-in ---------------------------------------------------------------------------


class Mailbox:
    """An aiosmtpd handler that keeps messages, or refuses recipients with ``rcpt_reply``."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []
        self.rcpt_reply: str | None = None

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if self.rcpt_reply is not None:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 2.0.0 queued as 0001"


@dataclass
class SmtpServer:
    host: str
    port: int
    mailbox: Mailbox


@pytest.fixture(scope="module")
def smtp_controller() -> Iterator[SmtpServer]:
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SmtpServer("127.0.0.1", port, mailbox)
    finally:
        controller.stop()


@pytest.fixture
def smtp(smtp_controller: SmtpServer) -> SmtpServer:
    smtp_controller.mailbox.envelopes.clear()
    smtp_controller.mailbox.rcpt_reply = None
    return smtp_controller
