"""What every provider stand-in shares: the requests it saw, the shape problems it found, faults
a test scripts (a 429 with ``Retry-After``, a 503), and one aiohttp server for several of them.

A stand-in never answers "OK" to a request its provider would refuse: a shape problem (wrong
method, path, auth header, content type, body) is recorded in ``problems`` *and* answered with
the provider's own error, so a test that forgets to look at ``problems`` still fails.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from beez.kit.embedded import free_port
from tests.support.providers import serving

KEY_HEADER = "X-Beez-Idempotency-Key"


@dataclass
class Seen:
    """One request as the stand-in received it (``path`` decoded, without the stand-in's prefix)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    @property
    def key(self) -> str:
        """The step's idempotency key (every outgoing request carries it)."""
        return next((v for k, v in self.headers.items() if k.lower() == KEY_HEADER.lower()), "")

    def header(self, name: str) -> str:
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), "")

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def form(self) -> list[tuple[str, str]]:
        return parse_qsl(self.body.decode(), keep_blank_values=True)


class StandIn:
    """A provider stand-in: subclasses implement :meth:`answer` (their provider's API)."""

    prefix: str = ""
    """The first path segment it is served under (``/stripe/...``)."""

    def __init__(self) -> None:
        self.seen: list[Seen] = []
        self.problems: list[str] = []
        self._faults: deque[web.Response] = deque()
        self.base = ""

    def fail_next(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        """Answers the next request with ``status`` and ``body`` (JSON, or text for a str)."""
        if isinstance(body, str):
            self._faults.append(web.Response(status=status, text=body, headers=headers))
        else:
            self._faults.append(web.json_response(body, status=status, headers=headers))

    def problem(self, condition: bool, what: str) -> bool:
        """Records ``what`` unless ``condition`` holds; returns ``condition``."""
        if not condition:
            self.problems.append(what)
        return condition

    def reset(self) -> None:
        """Back to the provider's initial records (a test that needs them untouched)."""

    def of_key(self, key: str) -> list[Seen]:
        return [seen for seen in self.seen if seen.key == key]

    async def handle(self, request: web.Request, path: str) -> web.StreamResponse:
        seen = Seen(request.method, path, dict(request.query), dict(request.headers), await request.read())
        self.seen.append(seen)
        if self._faults:
            return self._faults.popleft()
        return await self.answer(seen)

    async def answer(self, seen: Seen) -> web.StreamResponse:
        raise NotImplementedError


@asynccontextmanager
async def serving_standins(*standins: StandIn) -> AsyncIterator[str]:
    """One local server answering ``/<prefix>/...`` with each stand-in; yields its base URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    by_prefix = {s.prefix: s for s in standins}
    for standin in standins:
        standin.base = f"{url}/{standin.prefix}"

    async def handler(request: web.Request) -> web.StreamResponse:
        first, _, rest = request.path.lstrip("/").partition("/")
        found = by_prefix.get(first)
        if found is None:
            return web.json_response({"error": "no such stand-in"}, status=404)
        return await found.handle(request, "/" + rest)

    async with serving(handler, port):
        yield url
