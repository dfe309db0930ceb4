"""monday.com's GraphQL API ``POST /v2``: the bare token in ``Authorization``, ``API-Version``.

``create_item`` and ``change_multiple_column_values`` with variables; ``column_values`` is a
JSON string. An unknown board or item is HTTP 200 with ``{"errors": [{"message", "extensions":
{"code": "InvalidBoardIdException"...}}]}``; a throttled token gets 429 with ``Retry-After``
and ``extensions.retry_in_seconds``.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from tests.support.standins.base import Seen
from tests.support.standins.shape import ProviderStandIn, answer, require

TOKEN = "monday-api-token-secret-9911"
BOARDS = {"4821337"}


def _error(message: str, code: str, status: int = 200, **extensions: Any) -> web.Response:
    return answer(
        status,
        {"errors": [{"message": message, "extensions": {"code": code, **extensions}}], "account_id": 1},
    )


class Monday(ProviderStandIn):
    prefix = "monday"

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[str, dict[str, Any]] = {}
        self.changes: int = 0

    probe: tuple[str, str] = ("POST", "/v2")

    def authorized(self, seen: Seen) -> bool:
        return seen.headers.get("Authorization") == TOKEN

    def is_probe(self, seen: Seen) -> bool:
        return super().is_probe(seen) and "mutation" not in str((seen.json() or {}).get("query"))

    def check(self, seen: Seen) -> web.Response | None:
        require((seen.method, seen.path) == ("POST", "/v2"), "POST /v2")
        if seen.headers.get("Authorization") != TOKEN:
            return _error("Not Authenticated", "UserUnauthorizedException", 401)
        require(bool(seen.headers.get("API-Version")), "the API-Version header")
        body = seen.json()
        require(isinstance(body, dict) and isinstance(body.get("variables"), dict), "query and variables")
        query, variables = str(body.get("query")), body["variables"]
        require(
            "create_item" in query or "change_multiple_column_values" in query,
            "create_item or change_multiple_column_values",
        )
        if "columns" in variables:
            require(
                isinstance(variables["columns"], str) and isinstance(json.loads(variables["columns"]), dict),
                "column_values as a JSON string",
            )
        return None

    def throttled(self) -> tuple[int, Any, dict[str, str] | None]:
        error = {
            "message": "Rate limit exceeded",
            "extensions": {"code": "RATE_LIMIT_EXCEEDED", "retry_in_seconds": 120},
        }
        return 429, {"errors": [error], "account_id": 1}, {"Retry-After": "120"}

    async def respond(self, seen: Seen) -> web.Response:
        body = seen.json()
        variables = body["variables"]
        if variables.get("board") not in BOARDS:
            return _error(
                f"Board not found: {variables.get('board')}",
                "InvalidBoardIdException",
                board_id=variables.get("board"),
            )
        columns = json.loads(variables.get("columns") or "{}")
        if "change_multiple_column_values" in body["query"]:
            item = self.items.get(str(variables.get("item")))
            if item is None:
                return _error("Item not found in board", "InvalidItemIdException")
            item["columns"].update(columns)
            self.changes += 1
            return answer(
                200, {"data": {"change_multiple_column_values": {"id": item["id"]}}, "account_id": 1}
            )
        iid = str(9000000 + len(self.items) + 1)
        self.items[iid] = {"id": iid, "name": variables["name"], "columns": columns}
        return answer(200, {"data": {"create_item": {"id": iid}}, "account_id": 1})

    def effects(self) -> int:
        return len(self.items)
