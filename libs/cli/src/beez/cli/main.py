"""``beez``: run the stack (``up``), see its health (``status``), run migrations (``migrate``)."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from beez.cli import commands, secure
from beez.cli.actions import actions
from beez.cli.builder import conditions, triggers
from beez.cli.components import DEFAULT_GRPC_BASE, DEFAULT_HTTP_PORT, components
from beez.cli.connections import connections
from beez.cli.contacts import contacts, fields
from beez.cli.dlq import dlq
from beez.cli.health import Health, check_all
from beez.cli.hooks import hooks
from beez.cli.stack import Stack
from beez.cli.templates import templates
from beez.kit.redact import redact_url

app = typer.Typer(
    help="Beez Automations: the workflow-automation engine.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # a traceback must never show a token
)
app.add_typer(commands.automations, name="automations")
app.add_typer(commands.events, name="events")
app.add_typer(commands.executions, name="executions")
app.add_typer(commands.limits, name="limits")
app.add_typer(dlq, name="dlq")
app.add_typer(triggers, name="triggers")
app.add_typer(conditions, name="conditions")
app.add_typer(hooks, name="hooks")
app.add_typer(contacts, name="contacts")
app.add_typer(templates, name="templates")
app.add_typer(fields, name="fields")
app.add_typer(connections, name="connections")
app.add_typer(actions, name="actions")
console = Console()
UNBOUNDED_WIDTH = 10_000  # a table printed off a terminal is as wide as its longest row

GrpcBase = Annotated[int, typer.Option(help="Port of the first service; the others follow it.")]
HttpPort = Annotated[int, typer.Option(help="Port of the REST gateway.")]
StateDir = Annotated[Path, typer.Option(help="Where embedded servers keep their data, and where logs go.")]
Tls = Annotated[
    bool,
    typer.Option(
        "--tls",
        help="Production mode over mutual TLS: certificates of a throwaway CA, and JWTs at the gateway.",
    ),
]


@app.command()
def up(
    grpc_base: GrpcBase = DEFAULT_GRPC_BASE,
    http_port: HttpPort = DEFAULT_HTTP_PORT,
    state_dir: StateDir = Path(".beez"),
    timeout: Annotated[float, typer.Option(help="Seconds to wait for everything to be healthy.")] = 60.0,
    tls: Tls = False,
) -> None:
    """Start PostgreSQL and NATS (embedded unless DATABASE_URL / NATS_URL are set), migrate, run it all.

    Local mode (plaintext, X-Org-Id trusted) unless --tls: then every process runs in production
    mode with a certificate of a throwaway CA under STATE_DIR/tls, NATS over TLS, and the gateway
    wants the bearer token printed at the end.
    """
    parts = components(grpc_base, http_port)
    stack = Stack(
        state_dir=state_dir.resolve(),
        components=parts,
        database_url=os.environ.get("DATABASE_URL") or None,
        nats_url=os.environ.get("NATS_URL") or None,
        log_level=os.environ.get("BEEZ_LOG_LEVEL", "INFO"),
        tls=tls,
    )
    stopping = False

    def on_signal(signum: int, _: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    started = time.monotonic()
    try:
        with console.status("starting PostgreSQL and NATS"):
            stack.start_dependencies()
        with console.status("running migrations"):
            stack.migrate()
        stack.start_components()
        with console.status("waiting for every component to be healthy"):
            healths = _wait_healthy(stack, timeout, lambda: stopping)
        _print_summary(stack, healths, time.monotonic() - started)
        if not all(h.healthy for h in healths):
            raise typer.Exit(1)
        while not stopping:
            if dead := stack.exited():
                console.print(f"[red]stopped unexpectedly:[/] {dead}; see {stack.log_dir}")
                raise typer.Exit(1)
            time.sleep(0.5)
        console.print("stopping…")
    finally:
        stack.stop()
        console.print("stopped")


def _wait_healthy(stack: Stack, timeout: float, cancelled: object) -> list[Health]:
    assert callable(cancelled)
    deadline = time.monotonic() + timeout
    while True:
        healths = asyncio.run(check_all(stack.components, stack.health_tls))
        if all(h.healthy for h in healths) or time.monotonic() > deadline or cancelled() or stack.exited():
            return healths
        time.sleep(0.3)


def _print_summary(stack: Stack, healths: list[Health], elapsed: float) -> None:
    """The table of what listens where, every address and log path whole.

    On a terminal, long values fold onto the next line; elsewhere (a pipe, a log file, CI) the
    table takes the width it needs rather than rich's default of 80 columns.
    """
    out = console if console.is_terminal else Console(width=UNBOUNDED_WIDTH)
    table = Table(title=f"Beez Automations is up ({elapsed:.1f} s)")
    table.add_column("component")
    table.add_column("address", overflow="fold")
    table.add_column("health")
    table.add_column("log", overflow="fold")
    table.add_row(
        "postgres", redact_url(stack.database_url or ""), "embedded" if stack.pg else "external", ""
    )
    table.add_row("nats", redact_url(stack.nats_url or ""), "embedded" if stack.nats else "external", "")
    for h in healths:
        scheme = "http://" if h.component.http else ("grpcs://" if stack.tls else "grpc://")
        colour = "green" if h.healthy else "red"
        table.add_row(
            h.component.name,
            scheme + h.component.address,
            f"[{colour}]{h.status}[/]",
            str(stack.log_dir / f"{h.component.name}.log"),
        )
    out.print(table)
    out.print(f"REST: http://127.0.0.1:{stack.components[-1].port}/openapi.json   Ctrl-C stops everything.")
    if stack.tls:
        _print_tls_access(out, stack)


def _print_tls_access(out: Console, stack: Stack) -> None:
    """How to call a ``--tls`` stack: the certificates, and a token printed this once.

    Printed without folding (``soft_wrap``): a token or a path broken over two lines would not
    paste back whole.
    """
    dev = secure.holder_files(stack.state_dir, secure.DEVELOPER)
    grpc_address = stack.components[0].address
    token, expires = secure.demo_token(stack.state_dir)
    lines = [
        "Production mode over mutual TLS (a throwaway CA; plaintext gRPC is refused).",
        f"  CA:                   {dev.ca_file}",
        f"  client certificate:   {dev.cert_file}   (CN={secure.DEVELOPER}, may act for an organization)",
        f"  client key:           {dev.key_file}",
        f"  health:               beez status --tls --state-dir {stack.state_dir}",
        f"  gRPC, e.g.:           grpcurl -cacert {dev.ca_file} -cert {dev.cert_file} -key {dev.key_file} "
        f"-H 'x-org-id: {secure.DEMO_ORG}' -H 'x-roles: admin' {grpc_address} list",
        f"REST and the CLI take a bearer token: admin of {secure.DEMO_ORG}, "
        f"valid until {expires:%Y-%m-%d %H:%M} UTC (signed with {secure.hs256_secret(stack.state_dir)}):",
        f"  export BEEZ_TOKEN={token}",
    ]
    for line in lines:
        out.print(line, soft_wrap=True, highlight=False, markup=False)


@app.command()
def status(
    grpc_base: GrpcBase = DEFAULT_GRPC_BASE,
    http_port: HttpPort = DEFAULT_HTTP_PORT,
    tls: Annotated[
        bool, typer.Option("--tls", help="Check over mutual TLS, with the certificate `beez up --tls` made.")
    ] = False,
    state_dir: Annotated[
        Path, typer.Option(help="The state directory of `beez up --tls`, which holds the certificates.")
    ] = Path(".beez"),
) -> None:
    """Show every component's health; exit 1 unless all are healthy."""
    files = secure.health_files(state_dir.resolve())
    if tls and files is None:
        console.print(
            f"[red]no certificates under {secure.tls_dir(state_dir)}[/]: `beez up --tls` writes them there",
            soft_wrap=True,
        )
        raise typer.Exit(2)
    healths = asyncio.run(check_all(components(grpc_base, http_port), files if tls else None))
    table = Table(title="Beez Automations")
    table.add_column("component")
    table.add_column("address")
    table.add_column("health")
    for h in healths:
        colour = "green" if h.healthy else "red"
        table.add_row(h.component.name, h.component.address, f"[{colour}]{h.status}[/]")
    console.print(table)
    if not all(h.healthy for h in healths):
        if not tls and files is not None:
            console.print(
                f"a `beez up --tls` stack? try `beez status --tls` (certificates in {files.ca_file.parent})",
                soft_wrap=True,
            )
        raise typer.Exit(1)


@app.command()
def migrate(
    database_url: Annotated[str, typer.Option(envvar=["BEEZ_DATABASE_URL", "DATABASE_URL"])],
) -> None:
    """Run every service's migrations against DATABASE_URL."""
    stack = Stack(state_dir=Path(".beez"), components=[], database_url=database_url)
    stack.migrate()
    console.print("[green]migrated[/] automation, trigger, executor, beezora, analytics, gateway")


if __name__ == "__main__":
    app()
