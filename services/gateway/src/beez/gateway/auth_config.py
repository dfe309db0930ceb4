"""The gateway's authenticator from its settings; production refuses to start half-configured.

Local mode trusts headers (and says so loudly at start). Production needs a key source
(``BEEZ_JWT_JWKS_URL``, ``BEEZ_JWT_JWKS_FILE`` and/or ``BEEZ_JWT_HS256_SECRET_FILE``), an issuer
and an audience; whatever is missing is named in one :class:`ConfigurationError`.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from beez.gateway.authn import Authenticator, BearerTokens, LocalHeaders
from beez.gateway.config import GatewaySettings
from beez.gateway.jwks import JwksFile, KeySource, RemoteJwks
from beez.gateway.tokens import ClaimNames, TokenVerifier

MIN_HS256_SECRET_BYTES = 32
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


class ConfigurationError(Exception):
    """The settings cannot run the gateway; the message names each setting to fix."""


def authenticator_from_settings(settings: GatewaySettings) -> Authenticator:
    """:class:`LocalHeaders` in local mode, else :class:`BearerTokens`; raises :class:`ConfigurationError`."""
    if settings.local_mode:
        return LocalHeaders()
    problems: list[str] = []
    if not (settings.jwt_jwks_url or settings.jwt_jwks_file or settings.jwt_hs256_secret_file):
        problems.append(
            "BEEZ_JWT_JWKS_URL or BEEZ_JWT_JWKS_FILE (or BEEZ_JWT_HS256_SECRET_FILE) is required: "
            "the keys that sign tokens"
        )
    if not settings.jwt_issuer:
        problems.append("BEEZ_JWT_ISSUER is required: the iss claim tokens must carry")
    if not settings.jwt_audience:
        problems.append("BEEZ_JWT_AUDIENCE is required: the aud claim tokens must carry")
    if settings.jwt_jwks_url and settings.jwt_jwks_file:
        problems.append("set only one of BEEZ_JWT_JWKS_URL and BEEZ_JWT_JWKS_FILE")
    keys: KeySource | None = None
    secret: bytes | None = None
    if not problems:
        try:
            keys = _key_source(settings)
            secret = _hs256_secret(settings.jwt_hs256_secret_file)
        except ValueError as exc:
            problems.append(str(exc))
    if problems:
        raise ConfigurationError(
            "the gateway runs in production mode (BEEZ_LOCAL_MODE is false) and needs JWT settings:\n  "
            + "\n  ".join(problems)
        )
    verifier = TokenVerifier(
        keys=keys,
        hs256_secret=secret,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        leeway_s=settings.jwt_leeway_s,
        claims=ClaimNames(settings.jwt_org_claim, settings.jwt_user_claim, settings.jwt_roles_claim),
    )
    return BearerTokens(verifier)


def _key_source(settings: GatewaySettings) -> KeySource | None:
    if settings.jwt_jwks_url:
        url = urlsplit(settings.jwt_jwks_url)
        if url.scheme != "https" and not (url.scheme == "http" and url.hostname in LOOPBACK):
            raise ValueError("BEEZ_JWT_JWKS_URL must be an https:// URL (http:// only on loopback)")
        return RemoteJwks(
            settings.jwt_jwks_url,
            cache_s=settings.jwt_jwks_cache_s,
            refresh_cooldown_s=settings.jwt_jwks_refresh_cooldown_s,
        )
    if settings.jwt_jwks_file:
        try:
            return JwksFile(settings.jwt_jwks_file)
        except ValueError as exc:
            raise ValueError(f"BEEZ_JWT_JWKS_FILE: {exc}") from None
    return None


def _hs256_secret(path: str) -> bytes | None:
    if not path:
        return None
    try:
        secret = Path(path).read_bytes().strip()
    except OSError as exc:
        raise ValueError(f"BEEZ_JWT_HS256_SECRET_FILE: cannot read {path}: {exc.strerror}") from None
    if len(secret) < MIN_HS256_SECRET_BYTES:
        raise ValueError(
            f"BEEZ_JWT_HS256_SECRET_FILE: the secret must be at least {MIN_HS256_SECRET_BYTES} bytes"
        )
    return secret
