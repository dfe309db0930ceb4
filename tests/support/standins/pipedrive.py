"""Pipedrive API v2 persons: ``GET /api/v2/persons/search``, ``POST /api/v2/persons``,
``PATCH /api/v2/persons/{id}``, with the API token in ``x-api-token``.

The search matches emails exactly (``fields=email&exact_match=true``); a person's emails are
``[{value, primary, label}]``. Errors are ``{"success": false, "error", "error_info"}``: 401 for
a bad token, 400 for an email that is not an address; 429 with ``Retry-After``.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from tests.support.standins.base import Seen
from tests.support.standins.shape import ProviderStandIn, answer, require

API_TOKEN = "pipedrive-api-token-secret-31"
LABELS = {"work", "home", "mobile", "other"}


def _error(status: int, error: str, info: str = "") -> web.Response:
    return answer(
        status, {"success": False, "error": error, "error_info": info, "data": None, "additional_data": None}
    )


class Pipedrive(ProviderStandIn):
    prefix = "pipedrive"

    def __init__(self) -> None:
        super().__init__()
        self.persons: dict[int, dict[str, Any]] = {}

    probe: tuple[str, str] = ("GET", "/api/v1/users/me")

    def authorized(self, seen: Seen) -> bool:
        return seen.headers.get("x-api-token") == API_TOKEN

    def check(self, seen: Seen) -> web.Response | None:
        require(seen.path.startswith("/api/v2/persons"), "the v2 persons API")
        if seen.headers.get("x-api-token") != API_TOKEN:
            return _error(401, "unauthorized access", "Please check the Pipedrive Developers documentation")
        if seen.method == "GET":
            require(seen.path == "/api/v2/persons/search", "GET /api/v2/persons/search")
            require(
                seen.query.get("fields") == "email" and seen.query.get("exact_match") == "true",
                "an exact email search",
            )
            require(len(seen.query.get("term", "")) >= 1, "term")
            return None
        require(seen.method in ("POST", "PATCH"), "POST or PATCH")
        body = seen.json()
        require(isinstance(body, dict) and bool(body.get("name")), "name")
        for entry in [*(body.get("emails") or []), *(body.get("phones") or [])]:
            require(
                isinstance(entry, dict) and "value" in entry and entry.get("label") in LABELS,
                "emails/phones items {value, primary, label}",
            )
        return None

    async def respond(self, seen: Seen) -> web.Response:
        if seen.method == "GET":
            term = seen.query["term"].lower()
            items = [
                {"result_score": 1.0, "item": {"id": pid, "type": "person", "name": p["name"]}}
                for pid, p in self.persons.items()
                if any(e["value"].lower() == term for e in p.get("emails", []))
            ]
            return answer(
                200, {"success": True, "data": {"items": items[:1]}, "additional_data": {"next_cursor": None}}
            )
        body = seen.json()
        for entry in body.get("emails") or []:
            if "@" not in str(entry["value"]):
                return _error(
                    400,
                    "Validation failed: emails[0].value: must be a valid email address",
                    "ERR_SCHEMA_VALIDATION_FAILED",
                )
        if seen.method == "POST":
            pid = len(self.persons) + 1
            self.persons[pid] = {"id": pid}
        else:
            pid = int(seen.path.rsplit("/", 1)[1])
            if pid not in self.persons:
                return _error(404, "Person not found")
        self.persons[pid].update(body)
        return answer(200, {"success": True, "data": self.persons[pid]})

    def effects(self) -> int:
        return len(self.persons)
