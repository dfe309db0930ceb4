"""``beez up``: the whole stack on one machine, from nothing.

Without ``DATABASE_URL`` / ``NATS_URL`` it starts an embedded PostgreSQL and nats-server with
their state under the state directory (on the ports they had last time), runs every service's
migrations, starts the five services and the gateway as child processes on their fixed ports,
and on Ctrl-C or SIGTERM stops them all (services first, so they drain, then the servers),
leaving nothing behind. The starting and stopping is :mod:`beez.kit.stack`'s, which the
benchmark, the chaos harness and the tests share; this is what ``beez up`` asks of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from beez.cli.components import Component
from beez.kit.embedded import EmbeddedNats, EmbeddedPostgres
from beez.kit.stack import Dependencies, migrate_all
from beez.kit.stack import Stack as Processes


@dataclass
class Stack:
    """The processes of one local stack."""

    state_dir: Path
    components: list[Component]
    database_url: str | None = None
    nats_url: str | None = None
    log_level: str = "INFO"
    deps: Dependencies | None = field(default=None, init=False)
    processes: Processes | None = field(default=None, init=False)

    @property
    def log_dir(self) -> Path:
        return self.state_dir / "logs"

    @property
    def pg(self) -> EmbeddedPostgres | None:
        return self.deps.pg if self.deps else None

    @property
    def nats(self) -> EmbeddedNats | None:
        return self.deps.nats if self.deps else None

    def start_dependencies(self) -> None:
        """Starts the embedded servers for whatever is not configured."""
        self.deps = Dependencies.start(
            self.state_dir, database_url=self.database_url, nats_url=self.nats_url, sticky_ports=True
        )
        self.database_url, self.nats_url = self.deps.database_url, self.deps.nats_url

    def migrate(self) -> None:
        """Runs every service's migrations, each confined to its own schema."""
        assert self.database_url
        migrate_all(self.database_url)

    def start_components(self) -> None:
        """Starts the services and the gateway; RuntimeError if one of their ports is taken."""
        assert self.deps is not None
        services = [c for c in self.components if not c.http]
        gateway = next((c for c in self.components if c.http), None)
        self.processes = Processes.plan(
            self.deps,
            self.log_dir,
            names=[c.name for c in services],
            env={"BEEZ_LOG_LEVEL": self.log_level, "PYTHONUNBUFFERED": "1", "BEEZ_LOCAL_MODE": "true"},
            ports={c.name: c.port for c in services},
            gateway_port=gateway.port if gateway else None,
            health_interval_s=None,
            new_session=True,
        ).start()

    def exited(self) -> dict[str, int]:
        """Components whose process has ended, with their exit codes."""
        return self.processes.exited() if self.processes else {}

    def stop(self, timeout: float = 15.0) -> None:
        """Stops the components (SIGTERM, then SIGKILL after ``timeout``), then the servers."""
        if self.processes is not None:
            self.processes.stop(timeout)
        elif self.deps is not None:
            self.deps.stop()
