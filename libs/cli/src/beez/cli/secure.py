"""``beez up --tls``: the local stack in production mode, and what a caller needs to reach it.

``beez up`` alone is local mode: plaintext gRPC trusting any caller's ``x-org-id``, a gateway
taking ``X-Org-Id``. With ``--tls`` it runs what :meth:`beez.kit.stack.Stack.plan` calls a
secure stack (the one the test suite runs): a throwaway CA and a certificate per process under
``<state>/tls`` (written afresh at every start; the paths stay the same), every process in
production mode over mutual TLS, the embedded nats-server over TLS with a user per service. This
module adds what a person at the keyboard needs on top:

* the gateway verifies JWTs signed with an HS256 secret kept in ``<state>/jwt-hs256-secret``
  (made once, mode 0600), for the issuer and audience below;
* :func:`demo_token`: an admin token of the demo organization (the CLI's default ``org_demo``),
  signed with that secret and expiring after :data:`TOKEN_HOURS`, for ``BEEZ_TOKEN``;
* a ``developer`` certificate of the CA, listed as an allowed caller (a platform caller, as
  decision 0016 describes), so a gRPC client such as grpcurl can call the services directly;
* the ``beez-stack`` certificate, which may check health and nothing else: ``beez status --tls``.
"""

from __future__ import annotations

import datetime
import secrets
from pathlib import Path

import jwt

from beez.kit.stack import STACK_HOLDER
from beez.kit.tls import CALLERS, TlsFiles

TLS_DIR = "tls"
"""The secure stack's certificates, under the state directory."""
NATS_TLS_DIR = "nats"
"""The embedded nats-server's certificate (a CA of its own), under :data:`TLS_DIR`."""
SECRET_FILE = "jwt-hs256-secret"
DEVELOPER = "developer"
"""The certificate a person's gRPC client presents; an allowed caller of every service."""
ISSUER = "beez-up"
AUDIENCE = "beez-automations"
DEMO_ORG = "org_demo"
DEMO_USER = "u_demo"
TOKEN_HOURS = 12


def tls_dir(state_dir: Path) -> Path:
    return state_dir / TLS_DIR


def holder_files(state_dir: Path, holder: str) -> TlsFiles:
    """Where ``holder``'s certificate, key and the CA are in the state directory's bundle."""
    directory = tls_dir(state_dir)
    return TlsFiles(directory / f"{holder}.pem", directory / f"{holder}-key.pem", directory / "ca.pem")


def health_files(state_dir: Path) -> TlsFiles | None:
    """The bundle's health-check certificate (``beez-stack``), or None when there is no bundle."""
    files = holder_files(state_dir, STACK_HOLDER)
    return files if all(p.exists() for p in (files.cert_file, files.key_file, files.ca_file)) else None


def hs256_secret(state_dir: Path) -> Path:
    """The gateway's HS256 secret file (64 random characters, mode 0600), made once and kept, so
    a token stays good across restarts of the stack until it expires."""
    path = state_dir / SECRET_FILE
    if not path.exists() or len(path.read_bytes().strip()) < 32:
        path.touch(mode=0o600)
        path.chmod(0o600)
        path.write_text(secrets.token_urlsafe(48))
    return path


PROCESS_ENV = {"BEEZ_TLS_ALLOWED_CALLERS": ",".join([*CALLERS, DEVELOPER])}
"""What every process of a ``--tls`` stack gets besides the secure stack's own settings: the
services let the developer certificate act for an organization."""


def gateway_env(state_dir: Path) -> dict[str, str]:
    """The gateway's JWT settings (HS256 from the state directory's secret), on loopback only."""
    return {
        "BEEZ_JWT_HS256_SECRET_FILE": str(hs256_secret(state_dir)),
        "BEEZ_JWT_ISSUER": ISSUER,
        "BEEZ_JWT_AUDIENCE": AUDIENCE,
        "BEEZ_HTTP_HOST": "127.0.0.1",
    }


def demo_token(
    state_dir: Path, hours: float = TOKEN_HOURS, now: datetime.datetime | None = None
) -> tuple[str, datetime.datetime]:
    """An admin token of :data:`DEMO_ORG` for :data:`DEMO_USER`, and when it expires."""
    now = now or datetime.datetime.now(datetime.UTC)
    expires = now + datetime.timedelta(hours=hours)
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": DEMO_USER,
        "org_id": DEMO_ORG,
        "roles": ["admin"],
        "iat": now,
        "nbf": now,
        "exp": expires,
    }
    secret = hs256_secret(state_dir).read_bytes().strip()
    return jwt.encode(claims, secret, algorithm="HS256"), expires
