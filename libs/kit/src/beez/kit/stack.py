"""Starting the whole stack on one machine: PostgreSQL, NATS, migrations and the service processes.

One starter serves ``beez up``, the benchmark, the chaos harness and the tests. Each says what it
needs, and the rest is the same for all:

* :class:`Dependencies`: PostgreSQL and NATS. A database URL is used as given; an admin URL
  gets a database of the stack's own, dropped when it stops; with neither, an embedded
  PostgreSQL runs under the state directory (``fsync`` on) holding the database ``beez``. NATS
  is the given URL or an embedded nats-server, ``sync_interval: always`` on request. Embedded
  servers take free ports, or the ports they had last time in this state directory
  (``sticky_ports``, so ``beez up`` keeps its URLs), and a caller may kill and restart them on
  the same data.
* :class:`ServiceProcess`: one service started as in production (``python -m beez.<name>``),
  or under a runner (the benchmark's CPU profiler), with its log in a file; polled over
  ``grpc.health.v1`` until it reports a status; stopped with SIGTERM as Kubernetes does, killed
  after a timeout; restartable on the same port.
* :class:`Stack`: the services of one run wired together (the bus prefix, automation to its
  analytics, the gateway to every service), started together, waited for together, and
  stopped together (SIGTERM to all at once so they drain side by side), then the servers.
  A secure stack (``tls_dir``) runs every process in production mode with mutual TLS from a
  throwaway CA written there.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import os
import secrets
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

import grpc
import psycopg
from grpc_health.v1 import health_pb2, health_pb2_grpc
from nats.aio.client import Client as NATS
from psycopg import sql
from sqlalchemy.engine import make_url

from beez.kit.bus import permissions
from beez.kit.bus.connect import connect
from beez.kit.bus.credentials import NatsCredentials, inbox_prefix
from beez.kit.db import async_url
from beez.kit.embedded import EmbeddedNats, EmbeddedPostgres, NatsServerTls, free_port, port_open
from beez.kit.migrations import service_url, upgrade
from beez.kit.tls import TlsFiles, channel, write_bundle

SERVICES = ("automation", "trigger", "executor", "beezora", "analytics")
"""Every service, in the order of their default ports (50051 up)."""

GATEWAY = "gateway"
MIGRATED = (*SERVICES, GATEWAY)
"""Every component with a database schema: the services, and the gateway (its rate buckets)."""
DATABASE = "beez"
NATS_HOLDER = "nats"
"""The name in the certificate of a secure stack's nats-server."""
STACK_HOLDER = "beez-stack"
"""The name in the certificate a secure stack probes health with: not an allowed caller."""

Runner = Callable[[str], Sequence[str]]
"""The arguments after the interpreter that run a component (default ``-m beez.<name>``)."""


def libpq_url(url: str) -> str:
    """A SQLAlchemy URL as a plain libpq URL."""
    return async_url(url).replace("postgresql+psycopg://", "postgresql://", 1)


def with_database(url: str, database: str) -> str:
    """``url`` pointing at another database on the same server."""
    return make_url(async_url(url)).set(database=database).render_as_string(hide_password=False)


def create_database(admin_url: str, prefix: str = "beez_t") -> str:
    """Creates a uniquely named database on ``admin_url``'s server and returns its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(libpq_url(admin_url), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return with_database(admin_url, name)


def ensure_database(admin_url: str, name: str) -> str:
    """Creates the database ``name`` unless it exists; returns its URL."""
    with psycopg.connect(libpq_url(admin_url), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return with_database(admin_url, name)


def drop_database(admin_url: str, url: str) -> None:
    """Drops ``url``'s database, closing its connections."""
    name = make_url(url).database
    assert name is not None
    with psycopg.connect(libpq_url(admin_url), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def migrate_all(database_url: str, services: Iterable[str] = MIGRATED) -> None:
    """Runs each service's migrations as ``database_url``'s role (the migration role), each confined
    to its own schema, and grants each service's role ``beez_<service>`` its rights, as ``beez
    migrate`` does."""
    for name in services:
        module = importlib.import_module(f"beez.{name}.__main__")
        upgrade(module.MIGRATIONS, database_url, name)


def service_database_url(database_url: str, name: str) -> str:
    """The URL service ``name`` runs with: as its own role ``beez_<name>`` when ``database_url``
    carries no password (a server that trusts local connections, as the embedded one and the
    test server do), so local runs exercise the per-service rights; else ``database_url`` itself,
    as the stack cannot know the roles' passwords."""
    return database_url if make_url(async_url(database_url)).password else service_url(database_url, name)


def signing_key_ring(directory: Path, name: str = "signing-keys") -> Path:
    """A key ring of one fresh Fernet key under ``directory``, kept if it is there already.

    Production mode needs one for the executor's webhook signing secrets
    (``BEEZ_SIGNING_KEYS_FILE``, decision 0019) and one, ``name`` ``hook-keys``, for the
    trigger's inbound hook secrets (``BEEZ_HOOK_KEYS_FILE``, decision 0036).
    """
    path = directory / name
    if not path.exists():
        from cryptography.fernet import Fernet

        path.write_text(f"stack:{Fernet.generate_key().decode()}\n")
        path.chmod(0o600)
    return path


def nats_passwords(directory: Path) -> dict[str, Path]:
    """A password file per NATS role under ``directory`` (mode 0600), made once and kept.

    Kept so a restarted embedded nats-server (same state directory) and the services still
    running agree; random, so nothing but this state directory knows them.
    """
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o700)
    files = {}
    for spec in permissions.ROLES:
        path = directory / spec.name
        if not path.exists() or not path.read_text().strip():
            path.touch(mode=0o600)
            path.write_text(secrets.token_urlsafe(24))
        files[spec.name] = path
    return files


def sticky_port(path: Path) -> int:
    """The port recorded in ``path`` when it is free, else a new free one, recorded there."""
    if path.exists():
        port = int(path.read_text().strip() or 0)
        if port and not port_open("127.0.0.1", port):
            return port
    port = free_port()
    path.write_text(str(port))
    return port


@dataclass
class Dependencies:
    """PostgreSQL and NATS of one stack, and the embedded servers it started for them."""

    database_url: str
    nats_url: str
    pg: EmbeddedPostgres | None = None
    nats: EmbeddedNats | None = None
    admin_url: str | None = None
    """Set when ``database_url`` is a database made for this stack on that server: dropped at stop."""
    nats_password_files: dict[str, Path] = field(default_factory=dict)
    """The embedded nats-server's users (role name to password file); empty when NATS is open."""
    bus_prefix: str = ""
    """The bus prefix the embedded nats-server's permissions are written for."""
    nats_tls_ca_file: str = ""
    """The CA of the embedded nats-server's certificate, when it serves TLS."""

    def nats_credentials(self, role: str) -> NatsCredentials:
        """How the NATS user ``role`` (a service, ``platform`` or ``ops``) logs in to this stack's
        NATS; no credentials when it is an open server given by URL."""
        path = self.nats_password_files.get(role)
        if path is None:
            if self.nats_password_files:
                raise KeyError(f"no NATS user {role!r}")
            return NatsCredentials(tls_ca_file=self.nats_tls_ca_file)
        return NatsCredentials(user=role, password_file=str(path), tls_ca_file=self.nats_tls_ca_file)

    def nats_options(self, role: str) -> dict[str, Any]:
        """``nats.connect`` keyword arguments that log in as the user ``role``, its inboxes where
        that user may subscribe (a test's publisher of events is ``platform``; its observer
        ``ops``)."""
        return {
            **self.nats_credentials(role).connect_options(self.nats_url),
            "inbox_prefix": inbox_prefix(role),
        }

    async def nats_connect(self, role: str, name: str = "") -> NATS:
        """A client of this stack's NATS as the user ``role`` (:func:`beez.kit.bus.connect.connect`)."""
        return await connect(
            self.nats_url,
            name or f"beez-{role}",
            credentials=self.nats_credentials(role),
            inbox_prefix=inbox_prefix(role),
        )

    @classmethod
    def start(
        cls,
        state_dir: Path,
        *,
        database_url: str | None = None,
        admin_url: str | None = None,
        nats_url: str | None = None,
        sticky_ports: bool = False,
        nats_sync_always: bool = False,
        database_prefix: str = "beez_t",
        bus_prefix: str = "",
        nats_tls_dir: Path | None = None,
    ) -> Dependencies:
        """Uses what is given, and starts embedded servers under ``state_dir`` for the rest.

        An embedded nats-server runs the production permission model
        (:mod:`beez.kit.bus.permissions`) for ``bus_prefix``: one user per service, ``platform``
        and ``ops``, with passwords generated under ``state_dir/nats-users``. With
        ``nats_tls_dir`` it serves TLS only, with a certificate from a throwaway CA written there,
        which every client of the stack verifies it against (a secure stack's NATS).
        """
        state_dir.mkdir(parents=True, exist_ok=True)

        def port(name: str) -> int:
            return sticky_port(state_dir / f"{name}.port") if sticky_ports else free_port()

        deps = cls(
            database_url or "",
            nats_url or "",
            bus_prefix=bus_prefix,
        )
        try:
            if not database_url and admin_url:
                deps.database_url, deps.admin_url = create_database(admin_url, database_prefix), admin_url
            elif not database_url:
                deps.pg = EmbeddedPostgres(state_dir / "postgres", port=port("postgres")).start()
                deps.database_url = ensure_database(deps.pg.url(), DATABASE)
            if not nats_url:
                tls = None
                if nats_tls_dir is not None:
                    files = write_bundle(nats_tls_dir, [NATS_HOLDER])[NATS_HOLDER]
                    tls = NatsServerTls(files.cert_file, files.key_file)
                    deps.nats_tls_ca_file = str(files.ca_file)
                deps.nats_password_files = nats_passwords(state_dir / "nats-users")
                passwords = {
                    name: path.read_text().strip() for name, path in deps.nats_password_files.items()
                }
                deps.nats = EmbeddedNats(
                    state_dir / "nats",
                    port=port("nats"),
                    sync_always=nats_sync_always,
                    authorization=permissions.render(bus_prefix, passwords),
                    tls=tls,
                )
                deps.nats_url = deps.nats.start().url
        except BaseException:
            deps.stop()
            raise
        return deps

    def stop(self) -> None:
        """Stops the embedded servers and drops the stack's own database."""
        if self.nats is not None:
            self.nats.stop()
        if self.pg is not None:
            self.pg.stop()
        if self.admin_url:
            drop_database(self.admin_url, self.database_url)
            self.admin_url = None


@dataclass
class ServiceProcess:
    """One component running as its own process: a gRPC service, or the gateway (``http``)."""

    name: str
    env: dict[str, str]
    log_path: Path
    port: int = field(default_factory=free_port)
    http: bool = False
    runner: Runner | None = None
    health_interval_s: float | None = 0.2
    """``BEEZ_HEALTH_INTERVAL_S`` unless the environment sets it (None: the service's default)."""
    new_session: bool = False
    """Its own process group, so a terminal's Ctrl-C reaches only the parent (``beez up``)."""
    tls: TlsFiles | None = None
    """The client certificate health checks present to a mutual-TLS service."""
    proc: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> ServiceProcess:
        """Starts (or restarts, on the same port) the process, appending to its log."""
        env = {**os.environ, **self.env}
        if self.http:
            env["BEEZ_HTTP_PORT"] = str(self.port)
        else:
            env.update(BEEZ_GRPC_PORT=str(self.port), BEEZ_GRPC_HOST="127.0.0.1")
        if self.health_interval_s is not None:
            env.setdefault("BEEZ_HEALTH_INTERVAL_S", str(self.health_interval_s))
        args = self.runner(self.name) if self.runner else ["-m", f"beez.{self.name}"]
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, *args],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=self.new_session,
            )
        return self

    async def health(self) -> str:
        """The gRPC health status (``SERVING``, ``NOT_SERVING``), or ``UNREACHABLE``."""
        async with channel(self.address, self.tls) as health:
            try:
                resp = await health_pb2_grpc.HealthStub(health).Check(
                    health_pb2.HealthCheckRequest(), timeout=1
                )
            except grpc.aio.AioRpcError:
                return "UNREACHABLE"
        return str(health_pb2.HealthCheckResponse.ServingStatus.Name(resp.status))

    async def wait_for(self, status: str, timeout: float = 30.0) -> None:
        """Polls health until it is ``status``; AssertionError with the log's tail if it never is."""
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.name} exited with {self.proc.returncode}:\n{self.log_tail()}")
            last = await self.health()
            if last == status:
                return
            await asyncio.sleep(0.1)
        raise AssertionError(f"{self.name} is {last}, not {status}, after {timeout}s:\n{self.log_tail()}")

    def log_tail(self, chars: int = 3000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:] if self.log_path.exists() else ""

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def terminate(self) -> None:
        """Sends SIGTERM, as Kubernetes does, without waiting."""
        if self.running():
            assert self.proc is not None
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGTERM)

    def stop(self, timeout: float = 15.0) -> int | None:
        """SIGTERM, then the exit code; killed, and TimeoutExpired raised, past ``timeout``."""
        if not self.running():
            return self.proc.returncode if self.proc else None
        assert self.proc is not None
        self.terminate()
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise

    def kill(self) -> None:
        """SIGKILL (its whole process group when it has one of its own)."""
        if self.running():
            assert self.proc is not None
            with contextlib.suppress(ProcessLookupError):
                if self.new_session:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                else:
                    self.proc.kill()
            self.proc.wait(5)


@dataclass
class Stack:
    """The dependencies and the service processes of one run."""

    deps: Dependencies
    services: dict[str, ServiceProcess]
    prefix: str = ""

    @classmethod
    def plan(
        cls,
        deps: Dependencies,
        log_dir: Path,
        *,
        names: Sequence[str] = SERVICES,
        prefix: str = "",
        env: Mapping[str, str] | None = None,
        service_env: Mapping[str, Mapping[str, str]] | None = None,
        ports: Mapping[str, int] | None = None,
        gateway_port: int | None = None,
        runner: Runner | None = None,
        health_interval_s: float | None = 0.2,
        new_session: bool = False,
        tls_dir: Path | None = None,
        tls_clients: Sequence[str] = (),
    ) -> Self:
        """The processes of ``names`` (and the gateway on ``gateway_port``), not started yet.

        Every process gets the dependencies' URLs (each service logging in to the database as its
        own role, :func:`service_database_url`), the bus ``prefix`` and ``env``, then its own
        ``service_env``; automation is pointed at the stack's analytics. ``ports`` fixes ports
        (others are free ones). With ``tls_dir`` the stack is secure: a throwaway CA and a
        certificate per process are written there, and every process runs in production mode
        (``BEEZ_LOCAL_MODE=false``) serving and calling gRPC over mutual TLS with its own. With an
        embedded nats-server each service logs in as its own NATS user (``BEEZ_NATS_USER`` and
        ``BEEZ_NATS_PASSWORD_FILE``, plus the CA of a TLS server), whose permissions are written
        for the dependencies' bus prefix, which ``prefix`` must then equal. ``tls_clients`` names
        further holders of the secure stack's CA (clients outside the stack, e.g. ``beez up
        --tls``'s ``developer``); they may call a service only if ``BEEZ_TLS_ALLOWED_CALLERS`` names
        them.
        """
        if deps.nats_password_files and prefix != deps.bus_prefix:
            raise ValueError(
                f"the embedded nats-server's permissions are for bus prefix {deps.bus_prefix!r}, "
                f"not {prefix!r}: pass bus_prefix to Dependencies.start"
            )
        base = {"BEEZ_DATABASE_URL": deps.database_url, "BEEZ_NATS_URL": deps.nats_url}
        if tls_dir is not None:
            base["BEEZ_LOCAL_MODE"] = "false"
            base["BEEZ_DATABASE_ALLOW_INSECURE"] = "true"  # the stack's PostgreSQL has no certificate
        base.update(env or {})
        if prefix:
            base["BEEZ_BUS_PREFIX"] = prefix
        fixed = ports or {}
        procs: dict[str, ServiceProcess] = {}
        for name in [*names, *([GATEWAY] if gateway_port else [])]:
            procs[name] = ServiceProcess(
                name,
                dict(base),
                log_dir / f"{name}.log",
                port=(gateway_port if name == GATEWAY else None) or fixed.get(name) or free_port(),
                http=name == GATEWAY,
                runner=runner,
                health_interval_s=health_interval_s,
                new_session=new_session,
            )
        if tls_dir is not None:
            bundle = write_bundle(tls_dir, [*procs, STACK_HOLDER, *tls_clients])
            for name, proc in procs.items():
                proc.env.update(bundle[name].env())
                proc.tls = bundle[STACK_HOLDER]
            if "executor" in procs:
                procs["executor"].env["BEEZ_SIGNING_KEYS_FILE"] = str(signing_key_ring(tls_dir))
            if "trigger" in procs:
                procs["trigger"].env["BEEZ_HOOK_KEYS_FILE"] = str(signing_key_ring(tls_dir, "hook-keys"))
        if "automation" in procs and "analytics" in procs:
            procs["automation"].env["BEEZ_ANALYTICS_ADDR"] = procs["analytics"].address
        if "trigger" in procs and "automation" in procs:  # the trigger resyncs its index from it
            procs["trigger"].env["BEEZ_AUTOMATION_ADDR"] = procs["automation"].address
        if "automation" in procs and "executor" in procs:  # execution caps at validation (decision 0023)
            procs["automation"].env["BEEZ_EXECUTOR_ADDR"] = procs["executor"].address
        if "trigger" in procs and "executor" in procs:
            procs["trigger"].env["BEEZ_EXECUTOR_ADDR"] = procs["executor"].address
            # ListScheduled shows the trigger's upcoming fires (decision 0038)
            procs["executor"].env["BEEZ_TRIGGER_ADDR"] = procs["trigger"].address
        if GATEWAY in procs:
            for name in names:
                procs[GATEWAY].env[f"BEEZ_{name.upper()}_ADDR"] = procs[name].address
        for name in procs:
            procs[name].env["BEEZ_DATABASE_URL"] = service_database_url(deps.database_url, name)
        for name, proc in procs.items():
            if name in deps.nats_password_files and name in permissions.SERVICE_ROLES:
                proc.env.update(deps.nats_credentials(name).env())
        for name, extra in (service_env or {}).items():
            procs[name].env.update(extra)
        return cls(deps, procs, prefix)

    def start(self) -> Self:
        """Starts every process; RuntimeError, starting none, if a fixed port is taken."""
        for proc in self.services.values():
            if port_open("127.0.0.1", proc.port):
                raise RuntimeError(f"port {proc.port} for {proc.name} is already in use")
        for proc in self.services.values():
            proc.start()
        return self

    async def serving(self, names: Iterable[str] | None = None, timeout: float = 60.0) -> None:
        """Waits until the gRPC services (all, or ``names``) report SERVING."""
        wanted = [self.services[n] for n in names] if names else self.services.values()
        await asyncio.gather(*(p.wait_for("SERVING", timeout) for p in wanted if not p.http))

    def exited(self) -> dict[str, int]:
        """Processes that have ended, with their exit codes."""
        ended = {name: p.proc.poll() for name, p in self.services.items() if p.proc is not None}
        return {name: code for name, code in ended.items() if code is not None}

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM to every process at once, SIGKILL to those still running after ``timeout``, then
        stops the dependencies."""
        try:
            for proc in self.services.values():
                proc.terminate()
            deadline = time.monotonic() + timeout
            for proc in self.services.values():
                if proc.proc is None:
                    continue
                try:
                    proc.proc.wait(max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    proc.kill()
        finally:
            self.deps.stop()
