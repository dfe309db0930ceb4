"""gRPC calls from the command line: channels to the stack, the caller's organization, JSON I/O."""

from __future__ import annotations

import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import grpc
import typer
import yaml
from google.protobuf import json_format
from google.protobuf.message import Message
from grpc_status import rpc_status
from rich.console import Console

from beez.cli.components import DEFAULT_GRPC_BASE, SERVICES

M = TypeVar("M", bound=Message)
err_console = Console(stderr=True)


class Target:
    """Where the services listen and who is calling."""

    def __init__(self, org: str, user: str | None, grpc_base: int = DEFAULT_GRPC_BASE) -> None:
        self.org = org
        self.user = user
        self.grpc_base = grpc_base

    def address(self, service: str) -> str:
        return f"127.0.0.1:{self.grpc_base + SERVICES.index(service)}"

    def metadata(self) -> list[tuple[str, str]]:
        meta = [("x-org-id", self.org)]
        if self.user:
            meta.append(("x-user-id", self.user))
        return meta


async def call(target: Target, service: str, fn: Callable[[grpc.aio.Channel], Awaitable[M]]) -> M:
    """Runs one RPC against ``service``; a gRPC error becomes a readable message and exit 1."""
    async with grpc.aio.insecure_channel(target.address(service)) as channel:
        try:
            return await fn(channel)
        except grpc.aio.AioRpcError as exc:
            err_console.print(f"[red]{exc.code().name}[/]: {exc.details()}")
            status = rpc_status.from_call(exc)
            for detail in status.details if status else []:
                from google.rpc import error_details_pb2

                bad = error_details_pb2.BadRequest()
                if detail.Unpack(bad):
                    for v in bad.field_violations:
                        err_console.print(f"  {v.field}: {v.description}")
            raise typer.Exit(1) from None


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
