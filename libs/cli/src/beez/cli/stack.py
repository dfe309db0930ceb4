"""``beez up``: the whole stack on one machine, from nothing.

Without ``DATABASE_URL`` / ``NATS_URL`` it starts an embedded PostgreSQL and nats-server with
their state under the state directory (on the ports they had last time), runs every service's
migrations, starts the five services and the gateway as child processes on their fixed ports,
and on Ctrl-C or SIGTERM stops them all (services first, so they drain, then the servers),
leaving nothing behind. The starting and stopping is :mod:`beez.kit.stack`'s, which the
benchmark, the chaos harness and the tests share; this is what ``beez up`` asks of it.

``tls`` (``beez up --tls``) asks for the kit's secure stack instead of local mode: production
mode, mutual TLS from a throwaway CA under ``<state>/tls``, the embedded nats-server over TLS,
and a gateway verifying JWTs (:mod:`beez.cli.secure`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from beez.cli import secure
from beez.cli.components import Component
from beez.kit.embedded import EmbeddedNats, EmbeddedPostgres
from beez.kit.stack import GATEWAY, STACK_HOLDER, Dependencies, migrate_all
from beez.kit.stack import Stack as Processes
from beez.kit.tls import TlsFiles


@dataclass
class Stack:
    """The processes of one local stack."""

    state_dir: Path
    components: list[Component]
    database_url: str | None = None
    nats_url: str | None = None
    log_level: str = "INFO"
    tls: bool = False
    """Production mode over mutual TLS (``beez up --tls``) rather than local mode."""
    deps: Dependencies | None = field(default=None, init=False)
    processes: Processes | None = field(default=None, init=False)

    @property
    def log_dir(self) -> Path:
        return self.state_dir / "logs"

    @property
    def health_tls(self) -> TlsFiles | None:
        """The certificate health checks present: the bundle's ``beez-stack`` one with ``tls``."""
        return secure.holder_files(self.state_dir, STACK_HOLDER) if self.tls else None

    @property
    def pg(self) -> EmbeddedPostgres | None:
        return self.deps.pg if self.deps else None

    @property
    def nats(self) -> EmbeddedNats | None:
        return self.deps.nats if self.deps else None

    def start_dependencies(self) -> None:
        """Starts the embedded servers for whatever is not configured."""
        self.deps = Dependencies.start(
            self.state_dir,
            database_url=self.database_url,
            nats_url=self.nats_url,
            sticky_ports=True,
            nats_tls_dir=secure.tls_dir(self.state_dir) / secure.NATS_TLS_DIR if self.tls else None,
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
        env = {"BEEZ_LOG_LEVEL": self.log_level, "PYTHONUNBUFFERED": "1"}
        # --tls: the kit's secure stack (production mode, a certificate per process); else local mode
        env.update(secure.PROCESS_ENV if self.tls else {"BEEZ_LOCAL_MODE": "true"})
        self.processes = Processes.plan(
            self.deps,
            self.log_dir,
            names=[c.name for c in services],
            env=env,
            ports={c.name: c.port for c in services},
            gateway_port=gateway.port if gateway else None,
            health_interval_s=None,
            new_session=True,
            tls_dir=secure.tls_dir(self.state_dir) if self.tls else None,
            tls_clients=[secure.DEVELOPER] if self.tls else [],
            service_env={GATEWAY: secure.gateway_env(self.state_dir)} if self.tls else None,
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
