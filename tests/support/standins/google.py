"""Google: the OAuth2 token endpoint (``POST /token``, refresh-token grant) and Sheets API v4
``spreadsheets.values.append`` under ``/sheets`` (developers.google.com/sheets/api/reference/rest/
v4/spreadsheets.values/append).

Checks: bearer access token from the token endpoint, ``valueInputOption`` and ``insertDataOption``,
a ValueRange body (``range`` equal to the path's, ``majorDimension: ROWS``, one row of values).
Answers ``{"spreadsheetId", "tableRange", "updates": {...}}``; errors as
``{"error": {"code", "message", "status"}}``. The append takes no key: each request adds a row.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from tests.support.standins.base import Seen, StandIn

CLIENT_ID = "1234-beez.apps.googleusercontent.com"
REFRESH_TOKEN = "1//04-google-refresh-token"
SPREADSHEET = "1BxiMVs0XRA5nFMdKvBdBZjgmUUqptlbs74OgvE2upms"


def _error(code: int, message: str, status: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message, "status": status}}, status=code)


class Google(StandIn):
    prefix = "google"

    def __init__(self) -> None:
        super().__init__()
        self.tokens: list[str] = []
        self.sheets: dict[str, list[list[Any]]] = {"Leads": [["email", "name", "list"]]}
        self.appended: list[tuple[str, list[Any]]] = []
        """(idempotency key, row) of every row appended."""

    async def answer(self, seen: Seen) -> web.StreamResponse:
        if seen.path == "/token":
            form = dict(seen.form())
            if (
                form.get("grant_type") != "refresh_token"
                or form.get("refresh_token") != REFRESH_TOKEN
                or form.get("client_id") != CLIENT_ID
            ):
                return web.json_response(
                    {"error": "invalid_grant", "error_description": "Bad Request"}, status=400
                )
            self.tokens.append(f"ya29.a0-{len(self.tokens) + 1}")
            return web.json_response(
                {
                    "access_token": self.tokens[-1],
                    "expires_in": 3599,
                    "token_type": "Bearer",
                    "scope": "https://www.googleapis.com/auth/spreadsheets",
                }
            )
        if not self.problem(
            seen.header("Authorization") in {f"Bearer {t}" for t in self.tokens}, "no bearer access token"
        ):
            return _error(401, "Request had invalid authentication credentials.", "UNAUTHENTICATED")
        prefix = f"/sheets/v4/spreadsheets/{SPREADSHEET}/values/"
        if not seen.path.endswith(":append") or not seen.path.startswith("/sheets/v4/spreadsheets/"):
            self.problem(False, f"not values.append: {seen.method} {seen.path}")
            return _error(404, "Requested entity was not found.", "NOT_FOUND")
        if not seen.path.startswith(prefix):
            return _error(404, "Requested entity was not found.", "NOT_FOUND")
        target = seen.path[len(prefix) : -len(":append")]
        self.problem(seen.method == "POST", "not a POST")
        self.problem(seen.query.get("valueInputOption") in ("RAW", "USER_ENTERED"), "no valueInputOption")
        self.problem(
            seen.query.get("insertDataOption") in ("INSERT_ROWS", "OVERWRITE"), "no insertDataOption"
        )
        body = seen.json()
        if not self.problem(
            isinstance(body, dict)
            and body.get("range") == target
            and body.get("majorDimension") == "ROWS"
            and isinstance(body.get("values"), list)
            and len(body["values"]) == 1,
            f"not a one-row ValueRange for {target}: {body}",
        ):
            return _error(400, "Invalid JSON payload received.", "INVALID_ARGUMENT")
        sheet = target.split("!")[0].strip("'")
        if sheet not in self.sheets:
            return _error(400, f"Unable to parse range: {target}", "INVALID_ARGUMENT")
        rows = self.sheets[sheet]
        row = body["values"][0]
        rows.append(row)
        self.appended.append((seen.key, row))
        end = chr(ord("A") + len(row) - 1)
        return web.json_response(
            {
                "spreadsheetId": SPREADSHEET,
                "tableRange": f"{sheet}!A1:{end}{len(rows) - 1}",
                "updates": {
                    "spreadsheetId": SPREADSHEET,
                    "updatedRange": f"{sheet}!A{len(rows)}:{end}{len(rows)}",
                    "updatedRows": 1,
                    "updatedColumns": len(row),
                    "updatedCells": len(row),
                },
            }
        )
