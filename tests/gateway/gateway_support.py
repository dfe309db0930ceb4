"""Shared pieces of the gateway tests: the caller identity and the gateway-under-test handle."""

from __future__ import annotations

import socket
from dataclasses import dataclass

from aiohttp import web
from aiohttp.test_utils import TestClient

from tests.gateway.gateway_echo import Backend, Call

ORG = "org-1"
USER = "user-7"
IDENTITY = {"X-Org-Id": ORG, "X-User-Id": USER}

HttpClient = TestClient[web.Request, web.Application]


@dataclass
class Gateway:
    """The gateway under test (real HTTP) and the backend behind it."""

    http: HttpClient
    backend: Backend

    @property
    def calls(self) -> list[Call]:
        return self.backend.calls


def free_port() -> int:
    """A TCP port nothing listens on (right now)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
