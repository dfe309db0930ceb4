"""The service-side role check: who may call which RPC, from :data:`beez.api.permissions.PERMISSIONS`.

The gateway checks the same table before it calls a backend; services check again so a caller
that reaches them directly (an internal platform caller, a compromised pod) gets no more than its
roles allow. An RPC missing from the table is refused: the table, not the service, decides.
In local mode a caller that sends no ``x-roles`` holds every role, as ``beez up`` promises.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from beez.api.permissions import ALL_ROLES, PERMISSIONS, Role, grants
from beez.kit.grpc.errors import PermissionDenied, Unauthenticated
from beez.kit.grpc.identity import Identity, MissingIdentityError, identity_from_metadata


def authorized_identity(
    method: str,
    metadata: Sequence[tuple[str, str | bytes]] | None,
    *,
    local_mode: bool,
    permissions: Mapping[str, Role] = PERMISSIONS,
) -> Identity:
    """The caller of ``method`` if its roles allow it.

    Raises :class:`Unauthenticated` without a usable organization and :class:`PermissionDenied`
    when the caller lacks the role ``method`` needs (or the method has no entry in the table).
    """
    try:
        identity = identity_from_metadata(metadata, default_roles=ALL_ROLES if local_mode else frozenset())
    except MissingIdentityError as exc:
        raise Unauthenticated(str(exc)) from None
    required = permissions.get(method)
    if required is None:
        raise PermissionDenied(f"{method} declares no permission; add it to beez.api.permissions")
    if not grants(identity.roles, required):
        raise PermissionDenied(f"{method} needs the {required.value} role")
    return identity
