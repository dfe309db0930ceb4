"""What the stand-ins of Jira, Buffer, Mailchimp, Intercom, Pipedrive, Close, Asana and
monday.com add to :class:`.base.StandIn`: a shape check before the provider's answer, the
provider's harmless read for "Test connection", its throttled answer, and a count of records.

A request the provider documents differently (a missing header, a wrong body) is recorded in
``problems`` and answered 400 ``stand-in: <what>``, never with the provider's success.
"""

from __future__ import annotations

import base64
from typing import Any

from aiohttp import web

from tests.support.standins.base import Seen, StandIn

__all__ = ["ProviderStandIn", "ShapeError", "answer", "basic_credentials", "require"]


class ShapeError(Exception):
    """The request is not what the provider documents."""


def require(condition: bool, what: str) -> None:
    if not condition:
        raise ShapeError(what)


def basic_credentials(header: str) -> tuple[str, str] | None:
    """(user, password) of an HTTP Basic ``Authorization`` value."""
    scheme, _, value = header.partition(" ")
    if scheme != "Basic":
        return None
    user, _, password = base64.b64decode(value).decode().partition(":")
    return user, password


def answer(status: int, payload: Any, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response(payload, status=status, headers=headers)


class ProviderStandIn(StandIn):
    """A stand-in whose requests are checked (:meth:`check`) before they are answered."""

    probe: tuple[str, str] = ("", "")
    """The method and path of the provider's harmless read that "Test connection" makes."""

    def authorized(self, seen: Seen) -> bool:
        """Whether the request carries the provider's credentials as it documents them."""
        return True

    def is_probe(self, seen: Seen) -> bool:
        return bool(self.probe[0]) and (seen.method, seen.path) == self.probe

    def check(self, seen: Seen) -> web.Response | None:
        """Auth and shape: the provider's refusal (401...), or None to go on."""
        return None

    async def respond(self, seen: Seen) -> web.Response:
        raise NotImplementedError

    def throttled(self) -> tuple[int, Any, dict[str, str] | None]:
        """The provider's answer to a throttled request (status, body, headers)."""
        return 429, {"message": "Too Many Requests"}, {"Retry-After": "120"}

    def throttle(self) -> None:
        """Answers the next request as throttled."""
        self.fail_next(*self.throttled())

    def effects(self) -> int:
        """How many records the provider holds (issues, members, posts...)."""
        return 0

    async def answer(self, seen: Seen) -> web.StreamResponse:
        if self.is_probe(seen):
            if not self.authorized(seen):
                return answer(401, {"message": "unauthorized"})
            return answer(200, {"data": {"me": {"id": "1"}, "account": {"id": "1"}}, "id": "1"})
        try:
            refused = self.check(seen)
            if refused is not None:
                return refused
            return await self.respond(seen)
        except ShapeError as exc:
            self.problems.append(f"{seen.method} {seen.path}: {exc}")
            return answer(400, {"message": f"stand-in: {exc}"})
