"""``beez contacts import|get`` and ``beez fields``: the trigger's contact projection, through the
gateway's REST API.

``beez contacts import FILE`` reads JSON Lines (one contact per line, in the API's JSON shape) or
CSV (a header row: ``id``, ``email``, ``phone``, ``first_name``, ``last_name``, ``timezone``,
``score``, ``tags`` and ``lists`` separated by ``;``, every other column a custom field) and sends
it in batches of ``--batch`` contacts, each one ImportContacts call (one transaction).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from beez.api.messages.v1 import events_pb2
from beez.api.trigger.v1 import contacts_pb2 as pb
from beez.cli import commands
from beez.cli.client import DEFAULT_API_URL, Target, call, parse, to_json

CONTACTS = "beez.api.trigger.v1.ContactService"
contacts = typer.Typer(help="Import and inspect the contacts triggers know.", no_args_is_help=True)
contacts.callback()(commands.target_callback)
fields = typer.Typer(help="List the fields conditions can name.", invoke_without_command=True)
_STANDARD = ("id", "email", "phone", "first_name", "last_name", "timezone")
_KINDS = {pb.FIELD_KIND_CONTACT: "contact", pb.FIELD_KIND_SYSTEM: "system", pb.FIELD_KIND_CUSTOM: "custom"}


def _csv_value(text: str) -> Any:
    """A CSV cell as JSON: numbers and booleans as such, the rest as text."""
    if text in ("true", "false"):
        return text == "true"
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def _from_csv(row: dict[str, str]) -> dict[str, Any]:
    doc: dict[str, Any] = {key: row[key] for key in _STANDARD if row.get(key)}
    if row.get("score"):
        doc["score"] = int(float(row["score"]))
    for key in ("tags", "lists"):
        if row.get(key):
            doc[key] = [item for item in row[key].split(";") if item]
    custom = {
        key: _csv_value(value)
        for key, value in row.items()
        if key not in (*_STANDARD, "score", "tags", "lists") and value not in (None, "")
    }
    if custom:
        doc["fields"] = custom
    return doc


def read_contacts(path: Path) -> Iterator[dict[str, Any]]:
    """The contacts of a JSONL or CSV file (by its suffix), as API JSON documents."""
    with path.open(newline="", encoding="utf-8") as handle:
        if path.suffix.lower() == ".csv":
            for row in csv.DictReader(handle):
                yield _from_csv(row)
            return
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                doc = json.loads(line)
            except json.JSONDecodeError as exc:
                raise typer.BadParameter(f"line {number}: {exc.msg}", param_hint="FILE") from None
            if not isinstance(doc, dict):
                raise typer.BadParameter(f"line {number}: expected a JSON object", param_hint="FILE")
            yield doc


@contacts.command("import")
def contacts_import(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="A .jsonl or .csv file.")],
    batch: Annotated[int, typer.Option(min=1, max=1000, help="Contacts per call.")] = 1000,
) -> None:
    """Load contacts from an existing CRM export into the trigger's projection (editor)."""
    target: Target = ctx.obj
    imported = unchanged = 0
    pending: list[events_pb2.Contact] = []

    def send() -> None:
        nonlocal imported, unchanged
        reply = call(
            target,
            f"{CONTACTS}/ImportContacts",
            pb.ImportContactsRequest(contacts=pending),
            pb.ImportContactsResponse,
        )
        imported += reply.imported
        unchanged += reply.unchanged
        pending.clear()

    for doc in read_contacts(file):
        pending.append(parse(doc, events_pb2.Contact()))
        if len(pending) >= batch:
            send()
    if pending:
        send()
    commands.console.print(f"{imported} imported, {unchanged} unchanged")


@contacts.command("get")
def contacts_get(
    ctx: typer.Context,
    contact_id: Annotated[str, typer.Argument(help="Contact id.")],
    as_json: commands.Json = False,
) -> None:
    """Show a contact as the trigger's projection holds it."""
    target: Target = ctx.obj
    reply = call(
        target, f"{CONTACTS}/GetContact", pb.GetContactRequest(contact_id=contact_id), pb.GetContactResponse
    )
    if as_json:
        commands.console.print_json(to_json(reply))
        return
    found = reply.contact
    table = Table("field", "value")
    table.add_row("id", found.contact.id)
    table.add_row("email", found.contact.email)
    table.add_row("tags", ", ".join(found.contact.tags))
    table.add_row("lists", ", ".join(found.contact.lists))
    table.add_row("score", str(found.contact.score))
    table.add_row("country", found.country)
    table.add_row("purchases", f"{found.purchase_count} ({found.monetary:.2f})")
    table.add_row("dates", ", ".join(f"{k}={v}" for k, v in sorted(found.dates.items())))
    table.add_row("deleted", str(found.deleted).lower())
    commands.console.print(table)


@fields.callback()
def fields_list(
    ctx: typer.Context,
    as_json: commands.Json = False,
    api_url: Annotated[
        str, typer.Option("--api-url", envvar="BEEZ_API_URL", help="The gateway's base URL.")
    ] = (DEFAULT_API_URL),
    token: Annotated[str | None, typer.Option(envvar="BEEZ_TOKEN", show_default=False, help="A JWT.")] = None,
    org: Annotated[str, typer.Option(envvar="BEEZ_ORG", help="Organization, without a token.")] = "org_demo",
    user: Annotated[str | None, typer.Option(envvar="BEEZ_USER", help="User, without a token.")] = None,
) -> None:
    """List the contact, system and custom fields conditions can name, with their types."""
    commands.target_callback(ctx, api_url, token, org, user)
    target: Target = ctx.obj
    reply = call(target, f"{CONTACTS}/ListFields", pb.ListFieldsRequest(), pb.ListFieldsResponse)
    if as_json:
        commands.console.print_json(to_json(reply))
        return
    table = Table("field", "type", "kind")
    for entry in reply.fields:
        table.add_row(entry.name, entry.type, _KINDS.get(entry.kind, ""))
    commands.console.print(table)
