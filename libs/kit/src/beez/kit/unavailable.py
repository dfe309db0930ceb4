"""Tells a failure caused by an unavailable dependency from one caused by the work itself.

A consumer that fails because PostgreSQL or NATS is away (down, restarting, out of connections)
or because a service it calls answers gRPC ``UNAVAILABLE`` says nothing about its message: the
same message succeeds once the dependency is back. Such failures must never count toward
dead-lettering (docs/decisions/0028-outage-safe-consumers.md); :func:`is_unavailable` is how the
pull worker recognises them.

The check walks the whole ``__cause__``/``__context__`` chain (and SQLAlchemy's ``orig``), since
drivers and our own code wrap the original error: SQLAlchemy's ``OperationalError`` wraps
psycopg's, an engine may re-raise as its own type ``from`` the driver's error.
"""

from __future__ import annotations

import nats.errors
import nats.js.errors
import psycopg
import sqlalchemy.exc

UNAVAILABLE_SQLSTATES = frozenset(
    {
        "57P01",  # admin_shutdown: the server is shutting down
        "57P02",  # crash_shutdown
        "57P03",  # cannot_connect_now: starting up or in recovery
        "53300",  # too_many_connections
    }
)
"""SQLSTATEs outside class 08 (connection exception) that mean "the server is not there for us"."""

_NATS_UNAVAILABLE: tuple[type[BaseException], ...] = (
    nats.errors.ConnectionClosedError,
    nats.errors.ConnectionReconnectingError,
    nats.errors.ConnectionDrainingError,
    nats.errors.StaleConnectionError,
    nats.errors.OutboundBufferLimitError,
    nats.errors.NoServersError,
    nats.errors.NoRespondersError,
    nats.errors.UnexpectedEOF,
    nats.errors.FlushTimeoutError,
    nats.errors.TimeoutError,  # a request (a JetStream publish, an API call) nobody answered in time
    nats.js.errors.ServiceUnavailableError,
    nats.js.errors.NoStreamResponseError,  # JetStream not (yet) answering for the subject
)

_GRPC_UNAVAILABLE = "UNAVAILABLE"
_CHAIN_LIMIT = 32


def is_unavailable(exc: BaseException) -> bool:
    """Whether ``exc``, or anything in its cause/context chain, says a dependency is unavailable.

    Unavailable: PostgreSQL refusing, resetting or shutting down connections, a connection that
    cannot be made or was lost (psycopg ``OperationalError`` without a SQLSTATE or with class 08,
    57P01-57P03, 53300; SQLAlchemy's wrappers of those, an invalidated connection, a pool timeout);
    NATS not connected, draining or not answering a request (JetStream publish without PubAck);
    gRPC ``UNAVAILABLE``; and a refused, reset or aborted socket. Not unavailable: a statement
    timeout, a deadlock, a constraint violation, any other error of the work itself.
    """
    seen: set[int] = set()
    pending: list[BaseException] = [exc]
    while pending and len(seen) < _CHAIN_LIMIT:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if _says_unavailable(current):
            return True
        pending.extend(
            linked
            for linked in (current.__cause__, current.__context__, getattr(current, "orig", None))
            if isinstance(linked, BaseException)
        )
    return False


def _says_unavailable(exc: BaseException) -> bool:
    if isinstance(exc, psycopg.OperationalError):
        state = exc.sqlstate
        return state is None or state.startswith("08") or state in UNAVAILABLE_SQLSTATES
    if isinstance(exc, sqlalchemy.exc.DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, sqlalchemy.exc.TimeoutError):  # no pooled connection came free in time
        return True
    if isinstance(exc, _NATS_UNAVAILABLE):
        return True
    if isinstance(exc, ConnectionError):  # refused, reset, aborted, broken pipe
        return True
    code = getattr(exc, "code", None)
    if callable(code) and type(exc).__module__.startswith("grpc"):
        try:
            return getattr(code(), "name", None) == _GRPC_UNAVAILABLE
        except Exception:
            return False
    return False
