"""``beez up --tls``: the local stack in production mode, reachable only with what it prints.

``beez up --tls`` runs the kit's secure stack: every process in production mode with a
certificate of a throwaway CA under the state directory, NATS over TLS with a user per service,
and a gateway verifying HS256 JWTs. This starts it as a user would (on ports of its own, with a
state directory of its own, and a database of its own on the suite's PostgreSQL so no embedded
one has to be made), and proves:

* ``beez status --tls`` finds every component healthy over mutual TLS, while plain ``beez
  status`` and a plaintext gRPC client are refused by every service;
* a gRPC client presenting the printed developer certificate is served;
* the CLI, with the printed ``BEEZ_TOKEN``, creates and lists automations through the gateway,
  as the token's user; without it the gateway answers 401;
* the token is printed once and appears in no log; Ctrl-C stops everything.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import grpc
import psutil
from grpc_health.v1 import health_pb2, health_pb2_grpc

from beez.api.automation.v1 import automation_pb2, automation_pb2_grpc
from beez.kit.embedded import free_port
from beez.kit.stack import SERVICES
from beez.kit.tls import TlsFiles, channel
from tests.e2e.test_beez_up import ROOT, _free, descendants
from tests.support.servers import create_database, drop_database


def ports() -> tuple[int, int]:
    """Five consecutive free ports for the services and one for the gateway."""
    grpc_base = free_port()
    while any(not _free(grpc_base + i) for i in range(5)):
        grpc_base = free_port()
    return grpc_base, free_port()


def wait_for_summary(up: subprocess.Popen[bytes], log: Path, timeout: float = 120.0) -> str:
    """``beez up``'s output once it has printed how to call the stack."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace")
        if "BEEZ_TOKEN=" in text:
            return text
        assert up.poll() is None, f"beez up --tls exited with {up.returncode}:\n{text}"
        time.sleep(0.5)
    raise AssertionError(f"beez up --tls printed no token in {timeout} s:\n{log.read_text()}")


async def plaintext_health(addresses: list[str]) -> list[grpc.StatusCode]:
    """What a plaintext health check of each address gets: OK, or the error's code."""

    async def one(address: str) -> grpc.StatusCode:
        async with grpc.aio.insecure_channel(address) as ch:
            try:
                await health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(), timeout=5)
            except grpc.aio.AioRpcError as exc:
                return exc.code()
        return grpc.StatusCode.OK

    return list(await asyncio.gather(*(one(a) for a in addresses)))


async def list_as_developer(address: str, files: TlsFiles) -> automation_pb2.ListAutomationsResponse:
    async with channel(address, files) as ch:
        response: automation_pb2.ListAutomationsResponse = await automation_pb2_grpc.AutomationServiceStub(
            ch
        ).ListAutomations(
            automation_pb2.ListAutomationsRequest(),
            metadata=[("x-org-id", "org_demo"), ("x-roles", "viewer")],
            timeout=10,
        )
        return response


def test_beez_up_tls_serves_mutual_tls_and_a_gateway_that_wants_the_printed_token(
    tmp_path: Path, admin_url: str
) -> None:
    grpc_base, http_port = ports()
    database_url = create_database(admin_url)
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "NATS_URL") and not k.startswith("BEEZ_")
    }
    env["DATABASE_URL"] = database_url
    state = tmp_path / "state"
    ports_args = ["--grpc-base", str(grpc_base), "--http-port", str(http_port)]
    log_path = tmp_path / "up.log"
    log = log_path.open("wb")
    up = subprocess.Popen(
        [sys.executable, "-m", "beez.cli.main", "up", "--tls", *ports_args, "--state-dir", str(state)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )

    def beez(*args: str, token: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "beez.cli.main", *args],
            env={**env, "BEEZ_TOKEN": token} if token else env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )

    try:
        summary = wait_for_summary(up, log_path)
        tokens = re.findall(r"export BEEZ_TOKEN=(\S+)", summary)
        assert len(tokens) == 1, summary
        token = tokens[0]
        tls = state / "tls"
        developer = TlsFiles(tls / "developer.pem", tls / "developer-key.pem", tls / "ca.pem")
        for path in (developer.cert_file, developer.key_file, developer.ca_file):
            assert str(path) in summary

        healthy = beez("status", "--tls", "--state-dir", str(state), *ports_args)
        assert healthy.returncode == 0, healthy.stdout + healthy.stderr
        for name in (*SERVICES, "gateway"):
            assert re.search(rf"{name}\s.*SERVING", healthy.stdout), healthy.stdout
        plain = beez("status", "--state-dir", str(state), *ports_args)
        assert plain.returncode == 1, plain.stdout
        assert plain.stdout.count("UNREACHABLE") == len(SERVICES), plain.stdout
        assert "beez status --tls" in plain.stdout

        addresses = [f"127.0.0.1:{grpc_base + i}" for i in range(len(SERVICES))]
        assert asyncio.run(plaintext_health(addresses)) == [grpc.StatusCode.UNAVAILABLE] * len(SERVICES)
        assert asyncio.run(list_as_developer(addresses[0], developer)).automations == []

        api = ["--api-url", f"http://127.0.0.1:{http_port}"]
        made = beez("automations", *api, "create", "-f", "examples/onboarding.json", token=token)
        assert made.returncode == 0, made.stdout + made.stderr
        created = re.search(r"created (\S+)", made.stdout)
        assert created is not None, made.stdout
        listed = beez("automations", *api, "list", "--json", token=token)
        assert listed.returncode == 0, listed.stdout + listed.stderr
        automations = json.loads(listed.stdout)["automations"]
        assert [a["id"] for a in automations] == [created.group(1)]
        assert automations[0]["createdBy"] == "u_demo"
        anonymous = beez("automations", *api, "list")
        assert anonymous.returncode == 1
        assert "UNAUTHENTICATED" in anonymous.stderr and "BEEZ_TOKEN" in anonymous.stderr
        # ...and the developer certificate sees what the token made: one organization, two ways in.
        assert len(asyncio.run(list_as_developer(addresses[0], developer)).automations) == 1

        children = descendants(up.pid)
        up.send_signal(signal.SIGINT)
        assert up.wait(60) == 0, log_path.read_text()
        _, alive = psutil.wait_procs(children, timeout=10)
        assert alive == [], f"left behind: {alive}"
        for component_log in (state / "logs").glob("*.log"):
            assert token not in component_log.read_text(errors="replace"), component_log
        assert log_path.read_text().count(token) == 1
    finally:
        if up.poll() is None:
            up.kill()
        for child in descendants(up.pid):
            child.kill()
        log.close()
        drop_database(admin_url, database_url)
