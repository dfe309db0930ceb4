"""``beez actions categories|validate|test``: the builder's action tools (frame 4), through the
gateway's REST API. ``test`` is safe mode: it shows the exact request the action would send for a
sample contact and event, secrets redacted, and sends nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from beez.api.executor.v1 import actions_pb2
from beez.api.messages.v1 import events_pb2
from beez.api.workflow.v1 import workflow_pb2
from beez.cli import commands
from beez.cli.builder import show_categories
from beez.cli.client import Target, call, json_object, load_document, parse, to_json
from beez.cli.commands import target_callback

actions = typer.Typer(help="Action categories, and validating and testing an action.", no_args_is_help=True)
actions.callback()(target_callback)

SERVICE = "beez.api.executor.v1.ActionService"
Json = Annotated[bool, typer.Option("--json", help="Print the raw JSON response.")]
File = Annotated[Path | None, typer.Option("-f", "--file", help="The action as JSON or YAML.")]
Inline = Annotated[str | None, typer.Option("--action", help="The action as a JSON object.")]


def _action(file: Path | None, text: str | None) -> workflow_pb2.Action:
    if file is not None:
        return parse(load_document(file), workflow_pb2.Action())
    if text is not None:
        return parse(json_object(text, "--action"), workflow_pb2.Action())
    raise typer.BadParameter("give --file or --action")


@actions.command("categories")
def categories(ctx: typer.Context, as_json: Json = False) -> None:
    """Show the action categories and how many action types each has."""
    target: Target = ctx.obj
    resp = call(
        target,
        f"{SERVICE}/ListActionCategories",
        actions_pb2.ListActionCategoriesRequest(),
        actions_pb2.ListActionCategoriesResponse,
    )
    show_categories(resp, as_json)


@actions.command("validate")
def validate(ctx: typer.Context, file: File = None, action: Inline = None) -> None:
    """Validate one action (type, config, templates) and list every problem; exit 1 when invalid."""
    target: Target = ctx.obj
    resp = call(
        target,
        f"{SERVICE}/ValidateAction",
        actions_pb2.ValidateActionRequest(action=_action(file, action)),
        actions_pb2.ValidateActionResponse,
    )
    if resp.valid:
        commands.console.print("[green]valid[/]")
        return
    for issue in resp.issues:
        commands.console.print(f"[red]{issue.field}[/]: {issue.description}")
    raise typer.Exit(1)


@actions.command("test")
def preview_action(
    ctx: typer.Context,
    file: File = None,
    action: Inline = None,
    contact: Annotated[str | None, typer.Option("--contact", help="The sample contact as JSON.")] = None,
    event: Annotated[str | None, typer.Option("--event", help="The sample event as JSON.")] = None,
    as_json: Json = False,
) -> None:
    """Show the exact request (or platform command) the action would send; nothing is sent."""
    target: Target = ctx.obj
    request = actions_pb2.TestActionRequest(action=_action(file, action))
    if contact is not None:
        request.contact.CopyFrom(parse(json_object(contact, "--contact"), events_pb2.Contact()))
    if event is not None:
        request.event.CopyFrom(parse(json_object(event, "--event"), events_pb2.Event()))
    resp = call(target, f"{SERVICE}/TestAction", request, actions_pb2.TestActionResponse)
    if as_json:
        commands.console.print_json(to_json(resp))
        return
    if resp.skipped_reason:
        commands.console.print(f"[yellow]would send nothing[/]: {resp.skipped_reason}")
        return
    if resp.HasField("request"):
        shown = resp.request
        commands.console.print(f"[bold]{shown.method} {shown.url}[/]")
        for name, value in sorted(shown.headers.items()):
            commands.console.print(f"{name}: {value}", markup=False, highlight=False)
        commands.console.print("")
        commands.console.print(shown.body, markup=False, highlight=False)
    for item in resp.commands:
        commands.console.print(f"[bold]{item.subject}[/]")
        commands.console.print_json(to_json(item.command))
    for out in resp.events:
        commands.console.print(f"[bold]event {out.type}[/]")
        commands.console.print_json(to_json(out))
    if resp.HasField("vars"):
        commands.console.print_json(to_json(resp.vars))
