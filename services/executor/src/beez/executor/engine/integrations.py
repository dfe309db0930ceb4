"""What the engine asks of the organization's connections (decision 0040), as an interface.

Before an external action step begins an attempt, the engine binds it to a connection
(:meth:`Integrations.bind`: the one the step names, or the organization's only connection of
the action's provider, or none: the platform's settings). A bound step first takes a token of
its connection's rate limit (:meth:`Integrations.wait`); refused, it waits on a ``rate_limit``
timer with no attempt, exactly like the send limits (decision 0031). The attempt then gets the
connection's credentials (:meth:`Integrations.access`), and a provider's 429 lowers that
connection's rate (:meth:`Integrations.throttled`). The implementation is
:class:`beez.executor.connections.service.Connections`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from beez.executor.actions.base import ConnectionAccess

__all__ = ["Binding", "BindingError", "Integrations"]


@dataclass(frozen=True)
class Binding:
    """The connection a step uses."""

    id: str
    provider: str


class BindingError(Exception):
    """The step names a connection the organization does not have (or one of another
    provider), or several could serve it and it names none: the step fails for good."""

    category = "connection"


class Integrations(Protocol):
    async def bind(self, org_id: str, action_type: str, named: str) -> Binding | None:
        """The connection of ``org_id`` the step uses (``named``: its config's ``connection``)."""
        ...

    async def wait(self, org_id: str, binding: Binding, now: datetime) -> float | None:
        """None when the call may go now (a token taken); else the seconds to wait."""
        ...

    async def access(self, org_id: str, binding: Binding, now: datetime) -> ConnectionAccess:
        """The connection's credentials for one attempt."""
        ...

    async def throttled(self, org_id: str, binding: Binding, now: datetime) -> None:
        """The provider answered 429 to a call on this connection."""
        ...
