"""The nats-server configuration deploy/nats ships, run as shipped by a real nats-server.

Only what a deployment mounts differently is rewritten: the listen and monitoring addresses (to
free loopback ports), the JetStream directory and the certificate paths (to this test's files).
The rest, ``include "permissions.conf"``, the TLS block and the passwords read from the
server's environment, is the file itself. It serves TLS only, refuses anonymous clients, wrong
passwords and plaintext, and gives each service's user its own subjects and no other.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import nats
import pytest

from beez.kit.bus import permissions
from beez.kit.bus.credentials import NatsCredentials
from beez.kit.bus.headers import MSG_ID
from beez.kit.bus.topology import Topology, ensure_streams
from beez.kit.embedded import free_port, nats_server_binary
from beez.kit.tls import write_bundle
from tests.kit.bus.nats_auth import Refusals
from tests.kit.bus.test_bus_credentials import once, roundtrip

DEPLOY = Path(__file__).resolve().parents[3] / "deploy" / "nats"


def rewrite(text: str, pattern: str, replacement: str) -> str:
    """``text`` with the one match of ``pattern`` replaced (AssertionError if it is not there once)."""
    result, count = re.subn(pattern, replacement, text, flags=re.MULTILINE)
    assert count == 1, f"deploy/nats/nats-server.conf: expected one {pattern!r}, found {count}"
    return result


@dataclass
class Deployed:
    """The shipped configuration, written where this test runs it."""

    directory: Path
    port: int
    monitor_port: int
    ca_file: Path
    passwords: dict[str, str]

    @property
    def url(self) -> str:
        return f"tls://127.0.0.1:{self.port}"

    def credentials(self, user: str, password: str | None = None) -> NatsCredentials:
        return NatsCredentials(
            user=user, password=password or self.passwords[user], tls_ca_file=str(self.ca_file)
        )

    def run(self, env: dict[str, str]) -> subprocess.Popen[bytes]:
        with (self.directory / "nats-server.log").open("ab") as log:
            return subprocess.Popen(
                [str(nats_server_binary()), "-c", str(self.directory / "nats-server.conf")],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def healthy(self) -> bool:
        url = f"http://127.0.0.1:{self.monitor_port}/healthz?js-enabled-only=true"
        try:
            with urllib.request.urlopen(url, timeout=0.5) as resp:
                return bool(resp.status == 200)
        except OSError:
            return False


@pytest.fixture
def deployed(tmp_path: Path) -> Deployed:
    directory = tmp_path / "etc-nats"
    directory.mkdir()
    shutil.copy(DEPLOY / "permissions.conf", directory / "permissions.conf")
    certs = write_bundle(tmp_path / "pki", ["nats"])["nats"]
    tls = directory / "tls"
    tls.mkdir()
    shutil.copy(certs.cert_file, tls / "tls.crt")
    shutil.copy(certs.key_file, tls / "tls.key")
    port, monitor_port = free_port(), free_port()
    text = (DEPLOY / "nats-server.conf").read_text()
    text = rewrite(text, r'^listen: "0\.0\.0\.0:4222"', f'listen: "127.0.0.1:{port}"')
    text = rewrite(text, r'^http: "0\.0\.0\.0:8222"', f'http: "127.0.0.1:{monitor_port}"')
    text = rewrite(text, r'store_dir: "/data/jetstream"', f'store_dir: "{tmp_path / "js"}"')
    text = rewrite(text, r'cert_file: "/etc/nats/tls/tls\.crt"', f'cert_file: "{tls / "tls.crt"}"')
    text = rewrite(text, r'key_file: "/etc/nats/tls/tls\.key"', f'key_file: "{tls / "tls.key"}"')
    (directory / "nats-server.conf").write_text(text)
    passwords = {spec.name: f"pw-{spec.name}-{os.urandom(8).hex()}" for spec in permissions.ROLES}
    return Deployed(directory, port, monitor_port, certs.ca_file, passwords)


@pytest.fixture
def running(deployed: Deployed) -> Iterator[Deployed]:
    env = {**os.environ, **{permissions.password_variable(n): pw for n, pw in deployed.passwords.items()}}
    proc = deployed.run(env)
    try:
        for _ in range(300):
            if deployed.healthy():
                break
            assert proc.poll() is None, (deployed.directory / "nats-server.log").read_text()[-2000:]
            time.sleep(0.05)
        else:
            pytest.fail("the deployed nats-server did not become healthy")
        yield deployed
    finally:
        proc.terminate()
        proc.wait(10)


async def test_each_service_logs_in_over_tls_and_publishes_only_its_own_subjects(running: Deployed) -> None:
    topology = Topology()
    trigger = await once(running.url, running.credentials("trigger"))
    await roundtrip(trigger)
    await ensure_streams(trigger.jetstream(), topology)
    ack = await trigger.jetstream().publish(topology.jobs("normal", "o1"), b"job", headers={MSG_ID: "j1"})
    assert ack.seq > 0
    await trigger.close()

    for user, forbidden in (("trigger", "automations.o1.changed"), ("platform", "jobs.critical.o1")):
        refusals = Refusals()
        nc = await nats.connect(
            running.url,
            allow_reconnect=False,
            error_cb=refusals.on_error,
            **running.credentials(user).connect_options(running.url),
        )
        await nc.publish(forbidden, b"forged")
        await nc.flush()
        [violation] = await refusals.wait_for(1)
        assert f'publish to "{forbidden}"' in violation
        await nc.close()


async def test_anonymous_clients_and_wrong_passwords_are_refused(running: Deployed) -> None:
    for credentials in (
        NatsCredentials(tls_ca_file=str(running.ca_file)),
        running.credentials("executor", password="not-the-password"),
    ):
        with pytest.raises(nats.errors.Error, match="Authorization Violation"):
            await once(running.url, credentials)


def test_a_plaintext_client_gets_nothing_but_the_demand_for_tls(running: Deployed) -> None:
    """A client that waits for INFO is told TLS is required; its plaintext CONNECT is never served."""
    with socket.create_connection(("127.0.0.1", running.port), timeout=5) as raw:
        info = raw.recv(4096)
        assert info.startswith(b"INFO ") and b'"tls_required":true' in info
        password = running.passwords["trigger"]
        raw.sendall(f'CONNECT {{"user":"trigger","pass":"{password}","verbose":false}}\r\nPING\r\n'.encode())
        answer = b""
        try:
            while chunk := raw.recv(4096):
                answer += chunk
        except (ConnectionResetError, TimeoutError):
            pass
    assert b"PONG" not in answer


def test_the_server_refuses_to_start_without_a_users_password(deployed: Deployed) -> None:
    env = {**os.environ, **{permissions.password_variable(n): pw for n, pw in deployed.passwords.items()}}
    del env[permissions.password_variable("ops")]
    proc = deployed.run(env)
    try:
        assert proc.wait(15) != 0
    finally:
        if proc.poll() is None:
            proc.kill()
    log = (deployed.directory / "nats-server.log").read_text()
    assert "NATS_OPS_PASSWORD" in log
