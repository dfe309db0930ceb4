"""Logging in to NATS (password, nkey, .creds), TLS verified against a CA, and production's demands.

Real nats-servers with real certificates: a client with the right credentials and CA gets in;
a wrong password, a foreign CA, a plaintext server where TLS is expected, or a missing client
certificate is refused; production mode refuses to start without credentials and TLS.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import ssl
import subprocess
import sys
import urllib.request
from collections.abc import Callable
from pathlib import Path

import nats
import nkeys
import pytest
from nats.aio.client import Client as NATS

from beez.kit.bus.connect import connect
from beez.kit.bus.credentials import InsecureNatsConfiguration, NatsCredentials, inbox_prefix
from beez.kit.embedded import EmbeddedNats, NatsServerTls
from beez.kit.runtime import nats_credentials
from beez.kit.settings import ServiceSettings
from beez.kit.tls import TlsFiles, write_bundle
from tests.kit.bus.nats_auth import auth_nats
from tests.kit.bus.nats_jwt import decentralized, keypair


async def once(url: str, credentials: NatsCredentials) -> NATS:
    """One connection attempt with ``credentials`` (no retrying, unlike the services' connect).

    A refused attempt closes its client: nats-py leaves it connecting otherwise, and its
    ``close`` can then wait forever on a TLS handshake that failed, hence the bound.
    """
    nc = NATS()
    try:
        await nc.connect(
            url,
            allow_reconnect=False,
            max_reconnect_attempts=0,
            connect_timeout=3,
            inbox_prefix=inbox_prefix(credentials.user or "anyone"),
            **credentials.connect_options(url),
        )
    except BaseException:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(nc.close(), timeout=2)
        raise
    return nc


async def roundtrip(nc: NATS) -> None:
    """A PING answered: the session is established and authorized."""
    await nc.flush(timeout=2)
    assert nc.is_connected


def tls_connections(server: EmbeddedNats) -> list[str]:
    """The TLS version of each client connection, as the server's monitor reports it."""
    with urllib.request.urlopen(f"http://127.0.0.1:{server.monitor_port}/connz", timeout=2) as resp:
        return [c.get("tls_version", "") for c in json.load(resp)["connections"]]


@pytest.fixture
def pki(tmp_path: Path) -> dict[str, TlsFiles]:
    """A throwaway CA and certificates for the nats-server and two clients."""
    return write_bundle(tmp_path / "pki", ["nats", "trigger", "analytics"])


@pytest.fixture
def server_cert(pki: dict[str, TlsFiles]) -> TlsFiles:
    return pki["nats"]


async def test_a_service_logs_in_with_user_and_password_from_a_file(tmp_path: Path) -> None:
    async with auth_nats(tmp_path / "nats") as server:
        secret = tmp_path / "password"
        secret.write_text(server.passwords["executor"] + "\n")  # as `echo` or an editor leaves it
        nc = await once(server.server.url, NatsCredentials(user="executor", password_file=str(secret)))
        await nc.close()
        with pytest.raises(nats.errors.Error, match="Authorization Violation"):
            await once(server.server.url, NatsCredentials(user="executor", password="wrong"))
        with pytest.raises(nats.errors.Error, match="Authorization Violation"):
            await once(server.server.url, NatsCredentials())  # anonymous


async def test_a_client_logs_in_with_an_nkey_seed_file(tmp_path: Path) -> None:
    user, seed = keypair(nkeys.PREFIX_BYTE_USER)
    seed_file = tmp_path / "user.nk"
    seed_file.write_bytes(seed)
    auth = f'authorization {{\n  users: [ {{ nkey: "{user.public_key.decode()}" }} ]\n}}\n'
    server = EmbeddedNats(tmp_path / "nats", authorization=auth).start()
    try:
        nc = await once(server.url, NatsCredentials(nkey_seed_file=str(seed_file)))
        await roundtrip(nc)
        await nc.close()
        _, other_seed = keypair(nkeys.PREFIX_BYTE_USER)
        seed_file.write_bytes(other_seed)
        with pytest.raises(nats.errors.Error, match="Authorization Violation"):
            await once(server.url, NatsCredentials(nkey_seed_file=str(seed_file)))
    finally:
        server.stop()


async def test_a_client_logs_in_with_a_creds_file(tmp_path: Path) -> None:
    trust = decentralized(tmp_path)
    server = EmbeddedNats(tmp_path / "nats", authorization=trust.server_config).start()
    try:
        nc = await once(server.url, NatsCredentials(creds_file=str(trust.creds_file)))
        await roundtrip(nc)
        await nc.close()
        with pytest.raises(nats.errors.Error, match="Authorization Violation"):
            await once(server.url, NatsCredentials())
    finally:
        server.stop()


async def test_tls_verified_against_the_ca_and_nothing_in_the_clear(
    tmp_path: Path, server_cert: TlsFiles
) -> None:
    tls = NatsServerTls(server_cert.cert_file, server_cert.key_file)
    async with auth_nats(tmp_path / "nats", tls=tls, ca_file=server_cert.ca_file) as server:
        assert server.server.url.startswith("tls://")
        nc = await once(server.server.url, server.credentials("trigger"))
        await roundtrip(nc)
        assert tls_connections(server.server) == ["1.3"]
        await nc.close()
        foreign = write_bundle(tmp_path / "foreign", ["nats"])["nats"]
        with pytest.raises(ssl.SSLCertVerificationError, match="CERTIFICATE_VERIFY_FAILED"):
            await once(
                server.server.url,
                NatsCredentials(user="trigger", password="x", tls_ca_file=str(foreign.ca_file)),
            )
        # a nats:// URL with a CA configured is TLS too: the CA alone asks for it
        plain_url = server.server.url.replace("tls://", "nats://")
        nc = await once(plain_url, server.credentials("trigger"))
        await nc.close()


async def test_a_client_expecting_tls_refuses_a_plaintext_server(
    tmp_path: Path, server_cert: TlsFiles
) -> None:
    async with auth_nats(tmp_path / "nats") as server:  # no TLS
        with pytest.raises(ssl.SSLError, match="WRONG_VERSION_NUMBER"):  # not TLS: nothing sent
            await once(
                server.server.url,
                NatsCredentials(
                    user="trigger", password=server.passwords["trigger"], tls_ca_file=str(server_cert.ca_file)
                ),
            )


async def test_client_certificates_when_the_server_requires_them(
    tmp_path: Path, pki: dict[str, TlsFiles]
) -> None:
    server_cert, client = pki["nats"], pki["trigger"]
    tls = NatsServerTls(server_cert.cert_file, server_cert.key_file, client_ca_file=server_cert.ca_file)
    async with auth_nats(tmp_path / "nats", tls=tls, ca_file=server_cert.ca_file) as server:
        with_cert = NatsCredentials(
            user="trigger",
            password=server.passwords["trigger"],
            tls_ca_file=str(client.ca_file),
            tls_cert_file=str(client.cert_file),
            tls_key_file=str(client.key_file),
        )
        nc = await once(server.server.url, with_cert)
        await roundtrip(nc)
        await nc.close()
        with pytest.raises(ssl.SSLError, match="CERTIFICATE_REQUIRED"):
            await once(server.server.url, server.credentials("trigger"))


async def test_connect_logs_the_server_without_the_password(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from beez.kit.logging import configure_logging

    configure_logging("test", "INFO")
    async with auth_nats(tmp_path / "nats") as server:
        password = server.passwords["platform"]
        url = server.server.url.replace("nats://", f"nats://platform:{password}@")
        nc = await connect(url, "test-redaction")
        await nc.close()
    out = capsys.readouterr().out
    assert "nats connected" in out
    assert "platform:***@127.0.0.1" in out
    assert password not in out


@pytest.fixture
def production(pki: dict[str, TlsFiles]) -> Callable[..., ServiceSettings]:
    """Settings in production mode with gRPC's mutual TLS files in place, and the NATS ones given."""
    grpc_tls = pki["trigger"]

    def settings(**env: str) -> ServiceSettings:
        return ServiceSettings.model_validate(
            {
                "local_mode": False,
                "tls_cert_file": str(grpc_tls.cert_file),
                "tls_key_file": str(grpc_tls.key_file),
                "tls_ca_file": str(grpc_tls.ca_file),
                **env,
            }
        )

    return settings


def test_production_without_credentials_or_tls_refuses_naming_the_settings(
    production: Callable[..., ServiceSettings],
) -> None:
    with pytest.raises(InsecureNatsConfiguration) as refused:
        nats_credentials(production(nats_url="nats://nats:4222"))
    message = str(refused.value)
    for setting in (
        "BEEZ_NATS_USER",
        "BEEZ_NATS_PASSWORD_FILE",
        "BEEZ_NATS_CREDS_FILE",
        "BEEZ_NATS_TLS_CA_FILE",
    ):
        assert setting in message
    with pytest.raises(InsecureNatsConfiguration, match="no NATS TLS"):
        nats_credentials(production(nats_user="trigger", nats_password="x"))
    with pytest.raises(InsecureNatsConfiguration, match="no NATS credentials"):
        nats_credentials(production(nats_tls_ca_file="/ca.crt"))
    with pytest.raises(InsecureNatsConfiguration, match="carries credentials"):
        nats_credentials(
            production(nats_url="tls://trigger:secret@nats:4222", nats_user="trigger", nats_password="x")
        )
    ok = nats_credentials(
        production(nats_user="trigger", nats_password_file="/pw", nats_tls_ca_file="/ca.crt")
    )
    assert ok.user == "trigger"
    assert nats_credentials(production(nats_url="tls://nats:4222", nats_creds_file="/t.creds")).creds_file
    assert "x" not in repr(NatsCredentials(user="u", password="x"))  # a password never in a repr


def test_local_mode_needs_nothing() -> None:
    settings = ServiceSettings.model_validate({"local_mode": True})
    assert nats_credentials(settings) == NatsCredentials()


def test_a_service_in_production_mode_without_nats_credentials_exits_with_the_reason(
    pki: dict[str, TlsFiles],
) -> None:
    grpc_cert = pki["analytics"]
    env = {
        **os.environ,
        "BEEZ_LOCAL_MODE": "false",
        "BEEZ_NATS_URL": "nats://127.0.0.1:1",
        # what production asks of other hops, so that this refusal is NATS's
        **grpc_cert.env(),
        "BEEZ_DATABASE_ALLOW_INSECURE": "true",
        "BEEZ_OTLP_INSECURE": "true",
    }
    for name in list(env):
        if name.startswith("BEEZ_NATS_") and name != "BEEZ_NATS_URL":
            del env[name]
    done = subprocess.run(
        [sys.executable, "-m", "beez.analytics"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2, done.stderr[-2000:]
    assert "BEEZ_NATS_USER" in done.stderr and "BEEZ_NATS_TLS_CA_FILE" in done.stderr
