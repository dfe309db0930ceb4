"""``beez up``: the whole stack on one machine, from nothing.

Without ``DATABASE_URL`` / ``NATS_URL`` it starts an embedded PostgreSQL and nats-server with
their state under the state directory, runs every service's migrations, starts the five
services and the gateway as child processes, waits until each reports healthy, and on Ctrl-C
or SIGTERM stops them all (services first, so they drain, then the servers), leaving nothing
behind.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from beez.cli.components import SERVICES, Component
from beez.kit.db import async_url
from beez.kit.embedded import EmbeddedNats, EmbeddedPostgres, port_open
from beez.kit.migrations import upgrade

EMBEDDED_DATABASE = "beez"


@dataclass
class Stack:
    """The processes of one local stack."""

    state_dir: Path
    components: list[Component]
    database_url: str | None = None
    nats_url: str | None = None
    log_level: str = "INFO"
    pg: EmbeddedPostgres | None = None
    nats: EmbeddedNats | None = None
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def log_dir(self) -> Path:
        return self.state_dir / "logs"

    def start_dependencies(self) -> None:
        """Starts the embedded servers for whatever is not configured."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(exist_ok=True)
        if not self.database_url:
            self.pg = EmbeddedPostgres(
                self.state_dir / "postgres", port=_sticky_port(self.state_dir / "postgres.port")
            )
            self.pg.start()
            self.database_url = self.pg.url(EMBEDDED_DATABASE)
            _ensure_database(self.pg.url(), EMBEDDED_DATABASE)
        if not self.nats_url:
            self.nats = EmbeddedNats(self.state_dir / "nats", port=_sticky_port(self.state_dir / "nats.port"))
            self.nats.start()
            self.nats_url = self.nats.url

    def migrate(self) -> None:
        """Runs every service's migrations, each confined to its own schema."""
        assert self.database_url
        for name in SERVICES:
            module = importlib.import_module(f"beez.{name}.__main__")
            upgrade(module.MIGRATIONS, self.database_url, name)

    def env_for(self, component: Component) -> dict[str, str]:
        assert self.database_url and self.nats_url
        env = dict(os.environ)
        env.update(
            BEEZ_DATABASE_URL=self.database_url,
            BEEZ_NATS_URL=self.nats_url,
            BEEZ_LOG_LEVEL=self.log_level,
            PYTHONUNBUFFERED="1",
        )
        if component.http:
            env["BEEZ_HTTP_PORT"] = str(component.port)
            for other in self.components:
                if not other.http:
                    env[f"BEEZ_{other.name.upper()}_ADDR"] = other.address
        else:
            env["BEEZ_GRPC_PORT"] = str(component.port)
            env["BEEZ_GRPC_HOST"] = "127.0.0.1"
        return env

    def start_components(self) -> None:
        for component in self.components:
            if port_open("127.0.0.1", component.port):
                raise RuntimeError(f"port {component.port} for {component.name} is already in use")
            log = (self.log_dir / f"{component.name}.log").open("ab")
            self.procs[component.name] = subprocess.Popen(
                [sys.executable, "-m", component.module],
                env=self.env_for(component),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            log.close()

    def exited(self) -> dict[str, int]:
        """Components whose process has ended, with their exit codes."""
        return {name: code for name, p in self.procs.items() if (code := p.poll()) is not None}

    def stop(self, timeout: float = 15.0) -> None:
        """Stops the components (SIGTERM, then SIGKILL after ``timeout``), then the servers."""
        for proc in self.procs.values():
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for proc in self.procs.values():
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
        self.procs.clear()
        if self.nats is not None:
            self.nats.stop()
        if self.pg is not None:
            self.pg.stop()


def _sticky_port(path: Path) -> int:
    """The port used last time for this state directory, so URLs stay stable across runs."""
    from beez.kit.embedded import free_port

    if path.exists():
        port = int(path.read_text().strip() or 0)
        if port and not port_open("127.0.0.1", port):
            return port
    port = free_port()
    path.write_text(str(port))
    return port


def _ensure_database(server_url: str, name: str) -> None:
    url = make_url(async_url(server_url))
    dsn = f"postgresql://{url.username}@{url.host}:{url.port}/{url.database}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
