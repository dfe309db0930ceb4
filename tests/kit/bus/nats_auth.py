"""A nats-server of a test's own running the permission model, and clients logging in to it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import nats
from nats.aio.client import Client as NATS

from beez.kit.bus import permissions
from beez.kit.bus.credentials import NatsCredentials, inbox_prefix
from beez.kit.embedded import EmbeddedNats, NatsServerTls
from tests.kit.bus.bus_support import wait_until


@dataclass
class Refusals:
    """The errors the server sent a client (permissions violations arrive asynchronously)."""

    errors: list[str] = field(default_factory=list)

    async def on_error(self, exc: Exception) -> None:
        self.errors.append(str(exc))

    def violations(self) -> list[str]:
        return [e for e in self.errors if "permissions violation" in e.lower()]

    async def wait_for(self, count: int, timeout: float = 5.0) -> list[str]:
        """The violations, once there are ``count`` of them (AssertionError at the timeout)."""
        await wait_until(lambda: len(self.violations()) >= count, timeout, f"{count} permissions violations")
        return self.violations()


@dataclass
class AuthNats:
    """An embedded nats-server with every role of :data:`permissions.ROLES`, passwords known."""

    server: EmbeddedNats
    passwords: dict[str, str]
    ca_file: Path | None = None

    def credentials(self, role: str) -> NatsCredentials:
        return NatsCredentials(user=role, password=self.passwords[role], tls_ca_file=str(self.ca_file or ""))

    async def client(self, role: str, refusals: Refusals | None = None) -> NATS:
        """A client logged in as ``role`` with its inboxes where ``role`` may subscribe; no reconnect."""
        options = self.credentials(role).connect_options(self.server.url)
        return await nats.connect(
            self.server.url,
            name=f"test-{role}",
            allow_reconnect=False,
            inbox_prefix=inbox_prefix(role),
            error_cb=(refusals or Refusals()).on_error,
            **options,
        )


@asynccontextmanager
async def auth_nats(
    directory: Path, prefix: str = "", tls: NatsServerTls | None = None, ca_file: Path | None = None
) -> AsyncIterator[AuthNats]:
    passwords = {spec.name: f"secret-{spec.name}-0123456789" for spec in permissions.ROLES}
    server = EmbeddedNats(directory, authorization=permissions.render(prefix, passwords), tls=tls)
    await asyncio.to_thread(server.start)
    try:
        yield AuthNats(server, passwords, ca_file)
    finally:
        await asyncio.to_thread(server.stop)
