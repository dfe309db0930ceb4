"""Buffer's GraphQL API (``POST /``): ``createPost`` with a Bearer API key.

Answers HTTP 200 for everything but throttling: an unknown channel or empty text is a
``MutationError`` member of the result (``{"__typename": "InvalidInputError", "message"}``),
a bad key an ``errors`` entry with ``extensions.code: UNAUTHORIZED``; a throttled client gets
429 with ``errors[0].extensions.retryAfter`` (and no ``Retry-After`` header).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from tests.support.standins.base import Seen
from tests.support.standins.shape import ProviderStandIn, ShapeError, answer, require

API_KEY = "buffer-api-key-secret-7788"
CHANNELS = {"ch_twitter_1", "ch_linkedin_2"}
MODES = {"addToQueue", "shareNow", "shareNext", "customScheduled"}


class Buffer(ProviderStandIn):
    prefix = "buffer"

    def __init__(self) -> None:
        super().__init__()
        self.posts: list[dict[str, Any]] = []

    probe: tuple[str, str] = ("POST", "/")

    def authorized(self, seen: Seen) -> bool:
        return seen.headers.get("Authorization") == f"Bearer {API_KEY}"

    def is_probe(self, seen: Seen) -> bool:
        return super().is_probe(seen) and "mutation" not in str((seen.json() or {}).get("query"))

    def check(self, seen: Seen) -> web.Response | None:
        require((seen.method, seen.path) == ("POST", "/"), "GraphQL is POST https://api.buffer.com")
        if seen.headers.get("Authorization") != f"Bearer {API_KEY}":
            return answer(
                200,
                {
                    "data": None,
                    "errors": [{"message": "Invalid API key", "extensions": {"code": "UNAUTHORIZED"}}],
                },
            )
        body = seen.json()
        require(
            isinstance(body, dict) and "createPost(input: $input)" in str(body.get("query")),
            "the createPost mutation",
        )
        variables = body.get("variables") if isinstance(body, dict) else None
        post = variables.get("input") if isinstance(variables, dict) else None
        if not isinstance(post, dict):
            raise ShapeError("variables.input")
        require(post.get("schedulingType") in ("automatic", "notification"), "input.schedulingType")
        require(post.get("mode") in MODES, "input.mode")
        require(
            post.get("mode") != "customScheduled" or bool(post.get("dueAt")), "dueAt with customScheduled"
        )
        return None

    def throttled(self) -> tuple[int, Any, dict[str, str] | None]:
        error = {
            "message": "Too many requests from this client. Please try again later.",
            "extensions": {"code": "RATE_LIMIT_EXCEEDED", "limitType": "CLIENT_ACCOUNT", "retryAfter": 120},
        }
        return 429, {"errors": [error]}, None

    async def respond(self, seen: Seen) -> web.Response:
        post = seen.json()["variables"]["input"]
        if post.get("channelId") not in CHANNELS:
            failed = {"__typename": "NotFoundError", "message": "Channel not found"}
            return answer(200, {"data": {"createPost": failed}})
        if not str(post.get("text", "")).strip():
            failed = {"__typename": "InvalidInputError", "message": "Text can't be empty"}
            return answer(200, {"data": {"createPost": failed}})
        created = {
            "id": f"post_{len(self.posts) + 1}",
            "dueAt": post.get("dueAt") or "2026-12-04T09:00:00.000Z",
        }
        self.posts.append({**post, **created})
        return answer(200, {"data": {"createPost": {"__typename": "PostActionSuccess", "post": created}}})

    def effects(self) -> int:
        return len(self.posts)
