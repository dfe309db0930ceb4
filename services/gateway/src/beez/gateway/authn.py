"""Who is calling the gateway: a verified bearer token, or (local mode only) trusted headers.

An :class:`Authenticator` turns a request's headers into the caller's
:class:`~beez.kit.grpc.identity.Identity` or raises an UNAUTHENTICATED
:class:`~beez.gateway.errors.GatewayError` (HTTP 401 with ``WWW-Authenticate: Bearer``). The
identity is what the gateway forwards as ``x-org-id``/``x-user-id``/``x-roles``: a client never
sets those directly in production.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Protocol

import grpc

from beez.api.permissions import ALL_ROLES, parse_roles
from beez.gateway.errors import GatewayError
from beez.gateway.jwks import KeySetUnavailableError
from beez.gateway.tokens import TokenRejectedError, TokenVerifier
from beez.kit.grpc.identity import Identity
from beez.kit.logging import get_logger

log = get_logger(__name__)

ORG_HTTP_HEADER = "X-Org-Id"
USER_HTTP_HEADER = "X-User-Id"
ROLES_HTTP_HEADER = "X-Roles"
REALM = "beez"
_ORG_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_BEARER = re.compile(r"^Bearer +(?P<token>[A-Za-z0-9._~+/-]+=*) *$", re.IGNORECASE)


class Authenticator(Protocol):
    """Proves who sent a request."""

    local_mode: bool

    async def authenticate(self, headers: Mapping[str, str]) -> Identity:
        """The caller, or an UNAUTHENTICATED :class:`GatewayError`; ``headers`` are case-insensitive."""
        ...

    async def start(self) -> None: ...

    async def close(self) -> None: ...


def unauthenticated(reason: str, *, token_sent: bool = True) -> GatewayError:
    """401 with ``reason`` and the RFC 6750 challenge (``invalid_token`` once a token was sent)."""
    challenge = f'Bearer realm="{REALM}"'
    if token_sent:
        challenge += f', error="invalid_token", error_description="{reason.replace(chr(34), chr(39))}"'
    return GatewayError(grpc.StatusCode.UNAUTHENTICATED, reason, headers={"WWW-Authenticate": challenge})


class BearerTokens:
    """Production: ``Authorization: Bearer <JWT>`` verified by a :class:`TokenVerifier`."""

    local_mode = False

    def __init__(self, verifier: TokenVerifier) -> None:
        self.verifier = verifier

    async def authenticate(self, headers: Mapping[str, str]) -> Identity:
        authorization = headers.get("Authorization", "")
        if not authorization.strip():
            raise unauthenticated("missing bearer token: send Authorization: Bearer <JWT>", token_sent=False)
        found = _BEARER.match(authorization)
        if found is None:
            raise unauthenticated("malformed Authorization header: expected Bearer <JWT>")
        try:
            return await self.verifier.verify(found["token"])
        except TokenRejectedError as exc:
            raise unauthenticated(exc.reason) from None
        except KeySetUnavailableError as exc:
            log.warning("cannot verify tokens: the key set is unavailable", error=str(exc))
            raise GatewayError(
                grpc.StatusCode.UNAVAILABLE, "cannot verify tokens right now; retry shortly"
            ) from None

    async def start(self) -> None:
        if self.verifier.keys is not None:
            await self.verifier.keys.start()

    async def close(self) -> None:
        if self.verifier.keys is not None:
            await self.verifier.keys.close()


class LocalHeaders:
    """Local mode (development): ``X-Org-Id``/``X-User-Id`` trusted as given, with every role.

    ``X-Roles`` (comma separated) narrows the roles, to try what a viewer or an editor may do.
    """

    local_mode = True

    async def authenticate(self, headers: Mapping[str, str]) -> Identity:
        org = headers.get(ORG_HTTP_HEADER, "").strip()
        if not org:
            raise GatewayError(
                grpc.StatusCode.UNAUTHENTICATED, f"missing organization: set the {ORG_HTTP_HEADER} header"
            )
        if not _ORG_ID.match(org):
            raise GatewayError(
                grpc.StatusCode.UNAUTHENTICATED,
                f"invalid {ORG_HTTP_HEADER} header: use 1-64 characters of A-Z, a-z, 0-9, '_' or '-'",
            )
        user = headers.get(USER_HTTP_HEADER, "").strip() or None
        if user is not None and not (user.isascii() and user.isprintable()):
            raise GatewayError(
                grpc.StatusCode.UNAUTHENTICATED, f"invalid {USER_HTTP_HEADER} header: use printable ASCII"
            )
        raw_roles = headers.get(ROLES_HTTP_HEADER)
        roles = ALL_ROLES if raw_roles is None else parse_roles(raw_roles.split(","))
        return Identity(org_id=org, user_id=user, roles=roles)

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None
