"""Calls from the command line: one RPC through the gateway's REST API, errors made readable, JSON I/O.

The CLI talks to the gateway as the frontend does (decision 0021): in production the services
accept calls only from peers with a trusted client certificate, and users prove who they are
with a JWT at the gateway. With a token, every request carries ``Authorization: Bearer``;
without one, ``X-Org-Id`` / ``X-User-Id`` headers, which only a local-mode gateway (``beez up``)
accepts. The token is never printed: not in errors, not in a traceback's locals, not in a repr.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import httpx
import typer
import yaml
from google.protobuf import json_format
from google.protobuf.message import Message
from google.rpc import code_pb2
from rich.console import Console
from rich.markup import escape

from beez.cli.rest import HttpCall, find_method, http_call, read_response

M = TypeVar("M", bound=Message)
err_console = Console(stderr=True, soft_wrap=True)  # an error line stays whole, URLs and all

DEFAULT_API_URL = "http://127.0.0.1:8080"
TIMEOUT_S = 40.0  # above the gateway's own 30 s backend deadline, so its answer arrives first
BAD_REQUEST_TYPE = "type.googleapis.com/google.rpc.BadRequest"


@dataclass(frozen=True)
class Target:
    """The gateway to call and who is calling: a bearer token, else an organization (local mode)."""

    api_url: str
    org: str
    user: str | None = None
    token: str | None = field(default=None, repr=False)

    def headers(self) -> dict[str, str]:
        """The identity headers: the bearer token when there is one, else X-Org-Id / X-User-Id."""
        if self.token:
            return {"Authorization": f"Bearer {self.token}"}
        headers = {"X-Org-Id": self.org}
        if self.user:
            headers["X-User-Id"] = self.user
        return headers

    @property
    def display_url(self) -> str:
        """The gateway's URL without any user-info, fit to print."""
        url = httpx.URL(self.api_url)
        return str(url.copy_with(username=None, password=None)) if url.userinfo else self.api_url

    def redact(self, text: str) -> str:
        """``text`` with the token blanked out, in case a server ever echoes it back."""
        return text.replace(self.token, "[token]") if self.token else text


def call(target: Target, full_method: str, request: Message, response_type: type[M]) -> M:
    """Calls ``full_method`` (``package.Service/Method``) through the gateway and returns its response.

    A failure is printed the way the gateway reports it (code, message, each field violation) and
    ends the command with exit status 1.
    """
    method = find_method(full_method)
    try:
        rest = http_call(method, request)
    except ValueError as exc:  # UnboundPath, or a field the query cannot carry
        _fail(target, f"[red]INVALID_ARGUMENT[/]: {escape(str(exc))}")
    url = target.api_url.rstrip("/") + rest.path
    try:
        with httpx.Client(timeout=TIMEOUT_S) as client:
            answer = client.request(
                rest.method,
                url,
                params=rest.query,
                json=rest.body,
                headers=target.headers(),
            )
    except httpx.ConnectError:
        _fail(
            target,
            f"[red]cannot reach the gateway at {escape(target.display_url)}[/]: "
            "is it running? (`beez up` starts it)",
        )
    except httpx.TimeoutException:
        _fail(
            target,
            f"[red]the gateway at {escape(target.display_url)} did not answer within {TIMEOUT_S:.0f} s[/]",
        )
    except httpx.HTTPError as exc:
        _fail(
            target,
            f"[red]calling the gateway at {escape(target.display_url)} failed[/]: {type(exc).__name__}",
        )
    if answer.is_success:
        return _response(target, rest, answer, response_type)
    _report(target, answer)


def _response(target: Target, rest: HttpCall, answer: httpx.Response, response_type: type[M]) -> M:
    try:
        return read_response(rest, answer.json(), response_type)
    except (ValueError, json_format.ParseError) as exc:
        _fail(target, f"[red]unexpected answer from {escape(target.display_url)}[/]: {escape(str(exc))}")


def _report(target: Target, answer: httpx.Response) -> NoReturn:
    """Prints the gateway's ``google.rpc.Status`` answer (or the bare HTTP status) and exits 1."""
    try:
        status = answer.json()
    except ValueError:
        status = None
    lines: list[str] = []
    if isinstance(status, dict) and "message" in status:
        lines.append(f"[red]{_code_name(status.get('code'))}[/]: {escape(str(status['message']))}")
        for detail in status.get("details") or []:
            if isinstance(detail, dict) and detail.get("@type") == BAD_REQUEST_TYPE:
                for violation in detail.get("fieldViolations") or []:
                    where, why = violation.get("field", ""), violation.get("description", "")
                    lines.append(f"  {escape(str(where))}: {escape(str(why))}")
    else:
        lines.append(
            f"[red]HTTP {answer.status_code}[/]: {escape(answer.reason_phrase)} "
            f"from {escape(target.display_url)}"
        )
    if answer.status_code == 401 and not target.token:
        lines.append("  the gateway wants a token: pass --token or set BEEZ_TOKEN")
    _fail(target, *lines)


def _code_name(code: Any) -> str:
    try:
        return str(code_pb2.Code.Name(int(code)))
    except (TypeError, ValueError):
        return f"CODE {code}"


def _fail(target: Target, *lines: str) -> NoReturn:
    for line in lines:
        err_console.print(target.redact(line))
    raise typer.Exit(1)


def load_document(path: Path) -> dict[str, Any]:
    """Reads a JSON or YAML file (``-`` for standard input) into a dict."""
    text = sys.stdin.read() if str(path) == "-" else path.read_text()
    data = yaml.safe_load(text) if path.suffix in (".yaml", ".yml") or str(path) == "-" else json.loads(text)
    if not isinstance(data, dict):
        raise typer.BadParameter(f"{path}: expected an object")
    return data


def to_json(message: Message) -> str:
    return json_format.MessageToJson(message, indent=2)


def parse(data: dict[str, Any], message: M) -> M:
    try:
        return json_format.ParseDict(data, message)
    except json_format.ParseError as exc:
        raise typer.BadParameter(str(exc)) from None


def json_object(text: str, option: str) -> dict[str, Any]:
    """The JSON object an option such as ``--contact`` was given; a usage error naming the option
    when it is not JSON or not an object."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise typer.BadParameter(f"not JSON: {exc}", param_hint=option) from None
    if not isinstance(value, dict):
        raise typer.BadParameter("expected a JSON object", param_hint=option)
    return value
