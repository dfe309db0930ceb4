"""A unit of work cancelled inside psycopg-level code leaves no poisoned connection in the pool.

The executor runs each job under ``asyncio.timeout``: on expiry the job's task is cancelled
wherever it is, including inside :func:`~beez.kit.db.pipelined`, :func:`~beez.kit.db.copy_rows`
and :meth:`~beez.kit.ratelimit.RateLimiter.acquire`, which drive psycopg's connection under
SQLAlchemy's back. psycopg may yield to the event loop after a protocol step has completed (it
does so when the loop has been busy, as on a loaded machine), so a cancellation can land between
"the connection entered pipeline mode" and "the caller holds the pipeline to leave it": the
connection then went back to the pool still in pipeline mode, and every later SELECT on it came
back without rows (``ResourceClosedError: This result object does not return rows``).

With a pool of one connection, the unit of work after each cancellation gets the same
connection (or its replacement), so any desynchronised state shows.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, Text, literal, select, text

from beez.kit.clock import ManualClock
from beez.kit.db import Database, copy_rows, pipelined, rows_insert
from beez.kit.ratelimit import Limit, RateLimiter, create_table_sql

METADATA = MetaData()
ROWS = Table("cancel_rows", METADATA, Column("id", Integer), Column("name", Text))
NONE_SUCH = select(ROWS.c.id).where(ROWS.c.id == -1)

SWEEP = 30
"""Cancellation points tried per path: the cancellation lands after 0, 1, ... loop turns."""


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url, "public", pool_size=1)
    async with database.engine.begin() as conn:
        await conn.run_sync(METADATA.create_all)
        await conn.execute(text(create_table_sql("public")))
    yield database
    await database.dispose()


def _busy(seconds: float) -> None:
    """Keeps the event loop from running anything else for ``seconds``, as a loaded machine does."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


async def _cancel_after(work: Callable[[], Awaitable[None]], turns: int) -> None:
    """Runs ``work`` in a task and cancels it after ``turns`` turns of a busy event loop."""
    task = asyncio.ensure_future(work())
    for _ in range(turns):
        _busy(0.006)
        await asyncio.sleep(0)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _assert_healthy(db: Database) -> None:
    """No connection was left checked out, and the next units of work read what they ask for."""
    assert db.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    async with db.snapshot() as session:
        assert (await session.execute(select(literal(7)))).scalar_one() == 7
    async with db.transaction() as session:
        assert (await session.execute(NONE_SUCH)).all() == []
        assert (await session.execute(select(literal(8)))).scalar_one() == 8
        [rows] = await pipelined(session, [(select(literal(9)), {})])
        assert [tuple(row) for row in rows] == [(9,)]


async def test_a_cancelled_pipeline_leaves_a_healthy_connection_for_the_next_user(db: Database) -> None:
    async def work() -> None:
        async with db.transaction() as session:
            await pipelined(
                session,
                [
                    (NONE_SUCH, {}),
                    rows_insert(ROWS, [{"id": i, "name": "x"} for i in range(3)], ["id", "name"]),
                    (NONE_SUCH, {}),
                ],
            )

    await _assert_healthy(db)
    for turns in range(SWEEP):
        await _cancel_after(work, turns)
        await _assert_healthy(db)


async def test_a_cancelled_snapshot_pipeline_leaves_a_healthy_connection(db: Database) -> None:
    async def work() -> None:
        async with db.snapshot() as session:
            await pipelined(session, [(NONE_SUCH, {}), (NONE_SUCH, {})])

    await _assert_healthy(db)
    for turns in range(SWEEP):
        await _cancel_after(work, turns)
        await _assert_healthy(db)


async def test_a_cancelled_copy_leaves_a_healthy_connection_for_the_next_user(db: Database) -> None:
    async def work() -> None:
        async with db.transaction() as session:
            await copy_rows(session, ROWS, [{"id": i, "name": "y" * 40} for i in range(200)], ["id", "name"])

    await _assert_healthy(db)
    for turns in range(SWEEP):
        await _cancel_after(work, turns)
        await _assert_healthy(db)


async def test_a_cancelled_rate_limit_call_leaves_a_healthy_connection(db: Database) -> None:
    limiter = RateLimiter(db.engine, "public", ManualClock())

    async def work() -> None:
        for key in ("a", "b", "c"):
            await limiter.acquire(key, Limit(rate=100, burst=1000))

    await _assert_healthy(db)
    for turns in range(SWEEP):
        await _cancel_after(work, turns)
        await _assert_healthy(db)
        assert (await limiter.acquire("after", Limit(rate=100, burst=1000))).allowed


async def _in_transaction(db: Database) -> bool:
    """Whether a :meth:`Database.transaction` really runs in one transaction (not autocommitted)."""
    async with db.transaction() as session:
        first = (await session.execute(text("SELECT pg_current_xact_id()::text"))).scalar_one()
        second = (await session.execute(text("SELECT pg_current_xact_id()::text"))).scalar_one()
    return bool(first == second)


async def test_a_cancelled_autocommit_switch_never_leaves_the_next_transaction_autocommitting(
    db: Database,
) -> None:
    async def work() -> None:
        async with db.autocommit() as conn:
            await conn.execute(select(literal(1)))

    assert await _in_transaction(db)
    for turns in range(SWEEP):
        await _cancel_after(work, turns)
        assert await _in_transaction(db), f"autocommit leaked into a transaction (cancelled after {turns})"
        await _assert_healthy(db)


async def test_healthy_connections_are_reused_not_replaced(db: Database) -> None:
    limiter = RateLimiter(db.engine, "public", ManualClock())
    seen = set()
    for _ in range(5):
        async with db.transaction() as session:
            await pipelined(session, [(NONE_SUCH, {})])
            seen.add(id((await (await session.connection()).get_raw_connection()).driver_connection))
        async with db.autocommit() as conn:
            await conn.execute(select(literal(1)))
        await limiter.acquire("k", Limit(rate=100, burst=1000))
    assert len(seen) == 1
