"""Who is calling: the organization (required), user and roles from gRPC metadata.

The gateway sets ``x-org-id``, ``x-user-id`` and ``x-roles`` (comma separated: viewer, editor,
admin) from a verified token; internal callers set them directly. Handlers read
:func:`current_identity`; every query they make is scoped by its organization.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field

from beez.api.permissions import Role, parse_roles

ORG_HEADER = "x-org-id"
USER_HEADER = "x-user-id"
ROLES_HEADER = "x-roles"
_ORG_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass(frozen=True, slots=True)
class Identity:
    """The caller of one RPC."""

    org_id: str
    user_id: str | None = None
    roles: frozenset[Role] = field(default_factory=frozenset)


_current: ContextVar[Identity | None] = ContextVar("beez_identity", default=None)


class MissingIdentityError(Exception):
    """The call carried no usable organization."""


def identity_from_metadata(
    metadata: Sequence[tuple[str, str | bytes]] | None, *, default_roles: frozenset[Role] = frozenset()
) -> Identity:
    """Reads the identity from invocation metadata, or raises :class:`MissingIdentityError`.

    The organization id becomes part of NATS subjects, so only ``[A-Za-z0-9_-]`` is allowed.
    Without ``x-roles`` the caller gets ``default_roles`` (none, except in local mode); unknown
    role names are ignored.
    """
    values = {k.lower(): v for k, v in (metadata or ()) if isinstance(v, str)}
    org = values.get(ORG_HEADER, "").strip()
    if not org:
        raise MissingIdentityError(f"missing organization: set the {ORG_HEADER} metadata")
    if not _ORG_ID.match(org):
        raise MissingIdentityError(f"invalid {ORG_HEADER}: use 1-64 characters of A-Z, a-z, 0-9, '_' or '-'")
    user = values.get(USER_HEADER, "").strip() or None
    raw_roles = values.get(ROLES_HEADER)
    roles = default_roles if raw_roles is None else parse_roles(raw_roles.split(","))
    return Identity(org_id=org, user_id=user, roles=roles)


def identity_metadata(identity: Identity) -> list[tuple[str, str]]:
    """The metadata that carries ``identity`` on a call to another service."""
    metadata = [(ORG_HEADER, identity.org_id)]
    if identity.user_id:
        metadata.append((USER_HEADER, identity.user_id))
    metadata.append((ROLES_HEADER, roles_value(identity.roles)))
    return metadata


def roles_value(roles: frozenset[Role]) -> str:
    """``roles`` as the ``x-roles`` value, in rank order (``viewer,editor``)."""
    return ",".join(role.value for role in sorted(roles, key=lambda r: r.rank))


def current_identity() -> Identity:
    """The identity of the RPC being handled; only valid inside a handler."""
    identity = _current.get()
    if identity is None:
        raise RuntimeError("no identity: called outside an RPC handled through the identity interceptor")
    return identity


def set_identity(identity: Identity | None) -> object:
    """Sets the current identity, returning a token for :func:`reset_identity`."""
    return _current.set(identity)


def reset_identity(token: object) -> None:
    _current.reset(token)  # type: ignore[arg-type]
