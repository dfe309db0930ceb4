"""``create_jira_ticket``: ``POST /rest/api/3/issue`` on the organization's Jira Cloud site.

HTTP Basic auth with the connection's account email and API token; a JSON body
``{"fields": {project: {key}, summary, issuetype: {name}, description, labels, priority: {name}}}``
where ``description`` is an Atlassian Document Format document (REST v3 takes no plain text):
one paragraph per blank-line-separated block of the step's text, its lines joined by hard
breaks. Jira answers ``201 {"id", "key", "self"}``; a refused issue is
``400 {"errorMessages": [...], "errors": {"<field>": "<message>"}}`` and the step fails with
those messages; 429 (with ``Retry-After``) and 5xx retry.

Duplicates: Jira documents no idempotency key for issue creation, so the step is at least once:
an attempt repeated after a crash between Jira's answer and the step's commit creates a second
issue (the duplicate window is that crash window; both carry the same summary and the
``X-Beez-Idempotency-Key`` header, and the step records the key of the issue it created).
"""

from __future__ import annotations

from typing import Any

from beez.executor.actions.base import ActionContext, ActionResult, ConnectionAccess
from beez.executor.actions.http import HttpResponse
from beez.executor.actions.providers.auth import basic, site_base_url
from beez.executor.actions.providers.base import ProviderAction, ProviderRequest, answer_json, required_text

__all__ = ["CreateJiraTicket", "adf_document"]


def adf_document(text: str) -> dict[str, Any]:
    """Plain text as an Atlassian Document Format document: a paragraph per block, hard breaks
    between its lines."""
    paragraphs: list[dict[str, Any]] = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        lines = [line for line in block.split("\n")]
        if not any(line.strip() for line in lines):
            continue
        content: list[dict[str, Any]] = []
        for index, line in enumerate(lines):
            if index:
                content.append({"type": "hardBreak"})
            if line:
                content.append({"type": "text", "text": line})
        paragraphs.append({"type": "paragraph", "content": content})
    return {"type": "doc", "version": 1, "content": paragraphs}


class CreateJiraTicket(ProviderAction):
    """``create_jira_ticket``: ``connection``, ``project`` (key), ``summary``, ``description``,
    ``issue_type`` (default Task), ``labels``, ``priority``.

    Output: ``issue_id``, ``issue_key``, ``url`` (the issue's REST URL), ``status_code``.
    Vars: none.
    """

    type = "create_jira_ticket"
    provider = "jira"
    label = "Jira"
    default_base_url = "https://{site}.atlassian.net"
    idempotency = "none documented: at least once (a crash after Jira's answer creates a second issue)"

    def base_url(self, connection: ConnectionAccess | None = None) -> str:
        url = super().base_url(connection)
        return site_base_url(url, connection) if connection is not None else url

    async def build(self, ctx: ActionContext, connection: ConnectionAccess | None) -> ProviderRequest:
        assert connection is not None
        config = ctx.config
        fields: dict[str, Any] = {
            "project": {"key": required_text(config, "project")},
            "summary": required_text(config, "summary"),
            "issuetype": {"name": str(config.get("issue_type") or "Task")},
        }
        if str(config.get("description") or "").strip():
            fields["description"] = adf_document(str(config["description"]))
        if config.get("labels"):
            fields["labels"] = [str(label) for label in config["labels"]]
        if config.get("priority"):
            fields["priority"] = {"name": str(config["priority"])}
        credentials = connection.credentials
        return ProviderRequest(
            "POST",
            f"{self.base_url(connection)}/rest/api/3/issue",
            headers={"Authorization": basic(credentials["email"], credentials["api_token"])},
            json={"fields": fields},
        )

    def result(self, ctx: ActionContext, response: HttpResponse) -> ActionResult:
        answer = answer_json(response.content) or {}
        return ActionResult(
            output={
                "issue_id": str(answer.get("id", "")),
                "issue_key": str(answer.get("key", "")),
                "url": str(answer.get("self", "")),
                "status_code": response.status_code,
            }
        )

    def provider_message(self, status: int, body: Any) -> str | None:
        if not isinstance(body, dict):
            return None
        messages = [str(m) for m in body.get("errorMessages") or []]
        errors = body.get("errors")
        if isinstance(errors, dict):
            messages += [f"{name}: {text}" for name, text in errors.items()]
        return "; ".join(messages) or None
