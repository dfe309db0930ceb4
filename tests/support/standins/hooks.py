"""Zapier catch hooks (``POST /hooks/catch/<account>/<hook>/``) and Make custom webhooks
(``POST /<hook>``): a JSON body, no auth (the URL is the secret).

Zapier answers ``{"attempt", "id", "request_id", "status": "success"}``, Make ``Accepted``. A hook
that is off or deleted answers 410 Gone (Zapier's documented signal to stop sending; Make answers
a short text). Neither deduplicates: every accepted request starts the Zap or scenario.
"""

from __future__ import annotations

import uuid
from typing import Any

from aiohttp import web

from tests.support.standins.base import Seen, StandIn


class Zapier(StandIn):
    prefix = "zapier"

    def __init__(self) -> None:
        super().__init__()
        self.hooks = {"/hooks/catch/123456/abcdef/"}
        self.caught: list[tuple[str, Any]] = []

    async def answer(self, seen: Seen) -> web.StreamResponse:
        self.problem(seen.method == "POST", f"not a POST: {seen.method}")
        self.problem(seen.header("Content-Type").startswith("application/json"), "not JSON")
        if seen.path not in self.hooks:
            return web.Response(status=410, text="This hook is no longer active (the Zap is off or deleted).")
        self.caught.append((seen.key, seen.json()))
        return web.json_response(
            {
                "attempt": str(uuid.uuid4()),
                "id": str(uuid.uuid4()),
                "request_id": str(uuid.uuid4()),
                "status": "success",
            }
        )


class Make(StandIn):
    prefix = "make"

    def __init__(self) -> None:
        super().__init__()
        self.hooks = {"/hk7w3k2e1l0m9n8b"}
        self.caught: list[tuple[str, Any]] = []

    async def answer(self, seen: Seen) -> web.StreamResponse:
        self.problem(seen.method == "POST", f"not a POST: {seen.method}")
        self.problem(seen.header("Content-Type").startswith("application/json"), "not JSON")
        if seen.path not in self.hooks:
            return web.Response(status=410, text="There is no scenario listening for this webhook.")
        self.caught.append((seen.key, seen.json()))
        return web.Response(text="Accepted")
