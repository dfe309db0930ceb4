"""The stack under test: PostgreSQL, nats-server and the five services as processes.

Servers are embedded (state under ``.beez/bench/``, wiped at every run) unless ``DATABASE_URL``
/ ``NATS_URL`` are set; then the run uses a database and a bus prefix of its own on them.
Service processes reuse the suite's :class:`tests.support.procs.ServiceProcess`, optionally
run under cProfile in CPU time (``--profile``, :mod:`bench.cpuprofile`): the profile is written
when the service exits on SIGTERM.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import shutil
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from beez.kit.embedded import EmbeddedNats, EmbeddedPostgres
from beez.kit.migrations import upgrade
from tests.support.procs import SERVICES, ServiceProcess
from tests.support.servers import create_database, drop_database, libpq_url

ROOT = Path(__file__).resolve().parents[1]
STATE = ROOT / ".beez" / "bench"


@dataclass
class BenchService(ServiceProcess):
    """A service process, under cProfile when ``profile_to`` is set."""

    profile_to: Path | None = None

    def start(self) -> BenchService:
        env = {**os.environ, **self.env, "BEEZ_GRPC_PORT": str(self.port), "BEEZ_GRPC_HOST": "127.0.0.1"}
        env.setdefault("BEEZ_HEALTH_INTERVAL_S", "1.0")
        command = [sys.executable]
        if self.profile_to is not None:
            command += ["-m", "bench.cpuprofile", str(self.profile_to), f"beez.{self.name}"]
        else:
            command += ["-m", f"beez.{self.name}"]
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        return self


def fresh_dir(path: Path) -> None:
    """An empty directory others (PostgreSQL's own user, under root) may traverse."""
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    path.chmod(0o755)


def migrate_all(database_url: str) -> None:
    """Every service's migrations, as ``beez migrate`` runs them."""
    for name in SERVICES:
        module = importlib.import_module(f"beez.{name}.__main__")
        upgrade(module.MIGRATIONS, database_url, name)


@dataclass
class Stack:
    """Servers and services of one run; :meth:`close` stops what it started."""

    database_url: str
    nats_url: str
    prefix: str
    services: dict[str, BenchService]
    state: Path
    pg: EmbeddedPostgres | None = None
    nats: EmbeddedNats | None = None
    admin_url: str | None = None
    external: dict[str, str] = field(default_factory=dict)

    @classmethod
    async def start(
        cls, service_env: dict[str, str], *, profile_dir: Path | None = None, state: Path = STATE
    ) -> Stack:
        await asyncio.to_thread(fresh_dir, state)
        pg = nats = None
        admin_url = os.environ.get("DATABASE_URL")
        if admin_url:
            database_url = create_database(admin_url, prefix="beez_bench")
        else:
            pg = EmbeddedPostgres(state / "pg").start()
            database_url = pg.url()
        nats_url = os.environ.get("NATS_URL")
        if not nats_url:
            nats = EmbeddedNats(state / "nats").start()
            nats_url = nats.url
        prefix = "bench" + uuid.uuid4().hex[:6]
        await asyncio.to_thread(migrate_all, database_url)
        base = {
            **service_env,
            "BEEZ_DATABASE_URL": database_url,
            "BEEZ_NATS_URL": nats_url,
            "BEEZ_BUS_PREFIX": prefix,
        }
        logs = state / "logs"
        logs.mkdir()
        services = {
            name: BenchService(
                name,
                dict(base),
                logs / f"{name}.log",
                profile_to=(profile_dir / f"{name}.prof") if profile_dir else None,
            )
            for name in SERVICES
        }
        services["automation"].env["BEEZ_ANALYTICS_ADDR"] = services["analytics"].address
        stack = cls(database_url, nats_url, prefix, services, state, pg, nats, admin_url)
        for proc in services.values():
            proc.start()
        try:
            await asyncio.gather(*(p.wait_for("SERVING", timeout=90) for p in services.values()))
        except BaseException:
            stack.close()
            raise
        return stack

    @property
    def libpq_url(self) -> str:
        return libpq_url(self.database_url)

    def processes(self) -> dict[str, list[psutil.Process]]:
        """The processes to sample, by group: each service, postgres (with its backends), nats."""
        found: dict[str, list[psutil.Process]] = {}
        for name, svc in self.services.items():
            if svc.proc is not None and svc.proc.poll() is None:
                found[name] = [psutil.Process(svc.proc.pid)]
        for group, server in (("postgres", self.pg), ("nats", self.nats)):
            if server is not None and server.proc is not None and server.proc.poll() is None:
                root = psutil.Process(server.proc.pid)
                found[group] = [root, *root.children(recursive=True)]
        found["bench-driver"] = [psutil.Process(os.getpid())]
        return found

    def close(self) -> None:
        for svc in self.services.values():
            try:
                svc.stop(timeout=30)
            except Exception:
                svc.kill()
        if self.nats is not None:
            self.nats.stop()
        if self.pg is not None:
            self.pg.stop()
        if self.admin_url:
            drop_database(self.admin_url, self.database_url)
