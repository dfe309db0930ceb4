"""An enrichment API for ``enrich_contact``: ``GET /people?email=...`` answering a person
(as Clearbit-style enrichment APIs do), 404 ``{"error": {...}}`` for an unknown email."""

from __future__ import annotations

from aiohttp import web

from tests.support.standins.base import Seen, StandIn

API_KEY = "enrich-api-key-0123456789"


class Enrichment(StandIn):
    prefix = "enrich"

    def __init__(self) -> None:
        super().__init__()
        self.people = {
            "ada@example.com": {
                "person": {
                    "title": "Chief Analyst",
                    "company": {"name": "Analytical Engines"},
                    "location": "London",
                },
                "emails": ["ada@example.com"],
            }
        }

    async def answer(self, seen: Seen) -> web.StreamResponse:
        if not self.problem(seen.header("Authorization") == f"Bearer {API_KEY}", "no bearer API key"):
            return web.json_response(
                {"error": {"type": "auth_required", "message": "missing API key"}}, status=401
            )
        if not self.problem(
            seen.method == "GET" and seen.path == "/people", f"not a person lookup: {seen.method} {seen.path}"
        ):
            return web.json_response(
                {"error": {"type": "not_found", "message": "no such endpoint"}}, status=404
            )
        found = self.people.get(seen.query.get("email", ""))
        if found is None:
            return web.json_response(
                {"error": {"type": "unknown_record", "message": "Unknown email address"}}, status=404
            )
        return web.json_response(found)
