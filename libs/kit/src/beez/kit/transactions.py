"""Running a unit of work again when PostgreSQL aborted it for a deadlock or a serialization failure.

Concurrent transactions that lock the same rows in different orders (enrollments on the same
keys, batches of counters, a consumer racing a sweeper) can deadlock; PostgreSQL then aborts
one of them with ``deadlock_detected`` (40P01), and under REPEATABLE READ or SERIALIZABLE a
conflicting one fails with ``serialization_failure`` (40001). Both are safe to retry from
scratch: nothing the aborted attempt did was committed. Any other error is raised at once.

``work`` runs inside :meth:`~beez.kit.db.Database.transaction` and must be repeatable: it
rebuilds everything it writes from its inputs on each attempt, and makes no external call.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import psycopg
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from beez.kit.db import Database
from beez.kit.logging import get_logger

log = get_logger(__name__)

T = TypeVar("T")

RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})
"""deadlock_detected, serialization_failure."""

ATTEMPTS = 5


def retryable(exc: BaseException) -> bool:
    """True for a deadlock or serialization failure, raised through SQLAlchemy or psycopg itself."""
    if isinstance(exc, DBAPIError):
        exc = exc.orig if exc.orig is not None else exc
    return isinstance(exc, psycopg.Error) and exc.sqlstate in RETRYABLE_SQLSTATES


async def in_transaction(
    db: Database, work: Callable[[AsyncSession], Awaitable[T]], *, attempts: int = ATTEMPTS
) -> T:
    """Runs ``work`` in one transaction of ``db``; again after a retryable abort, ``attempts`` in all."""
    for attempt in range(1, attempts + 1):
        try:
            async with db.transaction() as session:
                return await work(session)
        except (DBAPIError, psycopg.Error) as exc:  # psycopg's own from pipelined statements
            if attempt == attempts or not retryable(exc):
                raise
            sqlstate = getattr(exc.orig if isinstance(exc, DBAPIError) else exc, "sqlstate", None)
            log.info("transaction aborted by the database; retrying", sqlstate=sqlstate, attempt=attempt)
    raise AssertionError("unreachable")  # pragma: no cover
