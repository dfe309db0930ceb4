"""The kit's database helpers: snapshots, after-commit actions, bulk rows."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, Text, insert, select, update
from sqlalchemy.exc import DBAPIError

from beez.kit.db import COPY_FROM, Database, copy_rows, current_transaction

METADATA = MetaData()
ITEMS = Table("items", METADATA, Column("id", Integer, primary_key=True), Column("name", Text))


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url, "public", pool_size=3)
    async with database.engine.begin() as conn:
        await conn.run_sync(METADATA.create_all)
    yield database
    await database.dispose()


async def test_a_snapshot_does_not_see_commits_made_after_it_began(db: Database) -> None:
    async with db.transaction() as session:
        await session.execute(insert(ITEMS).values(id=1, name="before"))
    async with db.snapshot() as reader:
        first = await reader.scalar(select(ITEMS.c.name).where(ITEMS.c.id == 1))
        async with db.transaction() as writer:
            await writer.execute(update(ITEMS).where(ITEMS.c.id == 1).values(name="after"))
            await writer.execute(insert(ITEMS).values(id=2, name="new"))
        again = await reader.scalar(select(ITEMS.c.name).where(ITEMS.c.id == 1))
        count = await reader.scalar(select(ITEMS.c.id).where(ITEMS.c.id == 2))
    assert (first, again, count) == ("before", "before", None)


async def test_a_snapshot_is_read_only(db: Database) -> None:
    with pytest.raises(DBAPIError, match="read-only"):
        async with db.snapshot() as session:
            await session.execute(insert(ITEMS).values(id=3, name="x"))


async def test_after_commit_actions_run_only_after_a_commit(db: Database) -> None:
    ran: list[str] = []

    async def note(name: str) -> None:
        ran.append(name)

    async with db.transaction() as session:
        scope = current_transaction()
        assert scope is not None and scope.db is db
        scope.after_commit.append(lambda: note("committed"))
        await session.execute(insert(ITEMS).values(id=4, name="x"))
        assert ran == []  # not before the commit
    assert ran == ["committed"]

    async def rolled_back() -> None:
        async with db.transaction():
            scope = current_transaction()
            assert scope is not None
            scope.after_commit.append(lambda: note("rolled back"))
            raise RuntimeError("no")

    with pytest.raises(RuntimeError, match="no"):
        await rolled_back()
    assert ran == ["committed"] and current_transaction() is None


async def test_a_failing_after_commit_action_does_not_undo_the_commit(db: Database) -> None:
    async def broken() -> None:
        raise RuntimeError("after")

    async with db.transaction() as session:
        scope = current_transaction()
        assert scope is not None
        scope.after_commit.append(broken)
        await session.execute(insert(ITEMS).values(id=5, name="kept"))
    async with db.snapshot() as session:
        assert await session.scalar(select(ITEMS.c.name).where(ITEMS.c.id == 5)) == "kept"


@pytest.mark.parametrize("count", [COPY_FROM - 1, COPY_FROM * 4])
async def test_copy_rows_writes_few_and_many_rows(db: Database, count: int) -> None:
    rows = [{"id": 100 + i, "name": f"n{i}" if i % 3 else None} for i in range(count)]
    async with db.transaction() as session:
        await copy_rows(session, ITEMS, rows, ["id", "name"])
    async with db.snapshot() as session:
        stored = (await session.execute(select(ITEMS.c.id, ITEMS.c.name).where(ITEMS.c.id >= 100))).all()
    assert sorted((r.id, r.name) for r in stored) == [(row["id"], row["name"]) for row in rows]
