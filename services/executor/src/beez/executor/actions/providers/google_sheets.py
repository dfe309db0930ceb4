"""``append_google_sheets_row``: Sheets API v4 ``spreadsheets.values.append``.

``POST /v4/spreadsheets/{spreadsheetId}/values/{range}:append?valueInputOption=...&
insertDataOption=...`` with a ``ValueRange`` body (``{"range", "majorDimension": "ROWS",
"values": [[...]]}``) and the Google connection's OAuth2 access token as a bearer token
(refreshed once per connection, decision 0040). The API host is ``https://sheets.googleapis.com``
(``provider_base_urls["google_sheets"]`` replaces it; ``provider_base_urls["google"]`` is the
token endpoint). Errors are ``{"error": {"code", "message", "status"}}``: 400 INVALID_ARGUMENT
(a bad range) and 403/404 fail the step with the message; 429 RESOURCE_EXHAUSTED and 5xx retry.

Idempotency: the append takes no key, so this action has a duplicate window: a crash after
Google appended the row and before the step's result is committed appends it again when the
attempt is redelivered (within the job's ack wait). Put the step's key in a column
(``{{ execution.id }}``) where a duplicate row must be recognisable.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from beez.executor.actions.base import ActionContext, ActionResult, ConnectionAccess, PermanentError
from beez.executor.actions.http import HttpResponse
from beez.executor.actions.providers.base import ProviderAction, ProviderRequest, answer_json, required_text

__all__ = ["AppendGoogleSheetsRow"]


class AppendGoogleSheetsRow(ProviderAction):
    """``append_google_sheets_row``: ``connection``, ``spreadsheet_id``, ``range`` (A1 notation of
    the table, ``Sheet1`` or ``Leads!A:D``), ``values`` (one row), ``value_input_option``
    (``USER_ENTERED``), ``insert_data_option`` (``INSERT_ROWS``).

    Output: ``spreadsheet_id``, ``updated_range``, ``updated_rows``, ``status_code``.
    """

    type = "append_google_sheets_row"
    provider = "google"
    label = "Google Sheets"
    default_base_url = "https://sheets.googleapis.com"
    base_url_key = "google_sheets"
    idempotency = "none: duplicate window (one extra row per crash between call and commit)"

    async def build(self, ctx: ActionContext, connection: ConnectionAccess | None) -> ProviderRequest:
        assert connection is not None
        config = ctx.config
        spreadsheet = required_text(config, "spreadsheet_id")
        cells = config.get("values")
        if not isinstance(cells, list) or not cells:
            raise PermanentError("`values` must list the row's cells", category="invalid_config")
        row = ["" if cell is None else cell for cell in cells]
        target = required_text(config, "range")
        query = urlencode(
            {
                "valueInputOption": config.get("value_input_option") or "USER_ENTERED",
                "insertDataOption": config.get("insert_data_option") or "INSERT_ROWS",
            }
        )
        url = (
            f"{self.base_url(connection)}/v4/spreadsheets/{quote(spreadsheet, safe='')}"
            f"/values/{quote(target, safe='')}:append?{query}"
        )
        return ProviderRequest(
            "POST",
            url,
            headers={"Authorization": f"Bearer {await connection.access_token()}"},
            json={"range": target, "majorDimension": "ROWS", "values": [row]},
        )

    def result(self, ctx: ActionContext, response: HttpResponse) -> ActionResult:
        answer = answer_json(response.content) or {}
        updates = answer.get("updates") or {}
        return ActionResult(
            output={
                "spreadsheet_id": str(answer.get("spreadsheetId", "")),
                "updated_range": str(updates.get("updatedRange", "")),
                "updated_rows": int(updates.get("updatedRows") or 0),
                "status_code": response.status_code,
            }
        )

    def provider_message(self, status: int, body: Any) -> str | None:
        error = body.get("error") if isinstance(body, dict) else None
        if not isinstance(error, dict) or not error.get("message"):
            return None
        return f"{error['message']} ({error['status']})" if error.get("status") else str(error["message"])
