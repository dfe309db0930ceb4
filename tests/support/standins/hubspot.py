"""HubSpot: the OAuth2 token endpoint (``POST /oauth/v1/token``) and CRM v3 contacts by email:
``PATCH /crm/v3/objects/contacts/{email}?idProperty=email`` and
``POST /crm/v3/objects/contacts/batch/upsert`` (developers.hubspot.com, CRM contacts API).

Checks: bearer access token, ``{"properties": {...}}`` (or upsert ``inputs`` with
``idProperty: email``), known properties and options. Answers the contact; errors as
``{"status": "error", "message", "correlationId", "category"}``. ``changes`` counts property
values that actually changed (``effects``): a repeated update changes nothing.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from tests.support.standins.base import Seen, StandIn

CLIENT_ID = "hubspot-client-id"
REFRESH_TOKEN = "na1-hubspot-refresh-token"
PROPERTIES = frozenset({"email", "firstname", "lastname", "phone", "company", "plan", "lifecyclestage"})
LIFECYCLE = frozenset(
    {"subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity", "customer"}
)


def _error(status: int, message: str, category: str) -> web.Response:
    return web.json_response(
        {
            "status": "error",
            "message": message,
            "correlationId": "aeb5f871-7f07-4993-9211-075dc63e7cbf",
            "category": category,
        },
        status=status,
    )


class Hubspot(StandIn):
    prefix = "hubspot"

    def __init__(self) -> None:
        super().__init__()
        self.tokens: list[str] = []
        self.contacts: dict[str, dict[str, Any]] = {}
        self.reset()
        self.effects: list[tuple[str, int]] = []
        """(idempotency key, properties changed) of every write that changed something."""

    def reset(self) -> None:
        self.contacts = {"ada@example.com": {"id": "51", "properties": {"email": "ada@example.com"}}}

    async def answer(self, seen: Seen) -> web.StreamResponse:
        if seen.path == "/oauth/v1/token":
            form = dict(seen.form())
            if (
                form.get("grant_type") != "refresh_token"
                or form.get("refresh_token") != REFRESH_TOKEN
                or form.get("client_id") != CLIENT_ID
            ):
                return web.json_response(
                    {"status": "BAD_REFRESH_TOKEN", "message": "missing or unknown refresh token"}, status=400
                )
            self.tokens.append(f"CJT-hubspot-{len(self.tokens) + 1}")
            return web.json_response(
                {
                    "access_token": self.tokens[-1],
                    "expires_in": 1800,
                    "refresh_token": REFRESH_TOKEN,
                    "token_type": "bearer",
                }
            )
        if not self.problem(
            seen.header("Authorization") in {f"Bearer {t}" for t in self.tokens}, "no bearer access token"
        ):
            return _error(401, "Authentication credentials not found.", "INVALID_AUTHENTICATION")
        self.problem(seen.header("Content-Type").startswith("application/json"), "not JSON")
        body = seen.json() or {}
        prefix = "/crm/v3/objects/contacts/"
        if seen.method == "PATCH" and seen.path.startswith(prefix):
            self.problem(seen.query.get("idProperty") == "email", "no idProperty=email")
            email = seen.path[len(prefix) :]
            if email not in self.contacts:
                return _error(404, "resource not found", "OBJECT_NOT_FOUND")
            return self._write(seen.key, email, body.get("properties"), created=False, batch=False)
        if seen.method == "POST" and seen.path == prefix + "batch/upsert":
            inputs = body.get("inputs") or [{}]
            self.problem(
                len(inputs) == 1 and inputs[0].get("idProperty") == "email", "not one input by email"
            )
            email = str(inputs[0].get("id", ""))
            created = email not in self.contacts
            if created:
                self.contacts[email] = {"id": str(100 + len(self.contacts)), "properties": {"email": email}}
            return self._write(seen.key, email, inputs[0].get("properties"), created=created, batch=True)
        self.problem(False, f"not a contacts update: {seen.method} {seen.path}")
        return _error(404, "resource not found", "OBJECT_NOT_FOUND")

    def _write(self, key: str, email: str, properties: Any, *, created: bool, batch: bool) -> web.Response:
        if not self.problem(isinstance(properties, dict) and bool(properties), "no properties object"):
            return _error(400, "Invalid input JSON on line 1", "VALIDATION_ERROR")
        invalid = [
            {
                "isValid": False,
                "message": f'Property "{name}" does not exist',
                "error": "PROPERTY_DOESNT_EXIST",
                "name": name,
            }
            for name in properties
            if name not in PROPERTIES
        ] + [
            {
                "isValid": False,
                "message": f"{value} was not one of the allowed options",
                "error": "INVALID_OPTION",
                "name": name,
            }
            for name, value in properties.items()
            if name == "lifecyclestage" and value not in LIFECYCLE
        ]
        if invalid:
            return _error(400, f"Property values were not valid: {json.dumps(invalid)}", "VALIDATION_ERROR")
        record = self.contacts[email]
        changed = 0
        for name, value in properties.items():
            if record["properties"].get(name) != value:
                record["properties"][name] = value
                changed += 1
        if changed:
            self.effects.append((key, changed))
        answer = {"id": record["id"], "properties": dict(record["properties"]), "archived": False}
        if batch:
            return web.json_response({"status": "COMPLETE", "results": [{**answer, "new": created}]})
        return web.json_response(answer)
