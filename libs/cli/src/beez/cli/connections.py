"""``beez connections create|list|show|test|rotate|delete``: the organization's provider
credentials, through the gateway's REST API (decision 0040).

Credentials go in with ``--credential name=value`` (repeatable) or ``--credentials-file`` (a
JSON object; keeps them out of the shell's history) and never come back out: every command
prints the connection's credential field names, never their values.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from beez.api.executor.v1 import connections_pb2 as pb
from beez.cli import commands
from beez.cli.client import Target, call, to_json

CONNECTIONS = "beez.api.executor.v1.ConnectionService"
connections = typer.Typer(
    help="Manage the organization's connections to providers (admin to change them).", no_args_is_help=True
)
connections.callback()(commands.target_callback)

Credential = Annotated[
    list[str] | None,
    typer.Option(
        "--credential", "-c", help="A credential as name=value (repeatable), e.g. bot_token=xoxb-..."
    ),
]
CredentialsFile = Annotated[
    Path | None, typer.Option("--credentials-file", help="A JSON object of credentials, read from this file.")
]


def _credentials(pairs: list[str] | None, path: Path | None) -> dict[str, str]:
    found: dict[str, str] = {}
    if path is not None:
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise typer.BadParameter(
                f"cannot read a JSON object: {type(exc).__name__}", param_hint="--credentials-file"
            ) from None
        if not isinstance(loaded, dict):
            raise typer.BadParameter("expected a JSON object", param_hint="--credentials-file")
        found.update({str(k): str(v) for k, v in loaded.items()})
    for pair in pairs or []:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise typer.BadParameter("expected name=value", param_hint="--credential")
        found[name] = value
    return found


def _rate(limit: pb.RateLimit) -> str:
    return f"{limit.per_second:g}/s burst {limit.burst:g}"


def _print(found: list[pb.Connection], as_json: bool) -> None:
    if as_json:
        commands.console.print_json(to_json(pb.ListConnectionsResponse(connections=found)))
        return
    table = Table("id", "provider", "name", "credentials", "rate limit (in force)", "created")
    for c in found:
        table.add_row(
            c.id,
            c.provider,
            c.name,
            ", ".join(c.credential_fields),
            _rate(c.effective_rate_limit) + (" (own)" if c.HasField("rate_limit") else ""),
            c.create_time.ToJsonString(),
        )
    commands.console.print(table)


@connections.command("create")
def connections_create(
    ctx: typer.Context,
    provider: Annotated[
        str,
        typer.Argument(help="smtp, whatsapp, twilio, slack, stripe, hubspot, salesforce, google or shopify."),
    ],
    name: Annotated[str, typer.Argument(help="A name unique in the organization; steps may name it.")],
    credential: Credential = None,
    credentials_file: CredentialsFile = None,
    rate: Annotated[
        float, typer.Option("--rate", help="Own rate limit, calls per second (0: the default).")
    ] = 0,
    burst: Annotated[float, typer.Option("--burst", help="Own burst (0: twice the rate).")] = 0,
    as_json: commands.Json = False,
) -> None:
    """Connect a provider (admin)."""
    target: Target = ctx.obj
    request = pb.CreateConnectionRequest(
        provider=provider,
        name=name,
        credentials=_credentials(credential, credentials_file),
        rate_limit=pb.RateLimit(per_second=rate, burst=burst),
    )
    resp = call(target, f"{CONNECTIONS}/CreateConnection", request, pb.CreateConnectionResponse)
    _print([resp.connection], as_json)


@connections.command("list")
def connections_list(
    ctx: typer.Context,
    provider: Annotated[str, typer.Option("--provider", help="Only this provider's.")] = "",
    as_json: commands.Json = False,
) -> None:
    """List the organization's connections (never their credentials)."""
    target: Target = ctx.obj
    resp = call(
        target,
        f"{CONNECTIONS}/ListConnections",
        pb.ListConnectionsRequest(provider=provider),
        pb.ListConnectionsResponse,
    )
    _print(list(resp.connections), as_json)


@connections.command("show")
def connections_show(ctx: typer.Context, connection_id: str, as_json: commands.Json = False) -> None:
    """Show one connection (never its credentials)."""
    target: Target = ctx.obj
    resp = call(
        target,
        f"{CONNECTIONS}/GetConnection",
        pb.GetConnectionRequest(id=connection_id),
        pb.GetConnectionResponse,
    )
    _print([resp.connection], as_json)


@connections.command("test")
def connections_test(ctx: typer.Context, connection_id: str, as_json: commands.Json = False) -> None:
    """Make the provider's one harmless call with the connection (admin); exit 1 if it failed."""
    target: Target = ctx.obj
    resp = call(
        target,
        f"{CONNECTIONS}/TestConnection",
        pb.TestConnectionRequest(id=connection_id),
        pb.TestConnectionResponse,
    )
    if as_json:
        commands.console.print_json(to_json(resp))
    else:
        colour = "green" if resp.ok else "red"
        commands.console.print(f"[{colour}]{'ok' if resp.ok else 'failed'}[/]: {resp.detail}")
    if not resp.ok:
        raise typer.Exit(1)


@connections.command("rotate")
def connections_rotate(
    ctx: typer.Context,
    connection_id: str,
    credential: Credential = None,
    credentials_file: CredentialsFile = None,
    as_json: commands.Json = False,
) -> None:
    """Replace the connection's credentials, all of them (admin)."""
    target: Target = ctx.obj
    request = pb.RotateConnectionRequest(
        id=connection_id, credentials=_credentials(credential, credentials_file)
    )
    resp = call(target, f"{CONNECTIONS}/RotateConnection", request, pb.RotateConnectionResponse)
    _print([resp.connection], as_json)


@connections.command("delete")
def connections_delete(ctx: typer.Context, connection_id: str) -> None:
    """Delete the connection (admin); steps that name it fail from then on."""
    target: Target = ctx.obj
    call(
        target,
        f"{CONNECTIONS}/DeleteConnection",
        pb.DeleteConnectionRequest(id=connection_id),
        pb.DeleteConnectionResponse,
    )
    commands.console.print(f"deleted {connection_id}")
