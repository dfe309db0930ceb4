"""Jira Cloud REST v3 ``POST /rest/api/3/issue``: Basic auth (email, API token), ADF description.

Refusals as Jira words them: 401 without valid credentials; 400 ``{"errorMessages": [],
"errors": {"<field>": "<message>"}}`` for an unknown project or issue type, or a summary over
255 characters; 429 with ``Retry-After``.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from tests.support.standins.base import Seen
from tests.support.standins.shape import ProviderStandIn, answer, basic_credentials, require

EMAIL = "automation@acme.example"
TOKEN = "jira-api-token-secret-0042"
PROJECTS = {"OPS": "10000"}
ISSUE_TYPES = {"Task", "Bug", "Story"}


def _is_adf(doc: Any) -> bool:
    return (
        isinstance(doc, dict)
        and doc.get("type") == "doc"
        and doc.get("version") == 1
        and all(isinstance(n, dict) and n.get("type") == "paragraph" for n in doc.get("content", []))
    )


class Jira(ProviderStandIn):
    prefix = "jira"

    def __init__(self) -> None:
        super().__init__()
        self.issues: list[dict[str, Any]] = []

    probe: tuple[str, str] = ("GET", "/rest/api/3/myself")

    def authorized(self, seen: Seen) -> bool:
        return basic_credentials(seen.headers.get("Authorization", "")) == (EMAIL, TOKEN)

    def check(self, seen: Seen) -> web.Response | None:
        require((seen.method, seen.path) == ("POST", "/rest/api/3/issue"), "only POST /rest/api/3/issue")
        if basic_credentials(seen.headers.get("Authorization", "")) != (EMAIL, TOKEN):
            return web.Response(status=401, text="Client must be authenticated to access this resource.")
        require(seen.headers.get("Content-Type", "").startswith("application/json"), "a JSON body")
        body = seen.json()
        require(isinstance(body, dict) and isinstance(body.get("fields"), dict), "a {fields: {...}} body")
        fields = body["fields"]
        require(isinstance(fields.get("project"), dict) and "key" in fields["project"], "fields.project.key")
        require(isinstance(fields.get("issuetype"), dict) and "name" in fields["issuetype"], "issuetype.name")
        if "description" in fields:
            require(_is_adf(fields["description"]), "description is an ADF document (REST v3)")
        return None

    async def respond(self, seen: Seen) -> web.Response:
        fields = seen.json()["fields"]
        errors: dict[str, str] = {}
        if fields["project"]["key"] not in PROJECTS:
            errors["project"] = "valid project is required"
        if fields["issuetype"]["name"] not in ISSUE_TYPES:
            errors["issuetype"] = "Specify a valid issue type"
        if len(str(fields.get("summary", ""))) > 255:
            errors["summary"] = "Summary must be less than 255 characters."
        elif not str(fields.get("summary", "")).strip():
            errors["summary"] = "You must specify a summary of the issue."
        if errors:
            return answer(400, {"errorMessages": [], "errors": errors})
        number = len(self.issues) + 1
        issue = {"id": str(10000 + number), "key": f"{fields['project']['key']}-{number}", "fields": fields}
        self.issues.append(issue)
        return answer(
            201,
            {
                "id": issue["id"],
                "key": issue["key"],
                "self": f"https://acme.atlassian.net/rest/api/3/issue/{issue['id']}",
            },
        )

    def effects(self) -> int:
        return len(self.issues)
