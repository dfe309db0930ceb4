"""The gateway: settings, backend addressing, contract discovery and probes (its process: tests/services)."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import socket
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from beez.gateway.app import OPENAPI
from beez.gateway.config import GatewaySettings
from beez.gateway.contracts import load_service_descriptors
from beez.gateway.server import ChannelPool, build_app, serve
from beez.kit.logging import configure_logging
from beez.kit.settings import ServiceSettings
from beez.kit.tls import write_bundle
from tests.gateway.gateway_support import Gateway, free_port
from tests.gateway.jwt_support import AUDIENCE, ISSUER, gateway_tls, production_settings

REPO = Path(__file__).resolve().parents[2]


async def test_healthz(gw: Gateway) -> None:
    response = await gw.http.get("/healthz")
    assert response.status == 200
    assert await response.json() == {"status": "ok"}


async def test_readyz_reports_each_backend_service(gw: Gateway) -> None:
    response = await gw.http.get("/readyz")
    assert response.status == 200
    assert await response.json() == {"status": "ok", "services": {"beez.testing.v1.EchoService": "SERVING"}}


def test_settings_come_from_beez_environment_variables(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("BEEZ_HTTP_PORT", "9090")
    monkeypatch.setenv("BEEZ_LOCAL_MODE", "false")
    for name, value in write_bundle(tmp_path, ["gateway"])["gateway"].env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("BEEZ_EXECUTOR_ADDR", "executor:50053")
    settings = GatewaySettings()
    assert (settings.listen_host, settings.http_port, settings.local_mode) == ("0.0.0.0", 9090, False)
    assert settings.executor_addr == "executor:50053"
    assert settings.request_timeout_s == 30


def test_contract_discovery_finds_every_beez_service() -> None:
    names = [s.full_name for s in load_service_descriptors()]
    assert names == [
        "beez.api.analytics.v1.AnalyticsService",
        "beez.api.automation.v1.AutomationService",
        "beez.api.automation.v1.CatalogService",
        "beez.api.automation.v1.TemplateService",
        "beez.api.executor.v1.ActionService",
        "beez.api.executor.v1.ConnectionService",
        "beez.api.executor.v1.DeadLetterService",
        "beez.api.executor.v1.ExecutionService",
        "beez.api.trigger.v1.ContactService",
        "beez.api.trigger.v1.EventService",
        "beez.api.trigger.v1.HookService",
    ]


async def test_services_are_routed_to_their_package_address() -> None:
    settings = GatewaySettings(automation_addr="a:1", trigger_addr="t:2", analytics_addr="a:1")
    pool = ChannelPool(settings)
    automation = pool.for_service("beez.api.automation.v1.AutomationService")
    assert pool.for_service("beez.api.automation.v1.CatalogService") is automation
    # same address, one channel
    assert pool.for_service("beez.api.analytics.v1.AnalyticsService") is automation
    assert pool.for_service("beez.api.trigger.v1.EventService") is not automation
    assert sorted(pool.channels) == ["a:1", "t:2"]
    with pytest.raises(KeyError, match="BEEZ_WORKFLOW_ADDR"):
        pool.for_service("beez.api.workflow.v1.WorkflowService")
    with pytest.raises(KeyError):
        pool.for_service("acme.v1.Other")
    await pool.close()


async def test_the_app_builds_from_settings_for_all_contracts() -> None:
    app = await build_app(GatewaySettings())
    document = app[OPENAPI]
    assert "/api/automations/{id}" in document["paths"]
    await app.cleanup()


def test_production_is_the_default_and_local_mode_only_an_explicit_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Outside ``beez up`` (which sets ``BEEZ_LOCAL_MODE=true``) nothing turns local mode on: the
    gateway and the services start in production mode unless the setting says otherwise."""
    monkeypatch.delenv("BEEZ_LOCAL_MODE", raising=False)  # the suite's own default (tests/conftest.py)
    tls = gateway_tls()
    assert GatewaySettings(**tls).local_mode is False
    assert ServiceSettings(**tls).local_mode is False
    monkeypatch.setenv("BEEZ_LOCAL_MODE", "true")
    assert GatewaySettings().local_mode is True
    assert ServiceSettings().local_mode is True


async def test_a_local_mode_gateway_warns_at_start_and_a_production_one_does_not(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    configure_logging("gateway", "INFO")  # its handler writes to capsys's stdout
    try:
        local = await build_app(GatewaySettings(local_mode=True, rate_limits=False))
        await local.cleanup()
        out = capsys.readouterr().out
        [warning] = [json.loads(line) for line in out.splitlines() if "local mode" in line]
        assert warning["level"] == "warning" and warning["host"] == "127.0.0.1"
        assert "X-Org-Id" in warning["event"] and "never expose" in warning["event"]

        secret = tmp_path / "jwt-secret"
        secret.write_text(secrets.token_urlsafe(48))
        settings = production_settings(jwt_hs256_secret_file=str(secret), rate_limits=False)
        production = await build_app(settings)
        await production.cleanup()
        assert "local mode" not in capsys.readouterr().out
    finally:
        with capsys.disabled():  # later tests' logs must not go to this test's closed capture
            configure_logging("gateway", "INFO")


def test_local_mode_listens_on_loopback_unless_told_otherwise() -> None:
    assert GatewaySettings(local_mode=True).listen_host == "127.0.0.1"
    assert GatewaySettings(local_mode=True, http_host="0.0.0.0").listen_host == "0.0.0.0"
    assert GatewaySettings(local_mode=False, **gateway_tls()).listen_host == "0.0.0.0"
    assert GatewaySettings(local_mode=False, http_host="10.0.0.5", **gateway_tls()).listen_host == "10.0.0.5"


def _other_address() -> str | None:
    """An address of this machine that is not loopback, if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent for UDP connect
        except OSError:
            return None
        address: str = probe.getsockname()[0]
    return None if address.startswith("127.") else address


async def test_a_local_mode_gateway_is_unreachable_from_other_interfaces() -> None:
    other = _other_address()
    if other is None:
        pytest.skip("this machine has no non-loopback IPv4 address")
    port = free_port()
    stop = asyncio.Event()
    task = asyncio.create_task(serve(GatewaySettings(local_mode=True, http_port=port), stop))
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(100):
                try:
                    async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                        assert response.status == 200
                        break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.05)
            else:
                pytest.fail("the gateway did not start listening")
            with pytest.raises(aiohttp.ClientConnectionError):
                async with session.get(f"http://{other}:{port}/healthz"):
                    pass
    finally:
        stop.set()
        await task


@pytest.mark.parametrize("command", ["serve", "migrate"])
def test_a_production_gateway_below_verify_full_refuses_to_start(tmp_path: Path, command: str) -> None:
    """Its rate buckets' database is held to the services' bar: exit 2 naming both ways out, not a
    traceback from inside the event loop."""
    secret = tmp_path / "jwt-secret"
    secret.write_text(secrets.token_urlsafe(48))
    env = {k: v for k, v in os.environ.items() if not k.startswith("BEEZ_")}
    env.update({f"BEEZ_{name.upper()}": value for name, value in gateway_tls().items()})
    env.update(
        BEEZ_LOCAL_MODE="false",
        BEEZ_HTTP_PORT="0",
        BEEZ_JWT_HS256_SECRET_FILE=str(secret),
        BEEZ_JWT_ISSUER=ISSUER,
        BEEZ_JWT_AUDIENCE=AUDIENCE,
        BEEZ_DATABASE_SSLMODE="require",
    )
    done = subprocess.run(
        [sys.executable, "-m", "beez.gateway", command],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stderr[-2000:]
    assert done.stderr.startswith("refusing to start: PostgreSQL sslmode=require"), done.stderr[-2000:]
    assert "BEEZ_DATABASE_ALLOW_INSECURE" in done.stderr and "Traceback" not in done.stderr
