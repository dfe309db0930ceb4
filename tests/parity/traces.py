"""One shape for what a run did, built from the engine's record and from the dry run's report.

A trace is plain JSON, so it is also what the golden files hold:

- ``steps``: every step visited, in order, with ``status`` (succeeded, skipped, failed), the
  ``branch`` a branching step took, a loop's ``iterations``, a skip's ``reason``, a failure's
  ``error`` and ``category``, and the ``message`` a communication or HTTP step rendered (for
  a task or a notification to the team: the fields of its platform command);
- ``contact_changes``: the contact snapshot's fields that differ at the end from the start;
- ``end``: ``status`` (completed, failed) and whether the goal was reached (``converted``).

The engine's messages are read where they arrived, at the local SMTP and HTTP servers (tasks
and notifications: in its outbox), and matched to their steps by the idempotency key every
message carries.

Task, calendar, activity and conversation commands (decision 0043) are shown as their typed
message in proto3 JSON (proto field names, every field). The ids they derive from the step's key
differ between the engine and the dry run (the dry run's execution id is ``dry-run``), so a
trace names each id by its first appearance (``<task#1>``): both must create and reference the
same objects in the same places. Their times are shown from the run's start (``start+86400s``),
so parity workflows give relative times (``due_in``, ``start_in``, ``after``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import parseaddr
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from google.protobuf import json_format
from google.protobuf.message import Message

from beez.api.executor.v1 import executor_pb2
from beez.api.messages.v1 import commands_pb2
from beez.automation.domain.dryrun import DryRun
from beez.executor.actions.links import LINK_ACTIONS
from beez.workflow.catalog.actions_comms import LINK_MARKER
from beez.workflow.effects import effect_of, scoped_effects
from beez.workflow.effects_crm import REPLY_VARS, crm_types
from beez.workflow.intervals import parse_time
from beez.workflow.model import plain
from tests.support.providers import Recorded

Trace = dict[str, Any]

_STATUS = {
    executor_pb2.STEP_STATUS_SUCCEEDED: "succeeded",
    executor_pb2.STEP_STATUS_SKIPPED: "skipped",
    executor_pb2.STEP_STATUS_FAILED: "failed",
    executor_pb2.STEP_STATUS_WAITING: "waiting",
    executor_pb2.STEP_STATUS_RUNNING: "running",
}
_DRY_STATUS = {"skipped": "skipped", "error": "failed"}
_PSEUDO_STEPS = frozenset({"goal", "truncated"})
_IDEMPOTENCY_HEADER = "x-beez-idempotency-key"


def contact_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of ``after`` that differ from ``before`` (None for a field removed)."""
    before, after = plain(dict(before)), plain(dict(after))
    return {key: after.get(key) for key in sorted({*before, *after}) if before.get(key) != after.get(key)}


# --- the engine ------------------------------------------------------------------------------


def email_message(message: EmailMessage) -> dict[str, Any]:
    """An email as the SMTP server received it."""
    return {
        "to": parseaddr(str(message["To"]))[1],
        "subject": str(message["Subject"]),
        "body": message.get_content().replace("\r\n", "\n").rstrip("\n"),
    }


def http_message(request: Recorded) -> dict[str, Any]:
    """A provider or integration request as the HTTP server received it."""
    path = request.path
    if path.startswith("/wa/"):
        sent = request.json()
        return {"to": "+" + sent["to"], "body": sent["text"]["body"]}
    if path.startswith("/twilio/"):
        form = dict(parse_qsl(request.body.decode()))
        return {"to": form["To"], "body": form["Body"]}
    if path.startswith("/slack/"):
        return dict(request.json())
    body: Any = None
    if request.body:
        content_type = next((v for k, v in request.headers.items() if k.lower() == "content-type"), "")
        body = request.json() if content_type.startswith("application/json") else request.body.decode()
    return {"method": request.method, "path": path, "body": body}


_TEAM_COMMANDS = {
    "create_task": "create_task",
    "send_internal_notification": "send_notification",
    "send_error_alert": "alert_admins",
}
"""Steps whose message is a platform command to the team: the task or notification text."""


SCOPED_VERBS = frozenset(scoped_effects()) | frozenset(crm_types()) - frozenset(REPLY_VARS)
"""Task, calendar, activity, conversation and CRM commands (the CRM's request-reply verbs are no
outbox message): verb = the step's type."""
_DERIVED_ID = re.compile(r"^(task|cal|mtg|cmt|seq|act|msg|note)_[0-9a-f]{24}$")
_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def _relative(value: Any, base: datetime | None) -> Any:
    """``value`` with every RFC 3339 time shown as seconds from ``base`` (whole seconds)."""
    if isinstance(value, dict):
        return {key: _relative(item, base) for key, item in value.items()}
    if isinstance(value, list):
        return [_relative(item, base) for item in value]
    if base is not None and isinstance(value, str) and _TIMESTAMP.match(value):
        moment = parse_time(value)
        assert moment is not None
        start = base.astimezone(UTC).replace(microsecond=0)
        return f"start+{int((moment - start).total_seconds())}s"
    return value


def typed_fields(body: Message, base: datetime | None) -> dict[str, Any]:
    """A scoped command's typed message as proto3 JSON, every field, times from ``base``."""
    shown = json_format.MessageToDict(
        body, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
    )
    return dict(_relative(shown, base))


def command_message(
    command: commands_pb2.PlatformCommand, base: datetime | None = None
) -> tuple[str, dict[str, Any]] | None:
    """(idempotency key, fields) of a task, notification or conversation command from the engine's outbox."""
    verb = command.WhichOneof("command")
    if verb in SCOPED_VERBS:
        return command.idempotency_key, typed_fields(getattr(command, verb), base)
    if verb not in _TEAM_COMMANDS.values():
        return None
    body = getattr(command, verb)
    return command.idempotency_key, {f.name: getattr(body, f.name) for f in body.DESCRIPTOR.fields}


def canonical_ids(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The steps with every derived id renamed by first appearance (``<task#1>``...)."""
    names: dict[str, str] = {}

    def rename(value: Any) -> Any:
        if isinstance(value, dict):
            return {key: rename(item) for key, item in value.items()}
        if isinstance(value, list):
            return [rename(item) for item in value]
        if isinstance(value, str) and _DERIVED_ID.match(value):
            if value not in names:
                prefix = value.split("_", 1)[0]
                names[value] = f"<{prefix}#{sum(n.startswith(f'<{prefix}#') for n in names.values()) + 1}>"
            return names[value]
        return value

    return [rename(step) for step in steps]


def idempotency_key(headers: Mapping[str, str]) -> str:
    """The idempotency key a message carries (a long email header comes back folded: unfolded here)."""
    return "".join(str(next((v for k, v in headers.items() if k.lower() == _IDEMPOTENCY_HEADER), "")).split())


def engine_trace(
    execution: executor_pb2.Execution,
    messages: Mapping[str, dict[str, Any]],
    before: Mapping[str, Any],
    after: Mapping[str, Any],
) -> Trace:
    """The trace of a settled execution; ``messages`` by idempotency key, the contact before and after."""
    steps = []
    for row in execution.steps:
        result = json_format.MessageToDict(row.result)
        entry: dict[str, Any] = {"id": row.step_id, "type": row.type, "status": _STATUS[row.status]}
        if "branch" in result:
            entry["branch"] = result["branch"]
        if row.type == "loop":
            entry["iterations"] = int(result["iterations"])
        if row.status == executor_pb2.STEP_STATUS_SKIPPED:
            entry["reason"] = result.get("reason", "")
        if row.status == executor_pb2.STEP_STATUS_FAILED:
            entry.update(error=row.error, category=row.error_category)
        if row.idempotency_key in messages:
            entry["message"] = messages[row.idempotency_key]
        steps.append(entry)
    status = executor_pb2.ExecutionStatus.Name(execution.status).removeprefix("EXECUTION_STATUS_").lower()
    return {
        "steps": canonical_ids(steps),
        "contact_changes": contact_changes(before, after),
        "end": {"status": status, "converted": execution.converted},
    }


# --- the dry run -----------------------------------------------------------------------------


def _http(config: Mapping[str, Any], default_method: str) -> dict[str, Any]:
    url = urlsplit(str(config["url"]))
    return {
        "method": str(config.get("method") or default_method).upper(),
        "path": url.path + (f"?{url.query}" if url.query else ""),
        "body": config.get("body"),
    }


def dry_message(type_: str, detail: Mapping[str, Any], base: datetime | None = None) -> dict[str, Any] | None:
    """The message a dry-run step shows, in the shape the servers received it."""
    config = detail.get("config", {})
    if type_ in SCOPED_VERBS:
        command = detail["command"]
        body = getattr(commands_pb2.PlatformCommand(), command["verb"])
        json_format.ParseDict(command["fields"], body)
        return typed_fields(body, base)
    if type_ == "send_email":
        return {
            "to": detail["to"],
            "subject": " ".join(str(config["subject"]).split()),
            "body": str(config["body"]).rstrip("\n"),
        }
    if type_ in ("send_whatsapp", "send_sms"):
        return {"to": detail["to"], "body": config["body"]}
    if type_ in LINK_ACTIONS:  # the parity rig tracks no links: the personalized URL itself
        url = str(config[LINK_ACTIONS[type_]])
        text = str(config["message"])
        text = text.replace(LINK_MARKER, url) if LINK_MARKER in text else f"{text.rstrip()}\n\n{url}"
        if config.get("channel", "email") == "email":
            return {"to": detail["to"], "subject": config["subject"], "body": text.rstrip("\n")}
        return {"to": detail["to"], "body": text}
    if type_ == "send_slack":
        return {"text": config["text"], **({"channel": config["channel"]} if config.get("channel") else {})}
    if type_ == "webhook":
        return _http(config, "POST")
    if type_ == "call_api":
        return _http(config, "GET")
    if type_ == "send_error_alert":  # its command depends on vars.error: the dry run shows it
        return {k: v for k, v in detail["command"].items() if k != "verb"}
    if type_ in _TEAM_COMMANDS:
        found = effect_of(type_, config, {})
        return found.values if found is not None else None
    return None


def dry_trace(run: DryRun, before: Mapping[str, Any], base: datetime | None = None) -> Trace:
    """The trace of a dry run (``base``: when it ran, for the times of scoped commands)."""
    steps = []
    for step in run.steps:
        if step.outcome in _PSEUDO_STEPS:
            continue
        detail = json.loads(json.dumps(step.detail))  # the detail as the API would return it
        status = _DRY_STATUS.get(step.outcome, "succeeded")
        entry: dict[str, Any] = {"id": step.step_id, "type": step.type, "status": status}
        if "branch" in detail:
            entry["branch"] = detail["branch"]
        if step.type == "loop":
            entry["iterations"] = detail["iterations"]
        if status == "skipped":
            entry["reason"] = detail["reason"]
        if status == "failed":
            entry.update(error=detail["error"], category=detail["category"])
        if step.outcome in ("would_send", "would_run"):
            message = dry_message(step.type, detail, base)
            if message is not None:
                entry["message"] = message
        steps.append(entry)
    failed = bool(steps) and steps[-1]["status"] == "failed"
    return {
        "steps": canonical_ids(steps),
        "contact_changes": contact_changes(before, run.contact),
        "end": {
            "status": "failed" if failed else "completed",
            "converted": any(step.outcome == "goal" for step in run.steps),
        },
    }
