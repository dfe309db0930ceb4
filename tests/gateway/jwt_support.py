"""Token machinery of the gateway's production-mode tests: signing keys, tokens and a JWKS server.

The JWKS is served by a real aiohttp server on 127.0.0.1 that counts its requests, so tests can
see when the gateway fetches keys; :meth:`JwksServer.publish` rotates the keys it serves.
"""

from __future__ import annotations

import functools
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
from aiohttp import web
from aiohttp.test_utils import TestServer
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from beez.gateway.config import GatewaySettings
from beez.kit.tls import write_bundle

ISSUER = "https://idp.test/"
AUDIENCE = "beez-api"


@dataclass(frozen=True)
class SigningKey:
    """A private key, its kid and algorithm; :attr:`jwk` is the public half as a JWKS entry."""

    kid: str
    alg: str
    private: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

    @classmethod
    def rsa(cls, kid: str | None = None) -> SigningKey:
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return cls(kid or f"rsa-{uuid.uuid4().hex[:8]}", "RS256", private)

    @classmethod
    def ec(cls, kid: str | None = None) -> SigningKey:
        return cls(kid or f"ec-{uuid.uuid4().hex[:8]}", "ES256", ec.generate_private_key(ec.SECP256R1()))

    @property
    def jwk(self) -> dict[str, Any]:
        public = self.private.public_key()
        if isinstance(public, rsa.RSAPublicKey):
            entry: dict[str, Any] = RSAAlgorithm.to_jwk(public, as_dict=True)
        else:
            entry = ECAlgorithm.to_jwk(public, as_dict=True)
        return {**entry, "kid": self.kid, "alg": self.alg, "use": "sig"}

    def token(self, *, kid: str | None = None, **claims: Any) -> str:
        """A token signed by this key; ``claims`` override :func:`claims_for`'s defaults."""
        return jwt.encode(
            claims_for(**claims), self.private, algorithm=self.alg, headers={"kid": kid or self.kid}
        )


def claims_for(**overrides: Any) -> dict[str, Any]:
    """Valid claims for org ``org-a``, user ``u_alice`` with the editor role; None drops a claim."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "u_alice",
        "org_id": "org-a",
        "roles": ["editor"],
        "iat": now,
        "exp": now + 300,
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class JwksServer:
    """A JWKS endpoint on a real local HTTP server; :attr:`fetches` counts GETs."""

    keys: list[SigningKey]
    fetches: int = 0
    server: TestServer | None = None
    failing: bool = False
    _extra: list[dict[str, Any]] = field(default_factory=list)

    @property
    def url(self) -> str:
        assert self.server is not None and self.server.port is not None
        return f"http://127.0.0.1:{self.server.port}/.well-known/jwks.json"

    def publish(self, keys: Sequence[SigningKey], extra: Sequence[dict[str, Any]] = ()) -> None:
        """Serves ``keys`` (plus raw JWK entries ``extra``) from now on."""
        self.keys = list(keys)
        self._extra = list(extra)

    async def _serve(self, _: web.Request) -> web.Response:
        self.fetches += 1
        if self.failing:
            return web.Response(status=503)
        return web.json_response({"keys": [k.jwk for k in self.keys] + self._extra})

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/.well-known/jwks.json", self._serve)
        self.server = TestServer(app, host="127.0.0.1")
        await self.server.start_server()

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.close()


@functools.cache
def gateway_tls() -> dict[str, Any]:
    """Settings naming a throwaway certificate for the gateway (production requires mutual TLS)."""
    files = write_bundle(Path(tempfile.mkdtemp(prefix="beez-gw-tls-")), ["gateway"])["gateway"]
    return {
        "tls_cert_file": str(files.cert_file),
        "tls_key_file": str(files.key_file),
        "tls_ca_file": str(files.ca_file),
    }


def production_settings(**overrides: Any) -> GatewaySettings:
    """Production gateway settings with the test issuer and audience."""
    values: dict[str, Any] = {
        "local_mode": False,
        "jwt_issuer": ISSUER,
        "jwt_audience": AUDIENCE,
        **gateway_tls(),
        **overrides,
    }
    return GatewaySettings(**values)
