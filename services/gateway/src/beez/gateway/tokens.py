"""Verifying a bearer JWT and reading the caller's organization, user and roles from it.

The token's ``alg`` picks the key source: RS256/ES256 keys come from the JWKS (URL or file);
HS256 is accepted only when a shared secret is configured. The key fixes the algorithm that
verifies the signature, so a token cannot choose a weaker one. ``iss``, ``aud`` and ``exp`` are
required, ``nbf`` is checked when present, each with ``leeway_s`` of clock skew.

Every refusal is a :class:`TokenRejectedError` whose reason is one of a few fixed sentences:
nothing from the token (not even its header values) is ever echoed back or logged.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import jwt
from jwt import PyJWK

from beez.api.permissions import parse_roles
from beez.gateway.jwks import KeySource
from beez.kit.grpc.identity import Identity

_ORG_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_REQUIRED = ["exp", "iss", "aud"]


class TokenRejectedError(Exception):
    """The token is not acceptable; ``reason`` is safe to show the caller."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class ClaimNames:
    """Which claims carry the organization, the user and the roles.

    A name is looked up as a top-level claim first (``https://beez.example/roles`` works); if
    there is none, a dotted name walks nested objects (``realm_access.roles``).
    """

    org: str = "org_id"
    user: str = "sub"
    roles: str = "roles"


class TokenVerifier:
    """Checks a token's signature and claims and returns the :class:`Identity` it proves."""

    def __init__(
        self,
        *,
        keys: KeySource | None,
        hs256_secret: bytes | None,
        issuer: str,
        audience: str,
        leeway_s: float,
        claims: ClaimNames,
    ) -> None:
        if keys is None and hs256_secret is None:
            raise ValueError("a token verifier needs a key set or an HS256 secret")
        self.keys = keys
        self._hs256 = (
            PyJWK({"kty": "oct", "k": _b64url(hs256_secret)}, algorithm="HS256") if hs256_secret else None
        )
        self.issuer = issuer
        self.audience = audience
        self.leeway_s = leeway_s
        self.claims = claims

    @property
    def accepted_algorithms(self) -> list[str]:
        return (["RS256", "ES256"] if self.keys is not None else []) + (["HS256"] if self._hs256 else [])

    async def verify(self, token: str) -> Identity:
        """The identity ``token`` proves, or :class:`TokenRejectedError`.

        Raises :class:`~beez.gateway.jwks.KeySetUnavailableError` when the keys cannot be had.
        """
        key = await self._key(token)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[key.algorithm_name],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway_s,
                options={"require": _REQUIRED},
            )
        except jwt.ExpiredSignatureError:
            raise TokenRejectedError("token expired") from None
        except jwt.ImmatureSignatureError:
            raise TokenRejectedError("token not valid yet (nbf)") from None
        except jwt.InvalidAudienceError:
            raise TokenRejectedError("token audience not accepted") from None
        except jwt.InvalidIssuerError:
            raise TokenRejectedError("token issuer not accepted") from None
        except jwt.MissingRequiredClaimError as exc:
            raise TokenRejectedError(f"token has no {exc.claim} claim") from None
        except jwt.InvalidSignatureError:
            raise TokenRejectedError("token signature does not verify") from None
        except jwt.InvalidAlgorithmError:
            raise TokenRejectedError("token algorithm does not match its key") from None
        except jwt.PyJWTError:
            raise TokenRejectedError("malformed token") from None
        return self._identity(claims)

    async def _key(self, token: str) -> PyJWK:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise TokenRejectedError("malformed token") from None
        alg = header.get("alg")
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise TokenRejectedError("malformed token") from None
        if alg == "HS256" and self._hs256 is not None:
            return self._hs256
        if alg in ("RS256", "ES256") and self.keys is not None:
            key = await self.keys.signing_key(kid)
            if key is None:
                raise TokenRejectedError("token signed by an unknown key")
            return key
        accepted = ", ".join(self.accepted_algorithms)
        raise TokenRejectedError(f"token algorithm not accepted (accepted: {accepted})")

    def _identity(self, claims: dict[str, Any]) -> Identity:
        names = self.claims
        org = _claim(claims, names.org)
        if not isinstance(org, str) or not _ORG_ID.match(org):
            raise TokenRejectedError(
                f"token has no usable {names.org} claim (1-64 of A-Z, a-z, 0-9, '_', '-')"
            )
        user = _claim(claims, names.user)
        if not isinstance(user, str) or not user.strip() or not (user.isascii() and user.isprintable()):
            raise TokenRejectedError(f"token has no usable {names.user} claim (printable ASCII)")
        roles = parse_roles(_role_names(_claim(claims, names.roles)))
        return Identity(org_id=org, user_id=user.strip(), roles=roles)


def _claim(claims: dict[str, Any], name: str) -> Any:
    if name in claims:
        return claims[name]
    value: Any = claims
    for part in name.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _role_names(value: Any) -> Iterable[str]:
    """Roles as a JSON list of strings, or one string separated by spaces or commas."""
    if isinstance(value, str):
        return re.split(r"[\s,]+", value)
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")
