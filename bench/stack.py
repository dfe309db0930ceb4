"""The stack under test: PostgreSQL, nats-server and the five services as processes.

Started by :mod:`beez.kit.stack`, as ``beez up`` and the tests start it. Servers are embedded
(state under ``.beez/bench/``, wiped at every run) unless ``DATABASE_URL`` / ``NATS_URL`` are
set; then the run uses a database and a bus prefix of its own on them. The configuration's
environment overrides reach every service, and with ``--profile`` each runs under cProfile in
CPU time (:mod:`bench.cpuprofile`): the profile is written when the service exits on SIGTERM.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import psutil

from beez.kit.embedded import EmbeddedNats, EmbeddedPostgres
from beez.kit.stack import Dependencies, Runner, ServiceProcess, libpq_url, migrate_all
from beez.kit.stack import Stack as ProcessStack

ROOT = Path(__file__).resolve().parents[1]
STATE = ROOT / ".beez" / "bench"
HEALTH_INTERVAL_S = 1.0
"""Health checks in the services once a second: the benchmark's CPU figures include them."""


def fresh_dir(path: Path) -> None:
    """An empty directory others (PostgreSQL's own user, under root) may traverse."""
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    path.chmod(0o755)


def profiled(profile_dir: Path) -> Runner:
    """Runs each service under :mod:`bench.cpuprofile`, writing ``<profile_dir>/<name>.prof``."""

    def runner(name: str) -> list[str]:
        return ["-m", "bench.cpuprofile", str(profile_dir / f"{name}.prof"), f"beez.{name}"]

    return runner


@dataclass
class Stack:
    """The kit's stack of one run, with what the sampler and the report read."""

    kit: ProcessStack

    @classmethod
    async def start(
        cls, service_env: dict[str, str], *, profile_dir: Path | None = None, state: Path = STATE
    ) -> Stack:
        await asyncio.to_thread(fresh_dir, state)
        prefix = "bench" + uuid.uuid4().hex[:6]
        deps = await asyncio.to_thread(
            Dependencies.start,
            state,
            database_url=None,
            admin_url=os.environ.get("DATABASE_URL") or None,
            nats_url=os.environ.get("NATS_URL") or None,
            database_prefix="beez_bench",
            bus_prefix=prefix,
        )
        try:
            await asyncio.to_thread(migrate_all, deps.database_url)
            stack = ProcessStack.plan(
                deps,
                state / "logs",
                prefix=prefix,
                env={"BEEZ_LOCAL_MODE": "true", **service_env},
                runner=profiled(profile_dir) if profile_dir is not None else None,
                health_interval_s=HEALTH_INTERVAL_S,
            )
        except BaseException:
            deps.stop()
            raise
        try:
            await stack.start().serving(timeout=90)
        except BaseException:
            stack.stop(timeout=30)
            raise
        return cls(stack)

    @property
    def services(self) -> dict[str, ServiceProcess]:
        return self.kit.services

    @property
    def prefix(self) -> str:
        return self.kit.prefix

    @property
    def database_url(self) -> str:
        return self.kit.deps.database_url

    @property
    def nats_url(self) -> str:
        return self.kit.deps.nats_url

    @property
    def libpq_url(self) -> str:
        return libpq_url(self.kit.deps.database_url)

    @property
    def pg(self) -> EmbeddedPostgres | None:
        """The embedded PostgreSQL, or None when the run uses ``DATABASE_URL``."""
        return self.kit.deps.pg

    @property
    def nats(self) -> EmbeddedNats | None:
        """The embedded nats-server, or None when the run uses ``NATS_URL``."""
        return self.kit.deps.nats

    def processes(self) -> dict[str, list[psutil.Process]]:
        """The processes to sample, by group: each service, postgres (with its backends), nats."""
        found: dict[str, list[psutil.Process]] = {}
        for name, svc in self.services.items():
            if svc.proc is not None and svc.proc.poll() is None:
                found[name] = [psutil.Process(svc.proc.pid)]
        for group, server in (("postgres", self.kit.deps.pg), ("nats", self.kit.deps.nats)):
            if server is not None and server.proc is not None and server.proc.poll() is None:
                root = psutil.Process(server.proc.pid)
                found[group] = [root, *root.children(recursive=True)]
        found["bench-driver"] = [psutil.Process(os.getpid())]
        return found

    def close(self) -> None:
        """Stops the services (SIGTERM, so profiles are written; killed after 30 s), then the servers."""
        self.kit.stop(timeout=30)
