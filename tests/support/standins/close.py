"""Close's leads API: ``GET /api/v1/lead/?query=...``, ``POST /api/v1/lead/``,
``PUT /api/v1/lead/{id}/``, HTTP Basic auth with the API key as the user and no password.

Leads hold contacts with ``emails: [{email, type}]``; the search understands
``email_address:"<email>"``. Errors are ``{"error": ..., "field-errors": {...}}``; a throttled
key gets 429 with ``{"error": {"rate_reset": <s>, "message"}}`` (no ``Retry-After``).
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from tests.support.standins.base import Seen
from tests.support.standins.shape import ProviderStandIn, answer, basic_credentials, require

API_KEY = "api_close_secret_key_4455"
_QUERY = re.compile(r'^email_address:"([^"]+)"$')


class Close(ProviderStandIn):
    prefix = "close"

    def __init__(self) -> None:
        super().__init__()
        self.leads: dict[str, dict[str, Any]] = {}

    probe: tuple[str, str] = ("GET", "/api/v1/me/")

    def authorized(self, seen: Seen) -> bool:
        return basic_credentials(seen.headers.get("Authorization", "")) == (API_KEY, "")

    def check(self, seen: Seen) -> web.Response | None:
        require(seen.path.startswith("/api/v1/lead/"), "the lead API (with its trailing slash)")
        if basic_credentials(seen.headers.get("Authorization", "")) != (API_KEY, ""):
            return answer(401, {"error": "Unauthorized"})
        if seen.method == "GET":
            require(
                seen.path == "/api/v1/lead/" and bool(_QUERY.match(seen.query.get("query", ""))),
                "a lead search",
            )
            return None
        body = seen.json()
        require(isinstance(body, dict), "a JSON object")
        if seen.method == "POST":
            require(seen.path == "/api/v1/lead/" and bool(body.get("name")), "POST /api/v1/lead/ with a name")
            for contact in body.get("contacts") or []:
                for email in contact.get("emails") or []:
                    require(
                        isinstance(email, dict) and "email" in email and "type" in email,
                        "emails [{email, type}]",
                    )
        else:
            require(
                seen.method == "PUT" and re.match(r"^/api/v1/lead/lead_\w+/$", seen.path) is not None,
                "PUT /api/v1/lead/{id}/",
            )
        return None

    def throttled(self) -> tuple[int, Any, dict[str, str] | None]:
        return 429, {"error": {"rate_reset": 120, "message": "API call count exceeded for this period"}}, None

    async def respond(self, seen: Seen) -> web.Response:
        if seen.method == "GET":
            found = _QUERY.match(seen.query["query"])
            assert found is not None
            wanted = found.group(1).lower()
            data = [
                {"id": lid, "display_name": lead["name"]}
                for lid, lead in self.leads.items()
                if any(
                    e["email"].lower() == wanted
                    for c in lead.get("contacts", [])
                    for e in c.get("emails", [])
                )
            ]
            return answer(200, {"has_more": False, "total_results": len(data), "data": data[:1]})
        body = seen.json()
        for contact in body.get("contacts") or []:
            for email in contact.get("emails") or []:
                if "@" not in email["email"]:
                    return answer(
                        400,
                        {
                            "errors": [],
                            "field-errors": {"contacts": f"Invalid email address: {email['email']}"},
                        },
                    )
        if seen.method == "POST":
            lid = f"lead_{len(self.leads) + 1:04d}"
            self.leads[lid] = {"id": lid}
        else:
            lid = seen.path.rstrip("/").rsplit("/", 1)[1]
            if lid not in self.leads:
                return answer(404, {"error": "Empty query: Lead matching query does not exist."})
        self.leads[lid].update(body)
        return answer(200, self.leads[lid])

    def effects(self) -> int:
        return len(self.leads)
