"""Production mode: every request needs a verified bearer JWT; roles decide what it may call.

Real parts throughout: the gateway app over HTTP, the EchoService backend over gRPC (it records
the metadata it receives), and the identity provider's JWKS on a real local HTTP server.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer

from beez.gateway import create_app
from beez.gateway.auth_config import authenticator_from_settings
from tests.gateway.gateway_echo import ECHO_PERMISSIONS, SERVICE, Backend
from tests.gateway.gateway_support import HttpClient
from tests.gateway.jwt_support import (
    AUDIENCE,
    ISSUER,
    JwksServer,
    SigningKey,
    bearer,
    claims_for,
    production_settings,
)


@dataclass
class Prod:
    """A production gateway in front of the echo backend, trusting the keys ``jwks`` serves."""

    http: HttpClient
    backend: Backend
    jwks: JwksServer
    key: SigningKey


@pytest_asyncio.fixture(loop_scope="session")
async def prod(backend: Backend) -> AsyncIterator[Prod]:
    key = SigningKey.rsa()
    jwks = JwksServer([key])
    await jwks.start()
    auth = authenticator_from_settings(production_settings(jwt_jwks_url=jwks.url))
    app = create_app({SERVICE.full_name: backend.channel}, [SERVICE], auth=auth, permissions=ECHO_PERMISSIONS)
    backend.calls.clear()
    async with TestClient(TestServer(app)) as client:
        yield Prod(client, backend, jwks, key)
    await jwks.stop()


async def refusal(prod: Prod, headers: dict[str, str], path: str = "/v1/things/t1") -> str:
    """Asserts a 401 with the bearer challenge and no backend call; returns the reason."""
    response = await prod.http.get(path, headers=headers)
    assert response.status == 401
    body = await response.json()
    assert body["code"] == 16
    assert response.headers["WWW-Authenticate"].startswith('Bearer realm="beez"')
    token = headers.get("Authorization", "").partition(" ")[2]
    if token:
        assert token not in await response.text()
        assert token not in response.headers["WWW-Authenticate"]
    assert prod.backend.calls == []
    reason: str = body["message"]
    return reason


async def test_a_verified_token_sets_the_identity_the_backend_sees(prod: Prod) -> None:
    token = prod.key.token(roles=["viewer", "editor"])
    headers = {**bearer(token), "X-Org-Id": "org-b", "X-User-Id": "mallory", "X-Roles": "admin"}
    response = await prod.http.get("/v1/things/t1", headers=headers)
    assert response.status == 200
    metadata = prod.backend.calls[0].metadata
    assert (metadata["x-org-id"], metadata["x-user-id"], metadata["x-roles"]) == (
        "org-a",
        "u_alice",
        "viewer,editor",
    )
    assert "authorization" not in metadata


async def test_no_token_is_401_with_a_bearer_challenge(prod: Prod) -> None:
    assert "missing bearer token" in await refusal(prod, {"X-Org-Id": "org-a"})
    response = await prod.http.get("/v1/things/t1")
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="beez"'


async def test_a_token_forged_with_another_key_is_refused(prod: Prod) -> None:
    forger = SigningKey.rsa(kid=prod.key.kid)
    assert await refusal(prod, bearer(forger.token(roles=["admin"]))) == "token signature does not verify"


async def test_an_expired_token_is_refused(prod: Prod) -> None:
    token = prod.key.token(exp=claims_for()["iat"] - 120)  # beyond the 30 s leeway
    assert await refusal(prod, bearer(token)) == "token expired"


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"aud": "another-api"}, "token audience not accepted"),
        ({"iss": "https://evil.test/"}, "token issuer not accepted"),
        ({"exp": None}, "token has no exp claim"),
        ({"aud": None}, "token has no aud claim"),
        ({"org_id": None}, "token has no usable org_id claim (1-64 of A-Z, a-z, 0-9, '_', '-')"),
        ({"org_id": "org.*"}, "token has no usable org_id claim (1-64 of A-Z, a-z, 0-9, '_', '-')"),
        ({"sub": None}, "token has no usable sub claim (printable ASCII)"),
    ],
)
async def test_claims_are_checked(prod: Prod, claims: dict[str, Any], reason: str) -> None:
    assert await refusal(prod, bearer(prod.key.token(**claims))) == reason


async def test_a_token_not_valid_yet_is_refused_beyond_the_leeway(prod: Prod) -> None:
    now = claims_for()["iat"]
    assert await refusal(prod, bearer(prod.key.token(nbf=now + 120))) == "token not valid yet (nbf)"
    response = await prod.http.get("/v1/things/t1", headers=bearer(prod.key.token(nbf=now + 10)))
    assert response.status == 200  # within the 30 s leeway


async def test_an_expiry_within_the_leeway_is_accepted(prod: Prod) -> None:
    response = await prod.http.get(
        "/v1/things/t1", headers=bearer(prod.key.token(exp=claims_for()["iat"] - 10))
    )
    assert response.status == 200


async def test_algorithm_confusion_and_unsigned_tokens_are_refused(prod: Prod) -> None:
    from cryptography.hazmat.primitives import serialization

    public_pem = prod.key.private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    hs = hand_signed_hs256(claims_for(), public_pem, prod.key.kid)
    assert await refusal(prod, bearer(hs)) == "token algorithm not accepted (accepted: RS256, ES256)"
    unsigned = compact({"alg": "none", "kid": prod.key.kid}, claims_for(), lambda _: b"")
    assert await refusal(prod, bearer(unsigned)) == "token algorithm not accepted (accepted: RS256, ES256)"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def compact(header: dict[str, Any], claims: dict[str, Any], sign: Callable[[bytes], bytes]) -> str:
    """A JWS in compact form, built by hand (PyJWT refuses to build the broken ones tested here)."""
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    return f"{signing_input}.{_b64(sign(signing_input.encode()))}"


def hand_signed_hs256(claims: dict[str, Any], secret: bytes, kid: str) -> str:
    """An HS256 token keyed with ``secret``, even a public key (the algorithm-confusion attack)."""
    header = {"alg": "HS256", "typ": "JWT", "kid": kid}
    return compact(header, claims, lambda data: hmac.new(secret, data, hashlib.sha256).digest())


@pytest.mark.parametrize(
    "authorization", ["Basic dXNlcjpwdw==", "Bearer", "Bearer not-a-jwt", "Bearer a.b.c"]
)
async def test_malformed_credentials_are_refused(prod: Prod, authorization: str) -> None:
    reason = await refusal(prod, {"Authorization": authorization})
    assert reason in ("malformed token", "malformed Authorization header: expected Bearer <JWT>")


async def test_a_viewer_may_read_but_not_delete(prod: Prod) -> None:
    viewer = bearer(prod.key.token(roles=["viewer"]))
    assert (await prod.http.get("/v1/things/t1", headers=viewer)).status == 200
    prod.backend.calls.clear()
    response = await prod.http.delete("/v1/things/t1", headers=viewer)
    assert response.status == 403
    assert await response.json() == {"code": 7, "message": "DeleteThing needs the editor role", "details": []}
    assert prod.backend.calls == []


async def test_an_editor_deletes(prod: Prod) -> None:
    response = await prod.http.delete("/v1/things/t1", headers=bearer(prod.key.token(roles=["editor"])))
    assert response.status == 200
    assert prod.backend.calls[0].rpc == "DeleteThing"


async def test_an_admin_only_rpc_is_refused_to_an_editor_and_served_to_an_admin(prod: Prod) -> None:
    editor = await prod.http.request(
        "REPORT", "/v1/things:report", headers=bearer(prod.key.token(roles=["editor"]))
    )
    assert editor.status == 403
    assert (await editor.json())["message"] == "ReportThings needs the admin role"
    assert prod.backend.calls == []
    admin = await prod.http.request(
        "REPORT", "/v1/things:report", headers=bearer(prod.key.token(roles="admin"))
    )
    assert admin.status == 200
    assert prod.backend.calls[0].metadata["x-roles"] == "admin"


async def test_a_token_without_known_roles_may_call_nothing(prod: Prod) -> None:
    response = await prod.http.get("/v1/things/t1", headers=bearer(prod.key.token(roles=["owner"])))
    assert response.status == 403


async def test_health_and_the_openapi_document_need_no_token(prod: Prod) -> None:
    assert (await prod.http.get("/healthz")).status == 200
    document = await (await prod.http.get("/openapi.json")).json()
    assert document["security"] == [{"bearerAuth": []}]
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert "parameters" not in document["components"]


def test_issuer_and_audience_come_from_the_settings() -> None:
    settings = production_settings(jwt_jwks_url="http://127.0.0.1:1/jwks")
    assert (settings.jwt_issuer, settings.jwt_audience, settings.jwt_leeway_s) == (ISSUER, AUDIENCE, 30)


async def test_the_organization_user_and_roles_come_from_the_configured_claims(backend: Backend) -> None:
    """An identity provider with its own claim names (a namespaced organization, the user's email,
    Keycloak's nested ``realm_access.roles``) and no clock leeway: the defaults are not read."""
    key = SigningKey.rsa()
    jwks = JwksServer([key])
    await jwks.start()
    settings = production_settings(
        jwt_jwks_url=jwks.url,
        jwt_org_claim="https://beez.example/org",
        jwt_user_claim="email",
        jwt_roles_claim="realm_access.roles",
        jwt_leeway_s=0,
    )
    app = create_app(
        {SERVICE.full_name: backend.channel},
        [SERVICE],
        auth=authenticator_from_settings(settings),
        permissions=ECHO_PERMISSIONS,
    )
    backend.calls.clear()
    try:
        async with TestClient(TestServer(app)) as http:
            theirs: dict[str, Any] = {
                "https://beez.example/org": "org-z",
                "email": "zoe@example.com",
                "realm_access": {"roles": ["offline_access", "viewer"]},
            }
            # org_id, sub and roles (the defaults, here naming another organization and admin) are ignored
            response = await http.get("/v1/things/t1", headers=bearer(key.token(**theirs, roles=["admin"])))
            assert response.status == 200
            metadata = backend.calls[0].metadata
            assert (metadata["x-org-id"], metadata["x-user-id"], metadata["x-roles"]) == (
                "org-z",
                "zoe@example.com",
                "viewer",
            )
            assert (await http.delete("/v1/things/t1", headers=bearer(key.token(**theirs)))).status == 403

            defaults_only = await http.get("/v1/things/t1", headers=bearer(key.token()))
            assert defaults_only.status == 401
            assert (await defaults_only.json())["message"] == (
                "token has no usable https://beez.example/org claim (1-64 of A-Z, a-z, 0-9, '_', '-')"
            )
            # no leeway configured: 10 s past its expiry is expired (the default 30 s would accept it)
            late = key.token(**theirs, exp=claims_for()["iat"] - 10)
            expired = await http.get("/v1/things/t1", headers=bearer(late))
            assert (expired.status, (await expired.json())["message"]) == (401, "token expired")
    finally:
        await jwks.stop()
