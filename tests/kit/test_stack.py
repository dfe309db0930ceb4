"""The stack starter every caller shares: wiring, databases of its own, starting and stopping processes."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nats
import psycopg
import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from beez.kit.bus import permissions
from beez.kit.embedded import free_port
from beez.kit.stack import (
    SERVICES,
    STACK_HOLDER,
    Dependencies,
    ServiceProcess,
    Stack,
    ensure_database,
    libpq_url,
    sticky_port,
)
from beez.kit.tls import CALLERS

SLEEPER = ["-c", "import time; time.sleep(60)"]
STUBBORN = ["-c", "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"]


def given(database_url: str = "postgresql://db/x", nats_url: str = "nats://bus:4222") -> Dependencies:
    return Dependencies(database_url, nats_url)


def test_a_plan_wires_the_services_to_the_servers_to_each_other_and_to_the_gateway(tmp_path: Path) -> None:
    stack = Stack.plan(
        given(),
        tmp_path,
        prefix="t123",
        env={"BEEZ_LOG_LEVEL": "WARNING"},
        service_env={"executor": {"BEEZ_JOB_CONCURRENCY": "40", "BEEZ_LOG_LEVEL": "DEBUG"}},
        ports={"trigger": 50_999},
        gateway_port=18_080,
    )
    assert list(stack.services) == [*SERVICES, "gateway"]
    executor, trigger, gateway = (stack.services[n] for n in ("executor", "trigger", "gateway"))
    assert executor.env["BEEZ_DATABASE_URL"] == "postgresql+psycopg://beez_executor@db/x"  # its own role
    assert gateway.env["BEEZ_DATABASE_URL"] == "postgresql+psycopg://beez_gateway@db/x"  # its rate buckets
    assert executor.env["BEEZ_NATS_URL"] == "nats://bus:4222"
    assert executor.env["BEEZ_BUS_PREFIX"] == "t123"
    assert executor.env["BEEZ_JOB_CONCURRENCY"] == "40"
    assert executor.env["BEEZ_LOG_LEVEL"] == "DEBUG"  # its own setting wins over the stack's
    assert trigger.env["BEEZ_LOG_LEVEL"] == "WARNING"
    assert trigger.port == 50_999
    assert stack.services["automation"].env["BEEZ_ANALYTICS_ADDR"] == stack.services["analytics"].address
    assert stack.services["automation"].env["BEEZ_EXECUTOR_ADDR"] == stack.services["executor"].address
    assert gateway.http and gateway.port == 18_080
    assert {gateway.env[f"BEEZ_{n.upper()}_ADDR"] for n in SERVICES} == {
        stack.services[n].address for n in SERVICES
    }
    assert len({p.port for p in stack.services.values()}) == len(stack.services)


def test_a_secure_plan_gives_every_process_production_mode_and_a_certificate_of_its_own(
    tmp_path: Path,
) -> None:
    stack = Stack.plan(given(), tmp_path, gateway_port=18_080, tls_dir=tmp_path / "tls")
    for name, proc in stack.services.items():
        assert proc.env["BEEZ_LOCAL_MODE"] == "false"
        cert = x509.load_pem_x509_certificate(Path(proc.env["BEEZ_TLS_CERT_FILE"]).read_bytes())
        assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == name
        assert proc.env["BEEZ_TLS_CA_FILE"] == str(tmp_path / "tls" / "ca.pem")
        assert proc.tls is not None and proc.tls.cert_file.name == f"{STACK_HOLDER}.pem"
    assert STACK_HOLDER not in CALLERS
    assert stack.services["executor"].env["BEEZ_DATABASE_ALLOW_INSECURE"] == "true"  # no TLS PostgreSQL
    assert Path(stack.services["executor"].env["BEEZ_SIGNING_KEYS_FILE"]).read_text().startswith("stack:")
    hook_keys = stack.services["trigger"].env["BEEZ_HOOK_KEYS_FILE"]
    assert hook_keys.endswith("hook-keys") and Path(hook_keys).read_text().startswith("stack:")
    plain = Stack.plan(given(), tmp_path, names=("trigger",))
    assert "BEEZ_TLS_CERT_FILE" not in plain.services["trigger"].env
    assert plain.services["trigger"].tls is None


def test_a_secure_plan_issues_certificates_of_its_ca_to_the_clients_it_names(tmp_path: Path) -> None:
    Stack.plan(given(), tmp_path, names=("trigger",), tls_dir=tmp_path / "tls", tls_clients=["developer"])
    ca = x509.load_pem_x509_certificate((tmp_path / "tls" / "ca.pem").read_bytes())
    cert = x509.load_pem_x509_certificate((tmp_path / "tls" / "developer.pem").read_bytes())
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "developer"
    cert.verify_directly_issued_by(ca)
    assert (tmp_path / "tls" / "developer-key.pem").stat().st_mode & 0o077 == 0


def test_a_plan_keeps_a_database_url_with_a_password_as_it_cannot_know_the_roles_passwords(
    tmp_path: Path,
) -> None:
    stack = Stack.plan(given("postgresql://owner:pw@db/x"), tmp_path, names=("executor",))
    assert stack.services["executor"].env["BEEZ_DATABASE_URL"] == "postgresql://owner:pw@db/x"


def test_a_plan_without_a_prefix_or_gateway_sets_neither(tmp_path: Path) -> None:
    stack = Stack.plan(given(), tmp_path, names=("trigger",))
    assert list(stack.services) == ["trigger"]
    assert "BEEZ_BUS_PREFIX" not in stack.services["trigger"].env


def test_a_sticky_port_is_kept_while_free_and_replaced_when_taken(tmp_path: Path) -> None:
    path = tmp_path / "pg.port"
    first = sticky_port(path)
    assert sticky_port(path) == first
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", first))
        busy.listen()
        assert sticky_port(path) != first


def test_a_stack_with_an_admin_url_gets_a_database_of_its_own_dropped_at_stop(
    admin_url: str, tmp_path: Path
) -> None:
    deps = Dependencies.start(tmp_path, admin_url=admin_url, nats_url="nats://unused:4222")
    assert deps.pg is None and deps.nats is None
    with psycopg.connect(libpq_url(deps.database_url)) as conn:
        assert conn.execute("SELECT current_database()").fetchone()[0].startswith("beez_t_")  # type: ignore[index]
    deps.stop()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(libpq_url(deps.database_url)).close()


def test_ensure_database_is_idempotent(database_url: str) -> None:
    url = ensure_database(database_url, "postgres")
    assert libpq_url(url).endswith("/postgres")


def test_a_process_runs_under_its_runner_and_stops_on_sigterm(tmp_path: Path) -> None:
    proc = ServiceProcess("sleeper", {}, tmp_path / "sleeper.log", runner=lambda name: SLEEPER).start()
    assert proc.running()
    assert proc.proc is not None and proc.proc.args == [sys.executable, *SLEEPER]
    assert proc.stop(timeout=10) == -signal.SIGTERM
    assert not proc.running()


def test_stopping_a_stack_kills_what_ignores_sigterm_after_the_timeout(tmp_path: Path) -> None:
    stack = Stack.plan(
        given(),
        tmp_path,
        names=("polite", "stubborn"),
        runner=lambda name: SLEEPER if name == "polite" else STUBBORN,
    ).start()
    time.sleep(0.3)  # let the stubborn one install its handler
    began = time.monotonic()
    stack.stop(timeout=1.0)
    assert time.monotonic() - began < 5
    assert stack.exited() == {"polite": -signal.SIGTERM, "stubborn": -signal.SIGKILL}


def test_starting_refuses_a_taken_port_and_starts_nothing(tmp_path: Path) -> None:
    port = free_port()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", port))
        busy.listen()
        stack = Stack.plan(
            given(), tmp_path, names=("a", "b"), ports={"b": port}, runner=lambda name: SLEEPER
        )
        with pytest.raises(RuntimeError, match="already in use"):
            stack.start()
    assert all(p.proc is None for p in stack.services.values())


def test_a_stubborn_process_alone_is_killed_by_stop(tmp_path: Path) -> None:
    proc = ServiceProcess("stubborn", {}, tmp_path / "s.log", runner=lambda name: STUBBORN).start()
    time.sleep(0.3)
    with pytest.raises(subprocess.TimeoutExpired):
        proc.stop(timeout=0.5)
    assert not proc.running()


def test_an_embedded_nats_runs_the_permission_model_and_each_service_logs_in_as_itself(
    tmp_path: Path, admin_url: str
) -> None:
    deps = Dependencies.start(tmp_path / "state", admin_url=admin_url, bus_prefix="t9")
    try:
        files = deps.nats_password_files
        assert set(files) == {r.name for r in permissions.ROLES}
        assert all(f.stat().st_mode & 0o777 == 0o600 for f in files.values())
        stack = Stack.plan(deps, tmp_path / "logs", prefix="t9", gateway_port=18_081)
        for name in SERVICES:
            env = stack.services[name].env
            assert env["BEEZ_NATS_USER"] == name
            assert Path(env["BEEZ_NATS_PASSWORD_FILE"]) == files[name]
            assert "BEEZ_NATS_PASSWORD" not in env  # by file, never in the environment
        assert "BEEZ_NATS_USER" not in stack.services["gateway"].env
        with pytest.raises(ValueError, match="bus prefix"):
            Stack.plan(deps, tmp_path / "logs", prefix="other")

        async def refused_then_accepted() -> None:
            with pytest.raises(nats.errors.Error, match="Authorization Violation"):
                await nats.connect(deps.nats_url, allow_reconnect=False)
            nc = await deps.nats_connect("trigger")
            await nc.close()

        asyncio.run(refused_then_accepted())
    finally:
        deps.stop()
    again = Dependencies.start(tmp_path / "state", admin_url=admin_url)  # same passwords next time
    try:
        assert {n: f.read_text() for n, f in again.nats_password_files.items()} == {
            n: f.read_text() for n, f in files.items()
        }
    finally:
        again.stop()


def connections(monitor_port: int) -> list[dict[str, str]]:
    """The client connections a nats-server's monitor reports, with their users."""
    with urllib.request.urlopen(f"http://127.0.0.1:{monitor_port}/connz?auth=true", timeout=2) as resp:
        found: list[dict[str, str]] = json.load(resp)["connections"]
    return found


def test_a_secure_stacks_nats_serves_tls_only_and_its_clients_verify_it(
    tmp_path: Path, admin_url: str
) -> None:
    deps = Dependencies.start(tmp_path / "state", admin_url=admin_url, nats_tls_dir=tmp_path / "nats-tls")
    try:
        assert deps.nats_url.startswith("tls://")
        env = Stack.plan(deps, tmp_path / "logs", names=("trigger",)).services["trigger"].env
        assert env["BEEZ_NATS_TLS_CA_FILE"] == str(tmp_path / "nats-tls" / "ca.pem")

        async def over_tls() -> None:
            nc = await deps.nats_connect("trigger")
            assert deps.nats is not None
            (conn,) = connections(deps.nats.monitor_port)
            assert (conn["authorized_user"], conn["tls_version"]) == ("trigger", "1.3")
            await nc.close()

        asyncio.run(over_tls())
    finally:
        deps.stop()
