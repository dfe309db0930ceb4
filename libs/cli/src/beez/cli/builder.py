"""``beez triggers categories|validate|test`` and ``beez conditions evaluate``: the builder's
trigger and condition tools (frame 4), through the gateway's REST API."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from beez.api.automation.v1 import catalog_pb2
from beez.api.executor.v1 import actions_pb2
from beez.api.messages.v1 import events_pb2
from beez.api.workflow.v1 import workflow_pb2
from beez.cli import commands
from beez.cli.client import Target, call, json_object, load_document, parse, to_json
from beez.cli.commands import target_callback

triggers = typer.Typer(help="Trigger categories, and validating and testing a trigger.", no_args_is_help=True)
conditions = typer.Typer(help="Evaluate conditions on sample data.", no_args_is_help=True)
triggers.callback()(target_callback)
conditions.callback()(target_callback)

CATALOG = "beez.api.automation.v1.CatalogService"
Json = Annotated[bool, typer.Option("--json", help="Print the raw JSON response.")]


def _document(file: Path | None, text: str | None, option: str) -> dict[str, Any] | None:
    if file is not None:
        return load_document(file)
    if text is not None:
        return json_object(text, option)
    return None


def show_categories(
    resp: catalog_pb2.ListTriggerCategoriesResponse | actions_pb2.ListActionCategoriesResponse, as_json: bool
) -> None:
    """Prints a builder's category counts (``categories`` of category, name, count) as a table,
    or the raw JSON."""
    if as_json:
        commands.console.print_json(to_json(resp))
        return
    table = Table("category", "name", "types")
    for item in resp.categories:
        table.add_row(item.category, item.name, str(item.count))
    commands.console.print(table)


@triggers.command("categories")
def triggers_categories(ctx: typer.Context, as_json: Json = False) -> None:
    """Show the trigger categories (time, event, condition) and how many types each has."""
    target: Target = ctx.obj
    resp = call(
        target,
        f"{CATALOG}/ListTriggerCategories",
        catalog_pb2.ListTriggerCategoriesRequest(),
        catalog_pb2.ListTriggerCategoriesResponse,
    )
    show_categories(resp, as_json)


@triggers.command("validate")
def triggers_validate(
    ctx: typer.Context,
    file: Annotated[Path | None, typer.Option("-f", "--file", help="The trigger as JSON or YAML.")] = None,
    trigger: Annotated[str | None, typer.Option("--trigger", help="The trigger as a JSON object.")] = None,
) -> None:
    """Validate a trigger on its own and list every problem; exit 1 when it is invalid."""
    target: Target = ctx.obj
    doc = _document(file, trigger, "--trigger")
    if doc is None:
        raise typer.BadParameter("give --file or --trigger")
    resp = call(
        target,
        f"{CATALOG}/ValidateTrigger",
        catalog_pb2.ValidateTriggerRequest(trigger=parse(doc, workflow_pb2.Trigger())),
        catalog_pb2.ValidateTriggerResponse,
    )
    if resp.valid:
        commands.console.print("[green]valid[/]")
        return
    for issue in resp.issues:
        commands.console.print(f"[red]{issue.field}[/]: {issue.description}")
    raise typer.Exit(1)


@triggers.command("test")
def triggers_test(
    ctx: typer.Context,
    event: Annotated[str, typer.Option("--event", help="The sample event as a JSON object.")],
    file: Annotated[Path | None, typer.Option("-f", "--file", help="The trigger as JSON or YAML.")] = None,
    trigger: Annotated[str | None, typer.Option("--trigger", help="The trigger as a JSON object.")] = None,
    automation: Annotated[
        str | None, typer.Option("--automation", help="Test this automation's trigger and entry conditions.")
    ] = None,
    as_json: Json = False,
) -> None:
    """Would the sample event fire the trigger? Exit 0 if it would, else 1 with the reasons."""
    target: Target = ctx.obj
    doc = _document(file, trigger, "--trigger")
    request = catalog_pb2.TestTriggerRequest(
        automation_id=automation or "", event=parse(json_object(event, "--event"), events_pb2.Event())
    )
    if doc is not None:
        request.trigger.CopyFrom(parse(doc, workflow_pb2.Trigger()))
    resp = call(target, f"{CATALOG}/TestTrigger", request, catalog_pb2.TestTriggerResponse)
    if as_json:
        commands.console.print_json(to_json(resp))
    elif resp.fires:
        commands.console.print(f"[green]fires[/] (listens to {resp.event_type})")
    else:
        commands.console.print(f"[yellow]does not fire[/] (listens to {resp.event_type or 'no event'})")
        for reason in resp.reasons:
            commands.console.print(f"[red]{reason.field}[/]: {reason.description}")
    if not resp.fires:
        raise typer.Exit(1)


@conditions.command("evaluate")
def conditions_evaluate(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Option("-f", "--file", help='JSON or YAML: {"conditions": [...], "data": {...}}.')
    ],
    as_json: Json = False,
) -> None:
    """Evaluate conditions on sample data (contact, event, vars, execution): the result, then each part."""
    target: Target = ctx.obj
    doc = load_document(file)
    request = parse(
        {"conditions": doc.get("conditions", []), "data": doc.get("data", {})},
        catalog_pb2.EvaluateConditionsRequest(),
    )
    resp = call(target, f"{CATALOG}/EvaluateConditions", request, catalog_pb2.EvaluateConditionsResponse)
    if as_json:
        commands.console.print_json(to_json(resp))
        return
    overall = "error" if not resp.HasField("result") else str(resp.result).lower()
    commands.console.print(f"result: [bold]{overall}[/]" + (f" ({resp.error})" if resp.error else ""))
    table = Table("condition", "result", "cel")
    for part in resp.results:
        shown = str(part.result).lower() if part.HasField("result") else f"error: {part.error}"
        table.add_row(part.field, shown, part.source)
    commands.console.print(table)
