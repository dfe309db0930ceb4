"""Mailchimp Marketing API ``PUT /3.0/lists/{list_id}/members/{subscriber_hash}``.

HTTP Basic auth with any user name and the API key; the hash must be the MD5 of the lower-cased
``email_address``. Errors are problem documents: 404 for an unknown audience, 400 ``Invalid
Resource`` for a fake address or a new member without ``status_if_new``; 429 with
``Retry-After``. The PUT is an upsert: the same request twice leaves one member.
"""

from __future__ import annotations

import hashlib
from typing import Any

from aiohttp import web

from tests.support.standins.base import Seen
from tests.support.standins.shape import ProviderStandIn, answer, basic_credentials, require

API_KEY = "0123456789abcdef0123456789abcdef-us21"
LISTS = {"a1b2c3d4e5"}


def _problem(status: int, title: str, detail: str, **more: Any) -> web.Response:
    return answer(
        status,
        {
            "type": "https://mailchimp.com/developer/marketing/docs/errors/",
            "title": title,
            "status": status,
            "detail": detail,
            "instance": "4f5e1c8a",
            **more,
        },
    )


class Mailchimp(ProviderStandIn):
    prefix = "mailchimp"

    def __init__(self) -> None:
        super().__init__()
        self.members: dict[tuple[str, str], dict[str, Any]] = {}

    probe: tuple[str, str] = ("GET", "/3.0/ping")

    def authorized(self, seen: Seen) -> bool:
        return (basic_credentials(seen.headers.get("Authorization", "")) or ("", ""))[1] == API_KEY

    def check(self, seen: Seen) -> web.Response | None:
        parts = seen.path.removeprefix("/3.0").strip("/").split("/")
        require(
            seen.path.startswith("/3.0/")
            and seen.method == "PUT"
            and len(parts) == 4
            and parts[0] == "lists"
            and parts[2] == "members",
            "PUT /3.0/lists/{id}/members/{hash}",
        )
        credentials = basic_credentials(seen.headers.get("Authorization", ""))
        if credentials is None or credentials[1] != API_KEY:
            return _problem(
                401,
                "API Key Invalid",
                "Your API key may be invalid, or you've attempted to access the wrong datacenter.",
            )
        body = seen.json()
        require(isinstance(body, dict) and isinstance(body.get("email_address"), str), "email_address")
        expected = hashlib.md5(body["email_address"].lower().encode(), usedforsecurity=False).hexdigest()
        require(parts[3] == expected, "the subscriber hash is the MD5 of the lower-cased email")
        return None

    async def respond(self, seen: Seen) -> web.Response:
        _, list_id, _, member_id = seen.path.removeprefix("/3.0").strip("/").split("/")
        body = seen.json()
        if list_id not in LISTS:
            return _problem(404, "Resource Not Found", "The requested resource could not be found.")
        if body["email_address"].endswith("@example.invalid"):
            detail = f"{body['email_address']} looks fake or invalid, please enter a real email address."
            return _problem(400, "Invalid Resource", detail)
        existing = self.members.get((list_id, member_id))
        if existing is None and not body.get("status_if_new"):
            errors = [{"field": "status_if_new", "message": "This value should not be blank."}]
            return _problem(
                400, "Invalid Resource", "The resource submitted could not be validated.", errors=errors
            )
        member = dict(existing or {"id": member_id, "list_id": list_id, "status": body.get("status_if_new")})
        member["email_address"] = body["email_address"]
        if body.get("status"):
            member["status"] = body["status"]
        member["merge_fields"] = {**member.get("merge_fields", {}), **(body.get("merge_fields") or {})}
        self.members[(list_id, member_id)] = member
        return answer(200, member)

    def effects(self) -> int:
        return len(self.members)
