"""Where the keys come from: a JWKS URL (cached, refetched once on an unknown kid), a JWKS file,
or an explicitly configured HS256 secret; and production refusing to start without them."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import jwt
import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer

from beez.gateway import create_app
from beez.gateway.auth_config import ConfigurationError, authenticator_from_settings
from beez.gateway.config import GatewaySettings
from tests.gateway.gateway_echo import ECHO_PERMISSIONS, SERVICE, Backend
from tests.gateway.gateway_support import HttpClient
from tests.gateway.jwt_support import (
    JwksServer,
    SigningKey,
    bearer,
    claims_for,
    gateway_tls,
    production_settings,
)

REPO = Path(__file__).resolve().parents[2]


async def gateway(backend: Backend, settings: GatewaySettings) -> TestClient:  # type: ignore[type-arg]
    auth = authenticator_from_settings(settings)
    app = create_app({SERVICE.full_name: backend.channel}, [SERVICE], auth=auth, permissions=ECHO_PERMISSIONS)
    client: HttpClient = TestClient(TestServer(app))
    await client.start_server()
    return client


@pytest_asyncio.fixture(loop_scope="session")
async def jwks() -> AsyncIterator[JwksServer]:
    server = JwksServer([SigningKey.rsa("k1")])
    await server.start()
    yield server
    await server.stop()


async def test_keys_are_fetched_once_and_a_rotated_kid_triggers_one_refetch(
    backend: Backend, jwks: JwksServer
) -> None:
    old, new = jwks.keys[0], SigningKey.ec("k2")
    client = await gateway(backend, production_settings(jwt_jwks_url=jwks.url))
    try:
        assert jwks.fetches == 1  # at start
        for _ in range(3):
            assert (await client.get("/v1/things/t1", headers=bearer(old.token()))).status == 200
        assert jwks.fetches == 1  # cached

        jwks.publish([old, new])  # the provider rotates: a new key appears
        assert (await client.get("/v1/things/t1", headers=bearer(new.token()))).status == 200
        assert jwks.fetches == 2  # one refetch for the unknown kid

        stranger = SigningKey.rsa("k-unknown")
        response = await client.get("/v1/things/t1", headers=bearer(stranger.token()))
        assert response.status == 401
        assert (await response.json())["message"] == "token signed by an unknown key"
        assert jwks.fetches == 2  # unknown kids cannot make the gateway hammer the provider
        assert (await client.get("/v1/things/t1", headers=bearer(old.token()))).status == 200
    finally:
        await client.close()


async def test_after_the_cooldown_an_unknown_kid_refetches_again(backend: Backend, jwks: JwksServer) -> None:
    jwks.fetches = 0
    client = await gateway(backend, production_settings(jwt_jwks_url=jwks.url, jwt_jwks_refresh_cooldown_s=0))
    try:
        late = SigningKey.rsa("k-late")
        assert (await client.get("/v1/things/t1", headers=bearer(late.token()))).status == 401
        jwks.publish([*jwks.keys, late])
        assert (await client.get("/v1/things/t1", headers=bearer(late.token()))).status == 200
        assert jwks.fetches == 3
    finally:
        await client.close()


async def test_symmetric_keys_in_a_jwks_are_not_trusted(backend: Backend, jwks: JwksServer) -> None:
    secret = b"s" * 40
    oct_key = {"kty": "oct", "kid": "k-oct", "alg": "HS256", "k": jwt.utils.base64url_encode(secret).decode()}
    jwks.publish(jwks.keys, extra=[oct_key])
    client = await gateway(backend, production_settings(jwt_jwks_url=jwks.url))
    try:
        token = jwt.encode(claims_for(), secret, algorithm="HS256", headers={"kid": "k-oct"})
        response = await client.get("/v1/things/t1", headers=bearer(token))
        assert response.status == 401
        assert (await response.json())["message"] == "token algorithm not accepted (accepted: RS256, ES256)"
    finally:
        await client.close()


async def test_an_unreachable_jwks_is_503_not_401(backend: Backend, jwks: JwksServer) -> None:
    jwks.failing = True
    client = await gateway(backend, production_settings(jwt_jwks_url=jwks.url))
    try:
        for _ in range(3):
            response = await client.get("/v1/things/t1", headers=bearer(jwks.keys[0].token()))
            assert response.status == 503
            assert (await response.json())["message"] == "cannot verify tokens right now; retry shortly"
        assert jwks.fetches == 1  # the failure at start is not retried by every request
    finally:
        jwks.failing = False
        await client.close()


async def test_keys_from_a_jwks_file(backend: Backend, tmp_path: Path) -> None:
    key = SigningKey.ec()
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [key.jwk]}))
    client = await gateway(backend, production_settings(jwt_jwks_file=str(path)))
    try:
        assert (await client.get("/v1/things/t1", headers=bearer(key.token()))).status == 200
        assert (
            await client.get("/v1/things/t1", headers=bearer(SigningKey.ec(key.kid).token()))
        ).status == 401
    finally:
        await client.close()


async def test_hs256_only_with_its_secret_configured(backend: Backend, tmp_path: Path) -> None:
    secret = os.urandom(32).hex().encode()
    path = tmp_path / "hs256"
    path.write_bytes(secret + b"\n")
    client = await gateway(backend, production_settings(jwt_hs256_secret_file=str(path)))
    try:
        good = jwt.encode(claims_for(), secret, algorithm="HS256")
        assert (await client.get("/v1/things/t1", headers=bearer(good))).status == 200
        forged = jwt.encode(claims_for(), b"x" * 64, algorithm="HS256")
        assert (await client.get("/v1/things/t1", headers=bearer(forged))).status == 401
        rsa_signed = SigningKey.rsa().token()
        response = await client.get("/v1/things/t1", headers=bearer(rsa_signed))
        assert (await response.json())["message"] == "token algorithm not accepted (accepted: HS256)"
    finally:
        await client.close()


def test_production_without_jwt_settings_names_each_missing_setting() -> None:
    with pytest.raises(ConfigurationError) as err:
        authenticator_from_settings(GatewaySettings(local_mode=False, **gateway_tls()))
    message = str(err.value)
    for name in ("BEEZ_JWT_JWKS_URL", "BEEZ_JWT_JWKS_FILE", "BEEZ_JWT_ISSUER", "BEEZ_JWT_AUDIENCE"):
        assert name in message


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"jwt_jwks_url": "http://idp.example/jwks"}, "BEEZ_JWT_JWKS_URL must be an https:// URL"),
        ({"jwt_jwks_file": "/nonexistent/jwks.json"}, "BEEZ_JWT_JWKS_FILE: cannot read"),
        ({"jwt_hs256_secret_file": "/nonexistent/secret"}, "BEEZ_JWT_HS256_SECRET_FILE: cannot read"),
    ],
)
def test_unusable_key_settings_are_refused(settings: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigurationError, match=named):
        authenticator_from_settings(production_settings(**settings))


def test_a_short_hs256_secret_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "short"
    path.write_bytes(b"too-short")
    with pytest.raises(ConfigurationError, match="at least 32 bytes"):
        authenticator_from_settings(production_settings(jwt_hs256_secret_file=str(path)))


def test_the_gateway_process_refuses_to_start_in_production_without_jwt_settings() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BEEZ_")}
    env.update({"BEEZ_LOCAL_MODE": "false", "BEEZ_HTTP_PORT": "0"})
    env.update({f"BEEZ_{name.upper()}": value for name, value in gateway_tls().items()})
    done = subprocess.run(
        [sys.executable, "-m", "beez.gateway"], env=env, cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert "BEEZ_JWT_ISSUER is required" in done.stderr
    assert "BEEZ_JWT_JWKS_URL" in done.stderr


async def test_keys_are_refetched_when_the_cache_expires_and_kept_when_that_fails(
    backend: Backend, jwks: JwksServer
) -> None:
    key = jwks.keys[0]
    client = await gateway(backend, production_settings(jwt_jwks_url=jwks.url, jwt_jwks_cache_s=0.2))
    try:
        assert jwks.fetches == 1
        await asyncio.sleep(0.25)
        assert (await client.get("/v1/things/t1", headers=bearer(key.token()))).status == 200
        assert jwks.fetches == 2
        jwks.failing = True
        await asyncio.sleep(0.25)
        assert (await client.get("/v1/things/t1", headers=bearer(key.token()))).status == 200
        assert jwks.fetches == 3  # tried, failed, kept the keys it held
    finally:
        jwks.failing = False
        await client.close()
