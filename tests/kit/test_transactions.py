"""Transaction retry: a real deadlock is run again until it commits, other errors are not retried."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, insert, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from beez.kit.db import Database
from beez.kit.transactions import in_transaction, retryable

METADATA = MetaData()
COUNTERS = Table("counters", METADATA, Column("id", Integer, primary_key=True), Column("n", Integer))


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url, "public", pool_size=3)
    async with database.engine.begin() as conn:
        await conn.run_sync(METADATA.create_all)
        await conn.execute(insert(COUNTERS), [{"id": 1, "n": 0}, {"id": 2, "n": 0}])
    yield database
    await database.dispose()


async def test_two_transactions_that_deadlock_both_commit_after_a_retry(db: Database) -> None:
    both_hold_their_first_row = asyncio.Barrier(2)
    attempts = {1: 0, 2: 0}

    def bump_in_order(first: int, second: int) -> Callable[[AsyncSession], Awaitable[None]]:
        async def work(session: AsyncSession) -> None:
            attempts[first] += 1
            await session.execute(update(COUNTERS).where(COUNTERS.c.id == first).values(n=COUNTERS.c.n + 1))
            if attempts[first] == 1:  # only the first attempts meet; a retry runs alone
                await both_hold_their_first_row.wait()
            await session.execute(update(COUNTERS).where(COUNTERS.c.id == second).values(n=COUNTERS.c.n + 1))

        return work

    async with asyncio.timeout(30):
        await asyncio.gather(in_transaction(db, bump_in_order(1, 2)), in_transaction(db, bump_in_order(2, 1)))
    assert sum(attempts.values()) == 3  # exactly one was aborted and ran again
    async with db.transaction() as session:
        assert (await session.execute(select(COUNTERS.c.n).order_by(COUNTERS.c.id))).scalars().all() == [2, 2]


async def test_an_error_other_than_a_deadlock_is_raised_at_once(db: Database) -> None:
    calls = 0

    async def duplicate(session: AsyncSession) -> None:
        nonlocal calls
        calls += 1
        await session.execute(insert(COUNTERS).values(id=1, n=0))

    with pytest.raises(IntegrityError):
        await in_transaction(db, duplicate)
    assert calls == 1


async def test_a_serialization_failure_is_retried_until_the_attempts_run_out(db: Database) -> None:
    calls = 0

    async def always_fails(session: AsyncSession) -> None:
        nonlocal calls
        calls += 1
        await session.execute(text("DO $$ BEGIN RAISE EXCEPTION 'conflict' USING ERRCODE = '40001'; END $$"))

    with pytest.raises(DBAPIError) as caught:
        await in_transaction(db, always_fails, attempts=3)
    assert calls == 3
    assert retryable(caught.value)
