"""``create_asana_task``: ``POST https://app.asana.com/api/1.0/tasks``.

The connection's personal access (or OAuth) token as ``Authorization: Bearer``; the body wraps
the task in ``data`` as Asana requires of every write: ``{"data": {name, notes?, projects?:
[gid], workspace?, assignee?, due_on?}}`` (a task needs a project or a workspace). Asana answers
``201 {"data": {"gid", "name", "permalink_url"?...}}``; errors are ``{"errors": [{"message",
"help"?}]}`` and the step fails with the messages; 429 (with ``Retry-After``) and 5xx retry.

Duplicates: Asana documents no idempotency key for creating tasks, so the step is at least
once: an attempt repeated after a crash between Asana's answer and the step's commit creates a
second task.
"""

from __future__ import annotations

from typing import Any

from beez.executor.actions.base import ActionContext, ActionResult, ConnectionAccess, PermanentError
from beez.executor.actions.http import HttpResponse
from beez.executor.actions.providers.base import ProviderAction, ProviderRequest, answer_json, required_text

__all__ = ["CreateAsanaTask"]


class CreateAsanaTask(ProviderAction):
    """``create_asana_task``: ``connection``, ``name``, ``notes``, ``project`` and/or
    ``workspace`` (gids), ``assignee`` (a user gid, an email or ``me``), ``due_on`` (YYYY-MM-DD).

    Output: ``task_id``, ``url`` (``permalink_url``), ``status_code``.
    """

    type = "create_asana_task"
    provider = "asana"
    label = "Asana"
    default_base_url = "https://app.asana.com/api/1.0"
    idempotency = "none documented: at least once (a crash after Asana's answer creates a second task)"

    async def build(self, ctx: ActionContext, connection: ConnectionAccess | None) -> ProviderRequest:
        assert connection is not None
        config = ctx.config
        task: dict[str, Any] = {"name": required_text(config, "name")}
        if config.get("notes"):
            task["notes"] = str(config["notes"])
        if config.get("project"):
            task["projects"] = [str(config["project"])]
        if config.get("workspace"):
            task["workspace"] = str(config["workspace"])
        if "projects" not in task and "workspace" not in task:
            raise PermanentError(
                "an Asana task needs a `project` or a `workspace`", category="invalid_config"
            )
        for name in ("assignee", "due_on"):
            if config.get(name):
                task[name] = str(config[name])
        return ProviderRequest(
            "POST",
            f"{self.base_url(connection)}/tasks",
            headers={"Authorization": f"Bearer {connection.credentials['access_token']}"},
            json={"data": task},
        )

    def result(self, ctx: ActionContext, response: HttpResponse) -> ActionResult:
        answer = answer_json(response.content) or {}
        data = answer.get("data") if isinstance(answer, dict) else None
        data = data if isinstance(data, dict) else {}
        return ActionResult(
            output={
                "task_id": str(data.get("gid", "")),
                "url": str(data.get("permalink_url") or ""),
                "status_code": response.status_code,
            }
        )

    def provider_message(self, status: int, body: Any) -> str | None:
        errors = body.get("errors") if isinstance(body, dict) else None
        if not isinstance(errors, list):
            return None
        return (
            "; ".join(str(e.get("message")) for e in errors if isinstance(e, dict) and e.get("message"))
            or None
        )
