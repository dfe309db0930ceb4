"""``update_monday_board``: monday.com's GraphQL API, ``POST https://api.monday.com/v2``.

The connection's API token as ``Authorization`` (monday.com takes the bare token) and
``API-Version: 2024-10``. With ``item_id`` the step changes that item's columns,
``change_multiple_column_values(board_id, item_id, column_values)``; without it, it creates an
item, ``create_item(board_id, item_name, group_id?, column_values?)``. ``column_values`` is a
JSON object by column id, sent as the JSON string monday.com's ``JSON`` scalar expects.

monday.com answers errors as ``{"errors": [{"message", "extensions": {"code", ...}}]}``, with
HTTP 200 for a refused query (``InvalidBoardIdException``, ``ColumnValueException``...: the
step fails with the message) and 429 for ``RATE_LIMIT_EXCEEDED``, ``COMPLEXITY_BUDGET_EXHAUSTED``
and the like, whose ``Retry-After`` (or ``extensions.retry_in_seconds``) is honoured; 5xx retry.

Duplicates: changing an item's columns sets them to the same values again, so a repeat is
harmless; ``create_item`` has no idempotency key, so creating is at least once: an attempt
repeated after a crash between monday.com's answer and the step's commit creates a second item.
"""

from __future__ import annotations

import json
from typing import Any

from beez.executor.actions.base import ActionContext, ActionResult, ConnectionAccess, TransientError
from beez.executor.actions.http import HttpResponse
from beez.executor.actions.providers.base import ProviderAction, ProviderRequest, answer_json, required_text
from beez.executor.actions.providers.graphql import graphql_errors, hint_from_throttled_body, raise_for_errors

__all__ = ["API_VERSION", "CHANGE_COLUMNS", "CREATE_ITEM", "UpdateMondayBoard"]

API_VERSION = "2024-10"
CREATE_ITEM = (
    "mutation ($board: ID!, $name: String!, $group: String, $columns: JSON) "
    "{ create_item (board_id: $board, item_name: $name, group_id: $group, column_values: $columns) { id } }"
)
CHANGE_COLUMNS = (
    "mutation ($board: ID!, $item: ID!, $columns: JSON!) "
    "{ change_multiple_column_values (board_id: $board, item_id: $item, column_values: $columns) { id } }"
)
_TRANSIENT = frozenset(
    {
        "RATE_LIMIT_EXCEEDED",
        "COMPLEXITY_BUDGET_EXHAUSTED",
        "ComplexityException",
        "maxConcurrencyExceeded",
        "IP_RATE_LIMIT_EXCEEDED",
        "INTERNAL_SERVER_ERROR",
    }
)


class UpdateMondayBoard(ProviderAction):
    """``update_monday_board``: ``connection``, ``board_id``, ``item_id`` (change its columns) or
    ``item_name`` (create an item, in ``group_id``), ``column_values``.

    Output: ``item_id``, ``created``, ``status_code``.
    """

    type = "update_monday_board"
    provider = "monday"
    label = "monday.com"
    default_base_url = "https://api.monday.com/v2"
    idempotency = "change_multiple_column_values is naturally idempotent; create_item is at least once"

    async def build(self, ctx: ActionContext, connection: ConnectionAccess | None) -> ProviderRequest:
        assert connection is not None
        config = ctx.config
        board = required_text(config, "board_id")
        columns = config.get("column_values") or {}
        variables: dict[str, Any] = {"board": board}
        if config.get("item_id"):
            variables.update(item=str(config["item_id"]), columns=json.dumps(columns, separators=(",", ":")))
            query = CHANGE_COLUMNS
        else:
            variables["name"] = required_text(config, "item_name")
            if config.get("group_id"):
                variables["group"] = str(config["group_id"])
            if columns:
                variables["columns"] = json.dumps(columns, separators=(",", ":"))
            query = CREATE_ITEM
        return ProviderRequest(
            "POST",
            self.base_url(connection),
            headers={"Authorization": connection.credentials["api_token"], "API-Version": API_VERSION},
            json={"query": query, "variables": variables},
        )

    async def run(self, ctx: ActionContext) -> ActionResult:
        try:
            return await super().run(ctx)
        except TransientError as exc:
            hint_from_throttled_body(exc, ("retry_in_seconds",), self.settings.http_retry_after_cap_s)
            raise

    def result(self, ctx: ActionContext, response: HttpResponse) -> ActionResult:
        answer = answer_json(response.content)
        raise_for_errors(
            self.label,
            answer,
            transient_codes=_TRANSIENT,
            retry_keys=("retry_in_seconds",),
            cap_s=self.settings.http_retry_after_cap_s,
        )
        data = answer.get("data") if isinstance(answer, dict) else None
        data = data if isinstance(data, dict) else {}
        created = "create_item" in data or not ctx.config.get("item_id")
        item = data.get("create_item") or data.get("change_multiple_column_values") or {}
        return ActionResult(
            output={
                "item_id": str(item.get("id", "")) if isinstance(item, dict) else "",
                "created": created,
                "status_code": response.status_code,
            }
        )

    def provider_message(self, status: int, body: Any) -> str | None:
        errors = graphql_errors(body)
        if errors and errors[0].get("message"):
            return str(errors[0]["message"])
        if isinstance(body, dict) and body.get("error_message"):
            return str(body["error_message"])
        return None
