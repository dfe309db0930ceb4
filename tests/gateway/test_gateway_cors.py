"""CORS: the configured origins only, never ``*``; preflights answered before authentication."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer

from beez.gateway import create_app
from beez.gateway.auth_config import authenticator_from_settings
from beez.gateway.cors import cors_middleware
from tests.gateway.gateway_echo import ECHO_PERMISSIONS, SERVICE, Backend
from tests.gateway.gateway_support import HttpClient
from tests.gateway.jwt_support import JwksServer, SigningKey, bearer, production_settings

APP_ORIGIN = "https://app.beez.test"
PREFLIGHT = {"Access-Control-Request-Method": "DELETE", "Access-Control-Request-Headers": "authorization"}


@pytest_asyncio.fixture(loop_scope="session")
async def cors_gateway(backend: Backend) -> AsyncIterator[tuple[HttpClient, SigningKey]]:
    key = SigningKey.rsa()
    jwks = JwksServer([key])
    await jwks.start()
    settings = production_settings(
        jwt_jwks_url=jwks.url, cors_origins=f"{APP_ORIGIN}/, https://admin.beez.test"
    )
    app = create_app(
        {SERVICE.full_name: backend.channel},
        [SERVICE],
        auth=authenticator_from_settings(settings),
        permissions=ECHO_PERMISSIONS,
        cors_origins=settings.cors_origin_list,
    )
    async with TestClient(TestServer(app)) as client:
        yield client, key
    await jwks.stop()


async def test_a_listed_origin_gets_its_preflight_answered(
    cors_gateway: tuple[HttpClient, SigningKey],
) -> None:
    http, _ = cors_gateway
    response = await http.options("/v1/things/t1", headers={"Origin": APP_ORIGIN, **PREFLIGHT})
    assert response.status == 204
    assert response.headers["Access-Control-Allow-Origin"] == APP_ORIGIN
    assert "DELETE" in response.headers["Access-Control-Allow-Methods"]
    assert "Authorization" in response.headers["Access-Control-Allow-Headers"]
    assert (
        "X-Org-Id" not in response.headers["Access-Control-Allow-Headers"]
    )  # production: no identity headers
    assert "Access-Control-Allow-Credentials" not in response.headers


async def test_another_origin_gets_no_cors_headers(cors_gateway: tuple[HttpClient, SigningKey]) -> None:
    http, key = cors_gateway
    preflight = await http.options("/v1/things/t1", headers={"Origin": "https://evil.test", **PREFLIGHT})
    assert preflight.status == 403
    assert "Access-Control-Allow-Origin" not in preflight.headers
    response = await http.get("/v1/things/t1", headers={"Origin": "https://evil.test", **bearer(key.token())})
    assert response.status == 200
    assert "Access-Control-Allow-Origin" not in response.headers


async def test_answers_and_errors_to_a_listed_origin_carry_its_name(
    cors_gateway: tuple[HttpClient, SigningKey],
) -> None:
    http, key = cors_gateway
    ok = await http.get("/v1/things/t1", headers={"Origin": APP_ORIGIN, **bearer(key.token())})
    assert ok.headers["Access-Control-Allow-Origin"] == APP_ORIGIN
    assert ok.headers["Vary"] == "Origin"
    refused = await http.get("/v1/things/t1", headers={"Origin": APP_ORIGIN})
    assert refused.status == 401
    assert refused.headers["Access-Control-Allow-Origin"] == APP_ORIGIN


async def test_without_configured_origins_there_are_no_cors_headers(backend: Backend) -> None:
    from beez.gateway.authn import LocalHeaders

    app = create_app(
        {SERVICE.full_name: backend.channel}, [SERVICE], auth=LocalHeaders(), permissions=ECHO_PERMISSIONS
    )
    async with TestClient(TestServer(app)) as http:
        response = await http.options("/v1/things/t1", headers={"Origin": APP_ORIGIN, **PREFLIGHT})
        assert "Access-Control-Allow-Origin" not in response.headers
        assert response.status == 403


def test_a_wildcard_origin_is_refused() -> None:
    with pytest.raises(ValueError, match="'\\*' is not accepted"):
        cors_middleware(["*"], allow_headers=["Authorization"])
