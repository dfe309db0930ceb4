"""Salesforce: the OAuth2 token endpoint (``POST /services/oauth2/token``, answering with
``instance_url``) and REST ``POST /services/data/v60.0/sobjects/Lead/`` (developer.salesforce.com,
REST API, "Create a Record").

Checks: bearer session token, JSON Lead fields (``LastName``, ``Company`` required, known fields
only). Answers 201 ``{"id", "success": true, "errors": []}``; errors as a list of
``{"message", "errorCode", "fields"}``. sObject create takes no key: each request is a lead.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from tests.support.standins.base import Seen, StandIn

CLIENT_ID = "3MVG9-salesforce-consumer-key"
REFRESH_TOKEN = "5Aep861-salesforce-refresh-token"
LEAD_FIELDS = frozenset(
    {
        "LastName",
        "FirstName",
        "Company",
        "Email",
        "Phone",
        "Title",
        "LeadSource",
        "Status",
        "Description",
        "Industry",
        "Score__c",
    }
)


class Salesforce(StandIn):
    prefix = "salesforce"

    def __init__(self) -> None:
        super().__init__()
        self.tokens: list[str] = []
        self.leads: list[tuple[str, dict[str, Any]]] = []
        """(idempotency key, fields) of every lead created."""

    async def answer(self, seen: Seen) -> web.StreamResponse:
        if seen.path == "/services/oauth2/token":
            form = dict(seen.form())
            if (
                form.get("grant_type") != "refresh_token"
                or form.get("refresh_token") != REFRESH_TOKEN
                or form.get("client_id") != CLIENT_ID
            ):
                return web.json_response(
                    {"error": "invalid_grant", "error_description": "expired access/refresh token"},
                    status=400,
                )
            self.tokens.append(f"00Dxx0000001gPL!AR8AQ-{len(self.tokens) + 1}")
            return web.json_response(
                {
                    "access_token": self.tokens[-1],
                    "instance_url": self.base,
                    "id": "https://login.salesforce.com/id/00Dxx/005xx",
                    "token_type": "Bearer",
                    "issued_at": "1700000000000",
                    "signature": "c2ln",
                }
            )
        if not self.problem(
            seen.header("Authorization") in {f"Bearer {t}" for t in self.tokens}, "no bearer session token"
        ):
            return web.json_response(
                [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}], status=401
            )
        if not self.problem(
            seen.method == "POST" and seen.path == "/services/data/v60.0/sobjects/Lead/",
            f"not the Lead create: {seen.method} {seen.path}",
        ):
            return web.json_response(
                [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}], status=404
            )
        self.problem(seen.header("Content-Type").startswith("application/json"), "not JSON")
        lead = seen.json()
        if not isinstance(lead, dict):
            return web.json_response(
                [{"message": "JSON Parser Error", "errorCode": "JSON_PARSER_ERROR"}], status=400
            )
        unknown = sorted(set(lead) - LEAD_FIELDS)
        if unknown:
            return web.json_response(
                [
                    {
                        "message": f"No such column '{unknown[0]}' on sobject of type Lead",
                        "errorCode": "INVALID_FIELD",
                    }
                ],
                status=400,
            )
        missing = [name for name in ("LastName", "Company") if not lead.get(name)]
        if missing:
            return web.json_response(
                [
                    {
                        "message": f"Required fields are missing: [{', '.join(missing)}]",
                        "errorCode": "REQUIRED_FIELD_MISSING",
                        "fields": missing,
                    }
                ],
                status=400,
            )
        self.leads.append((seen.key, lead))
        return web.json_response(
            {"id": f"00Q5e00000{len(self.leads):08d}", "success": True, "errors": []}, status=201
        )
