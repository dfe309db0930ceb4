"""The CLI's stack: automation and trigger in-process, behind real gateways on real HTTP.

Two gateways: one in local mode (as ``beez up`` runs it, identity from ``X-Org-Id`` headers)
in front of plaintext services, and one in production mode, verifying HS256 JWTs with the
settings of issue #11 (``BEEZ_JWT_HS256_SECRET_FILE``, ``BEEZ_JWT_ISSUER``,
``BEEZ_JWT_AUDIENCE``) and calling its own services over mutual TLS with throwaway certificates. Tests
isolate themselves by organization. The CLI runs in a worker thread (:func:`beez`), so the
services and gateways keep serving on the test's event loop while it waits for them; its
consoles write to buffers of their own, so the servers' log lines (on ``sys.stdout``) stay out
of what the command printed.
"""

from __future__ import annotations

import asyncio
import io
import secrets
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import typer
from rich.console import Console

from beez.cli import client, commands
from beez.cli.main import app
from beez.gateway.config import GatewaySettings
from beez.kit.embedded import free_port
from beez.kit.tls import TlsFiles, write_bundle
from tests.cli.tokens import AUDIENCE, ISSUER
from tests.support.gateway import running_gateway
from tests.support.inproc import InProcService, running_service
from tests.support.servers import create_database, drop_database, unique_prefix

CLI_ENV = ("BEEZ_API_URL", "BEEZ_TOKEN", "BEEZ_ORG", "BEEZ_USER")


def new_org() -> str:
    """An organization no other test uses."""
    return f"org_{uuid.uuid4().hex[:12]}"


@dataclass(frozen=True)
class Backends:
    automation: InProcService
    trigger: InProcService


@dataclass(frozen=True)
class ProductionGateway:
    """A production-mode gateway's URL and the HS256 secret its tokens are signed with."""

    url: str
    secret: str


@dataclass(frozen=True)
class Run:
    """What one ``beez`` command printed, and its exit status."""

    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


async def beez(*args: str, env: dict[str, str] | None = None) -> Run:
    """Runs ``beez <args>`` with only ``env`` of the CLI's own variables set."""
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        for name in CLI_ENV:
            patch.delenv(name, raising=False)
        for name, value in (env or {}).items():
            patch.setenv(name, value)
        patch.setattr(commands, "console", Console(file=out, width=200))
        patch.setattr(client, "err_console", Console(file=err, width=200, soft_wrap=True))
        exit_code = await asyncio.to_thread(_main, list(args))
    return Run(exit_code, out.getvalue(), err.getvalue())


def _main(args: list[str]) -> int:
    try:
        typer.main.get_command(app).main(args, prog_name="beez")
    except SystemExit as exit_:
        return int(exit_.code or 0)
    return 0


@asynccontextmanager
async def executor_gateway(executor_port: int) -> AsyncIterator[str]:
    """A local-mode gateway whose only backend is the executor on ``executor_port``; its URL."""
    nowhere = f"127.0.0.1:{free_port()}"
    settings = GatewaySettings(
        local_mode=True,
        http_host="127.0.0.1",
        automation_addr=nowhere,
        trigger_addr=nowhere,
        executor_addr=f"127.0.0.1:{executor_port}",
        beezora_addr=nowhere,
        analytics_addr=nowhere,
    )
    async with running_gateway(settings) as url:
        yield url


@asynccontextmanager
async def serving_backends(
    admin_url: str, nats_url: str, tls: Mapping[str, TlsFiles] | None = None
) -> AsyncIterator[Backends]:
    """Automation and trigger on a database of their own; over mutual TLS with ``tls``' files."""
    database_url = create_database(admin_url)
    prefix = unique_prefix()

    def certificate(name: str) -> dict[str, Any]:
        if tls is None:
            return {}
        files = tls[name]
        return {
            "tls_cert_file": str(files.cert_file),
            "tls_key_file": str(files.key_file),
            "tls_ca_file": str(files.ca_file),
        }

    try:
        async with (
            running_service(
                "automation",
                database_url,
                nats_url,
                prefix,
                analytics_addr=f"127.0.0.1:{free_port()}",
                executor_addr=f"127.0.0.1:{free_port()}",
                **certificate("automation"),
            ) as automation,
            running_service("trigger", database_url, nats_url, prefix, **certificate("trigger")) as trigger,
        ):
            yield Backends(automation, trigger)
    finally:
        drop_database(admin_url, database_url)


@pytest.fixture(scope="module")
async def backends(admin_url: str, nats_url: str) -> AsyncIterator[Backends]:
    """The plaintext backends of the local-mode gateway."""
    async with serving_backends(admin_url, nats_url) as started:
        yield started


@pytest.fixture(scope="session")
def tls_bundle(tmp_path_factory: pytest.TempPathFactory) -> dict[str, TlsFiles]:
    """A throwaway CA, and certificates for the gateway and the services it calls."""
    return write_bundle(tmp_path_factory.mktemp("tls"), ["gateway", "automation", "trigger"])


@pytest.fixture(scope="module")
async def secure_backends(
    admin_url: str, nats_url: str, tls_bundle: dict[str, TlsFiles]
) -> AsyncIterator[Backends]:
    """The backends of the production-mode gateway: mutual TLS, identity from trusted peers only."""
    async with serving_backends(admin_url, nats_url, tls_bundle) as started:
        yield started


def _settings(backends: Backends, *, local_mode: bool) -> GatewaySettings:
    nowhere = f"127.0.0.1:{free_port()}"
    return GatewaySettings(
        local_mode=local_mode,
        http_host="127.0.0.1",
        automation_addr=f"127.0.0.1:{backends.automation.server.port}",
        trigger_addr=f"127.0.0.1:{backends.trigger.server.port}",
        executor_addr=nowhere,
        beezora_addr=nowhere,
        analytics_addr=nowhere,
    )


@pytest.fixture(scope="module")
async def local_gateway(backends: Backends) -> AsyncIterator[str]:
    """The base URL of a local-mode gateway, as ``beez up`` runs it."""
    async with running_gateway(_settings(backends, local_mode=True)) as url:
        yield url


@pytest.fixture(scope="module")
async def production_gateway(
    secure_backends: Backends, tls_bundle: dict[str, TlsFiles], tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[ProductionGateway]:
    """A production-mode gateway verifying HS256 tokens from a secret file, calling over mutual TLS.

    The settings are read from the environment, as a deployment passes them; the environment is
    restored once the gateway is built, so the rest of the session stays in local mode.
    """
    secret = secrets.token_urlsafe(32)
    secret_file = Path(tmp_path_factory.mktemp("jwt")) / "hs256.key"
    secret_file.write_text(secret)
    async with AsyncExitStack() as stack:
        with pytest.MonkeyPatch.context() as env:
            env.setenv("BEEZ_LOCAL_MODE", "false")
            env.setenv("BEEZ_JWT_HS256_SECRET_FILE", str(secret_file))
            env.setenv("BEEZ_JWT_ISSUER", ISSUER)
            env.setenv("BEEZ_JWT_AUDIENCE", AUDIENCE)
            for name, value in tls_bundle["gateway"].env().items():
                env.setenv(name, value)
            settings = _settings(secure_backends, local_mode=False)
            url = await stack.enter_async_context(running_gateway(settings))
        yield ProductionGateway(url, secret)
