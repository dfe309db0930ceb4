"""Intercom's contacts API: ``POST /contacts`` and ``PUT /contacts/{id}``, Bearer token and
``Intercom-Version``.

One contact per external id and per email: a create that matches one is refused ``409`` with
``A contact matching those details already exists with id=<id>``. An unknown custom attribute
is ``400 parameter_invalid``; errors are ``{"type": "error.list", "errors": [{code, message}]}``.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from tests.support.standins.base import Seen
from tests.support.standins.shape import ProviderStandIn, answer, require

TOKEN = "intercom-access-token-secret-55"
ATTRIBUTES = {"plan", "monthly_spend"}


def _errors(status: int, code: str, message: str) -> web.Response:
    return answer(
        status, {"type": "error.list", "request_id": "req_1", "errors": [{"code": code, "message": message}]}
    )


class Intercom(ProviderStandIn):
    prefix = "intercom"

    def __init__(self) -> None:
        super().__init__()
        self.contacts: dict[str, dict[str, Any]] = {}

    probe: tuple[str, str] = ("GET", "/me")

    def authorized(self, seen: Seen) -> bool:
        return seen.headers.get("Authorization") == f"Bearer {TOKEN}"

    def check(self, seen: Seen) -> web.Response | None:
        create = (seen.method, seen.path) == ("POST", "/contacts")
        update = seen.method == "PUT" and seen.path.startswith("/contacts/")
        require(create or update, "POST /contacts or PUT /contacts/{id}")
        if seen.headers.get("Authorization") != f"Bearer {TOKEN}":
            return _errors(401, "unauthorized", "Access Token Invalid")
        require(bool(seen.headers.get("Intercom-Version")), "the Intercom-Version header")
        body = seen.json()
        require(isinstance(body, dict), "a JSON object")
        if create:
            require(body.get("role") in ("user", "lead"), "role")
            require(bool(body.get("external_id") or body.get("email")), "external_id or email for a user")
        else:
            require("role" not in body, "no role change on update")
        return None

    def _matching(self, body: dict[str, Any], other_than: str = "") -> str | None:
        for cid, contact in self.contacts.items():
            if cid == other_than:
                continue
            same_id = body.get("external_id") and contact.get("external_id") == body.get("external_id")
            same_email = body.get("email") and contact.get("email") == body.get("email")
            if same_id or same_email:
                return cid
        return None

    async def respond(self, seen: Seen) -> web.Response:
        body = seen.json()
        unknown = set(body.get("custom_attributes") or {}) - ATTRIBUTES
        if unknown:
            return _errors(
                400, "parameter_invalid", f"Custom attribute '{sorted(unknown)[0]}' does not exist"
            )
        if seen.method == "POST":
            existing = self._matching(body)
            if existing is not None:
                return _errors(
                    409, "conflict", f"A contact matching those details already exists with id={existing}"
                )
            cid = f"{len(self.contacts) + 1:024x}"
            self.contacts[cid] = {"type": "contact", "id": cid, "role": body["role"]}
        else:
            cid = seen.path.rsplit("/", 1)[1]
            if cid not in self.contacts:
                return _errors(404, "not_found", "Contact Not Found")
        contact = self.contacts[cid]
        for name, value in body.items():
            if name == "custom_attributes":
                contact[name] = {**contact.get(name, {}), **value}
            elif name != "role":
                contact[name] = value
        return answer(200, contact)

    def effects(self) -> int:
        return len(self.contacts)
