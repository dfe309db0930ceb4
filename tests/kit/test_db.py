"""The kit's database helpers: snapshots, after-commit actions, bulk rows."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import psycopg
import pytest
from psycopg.types.json import Jsonb
from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    Table,
    Text,
    any_,
    bindparam,
    insert,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.exc import DBAPIError

from beez.kit.db import (
    COPY_FROM,
    Database,
    _binary_arrays,
    copy_rows,
    current_transaction,
    pipelined,
    plain_rows,
)
from beez.kit.embedded import EmbeddedPostgres

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


async def test_a_pool_without_pre_ping_recovers_by_itself_after_a_postgres_restart(pg_dir: Path) -> None:
    """No pre-ping (decision 0010): after a restart at most one transaction fails, on a connection
    the restart broke; that failure invalidates the pool, so what follows runs on new connections."""
    pg = EmbeddedPostgres(pg_dir).start()
    db = Database(pg.url(), "public", pool_size=3)
    try:
        for _ in range(3):  # several pooled connections, all broken by the restart
            async with db.transaction() as session:
                assert await session.scalar(text("SELECT 1")) == 1
        pg.stop()
        pg.start()
        outcomes: list[str] = []
        for _ in range(4):
            try:
                async with db.transaction() as session:
                    await session.scalar(text("SELECT 1"))
                outcomes.append("ok")
            except DBAPIError as exc:
                outcomes.append("invalidated" if exc.connection_invalidated else f"failed: {exc}")
        assert outcomes in (["ok"] * 4, ["invalidated"] + ["ok"] * 3)
    finally:
        await db.engine.dispose()
        pg.stop()


_ADD = insert(ITEMS).values(id=bindparam("id"), name=bindparam("name")).returning(ITEMS.c.id)
_RENAME = update(ITEMS).where(ITEMS.c.id == bindparam("item")).values(name=literal("renamed"))
_NAMES = select(ITEMS.c.id, ITEMS.c.name).where(ITEMS.c.id == any_(bindparam("ids"))).order_by(ITEMS.c.id)


async def test_pipelined_statements_run_in_order_and_return_each_ones_rows(db: Database) -> None:
    async with db.transaction() as session:
        added, renamed, listed = await pipelined(
            session,
            [
                (_ADD, {"id": 10, "name": "a"}),
                (_RENAME, {"item": 10}),  # sees the row the statement before inserted
                (_NAMES, {"ids": [10, 11]}),
            ],
        )
    assert (added, renamed, listed) == ([(10,)], [], [(10, "renamed")])
    async with db.transaction() as session:
        assert await session.scalar(select(ITEMS.c.name).where(ITEMS.c.id == 10)) == "renamed"


async def test_pipelined_statements_share_the_callers_transaction(db: Database) -> None:
    async def conflicting() -> None:
        async with db.transaction() as session:
            await session.execute(insert(ITEMS).values(id=20, name="first"))
            await pipelined(session, [(_ADD, {"id": 21, "name": "b"}), (_ADD, {"id": 20, "name": "dup"})])

    with pytest.raises(psycopg.errors.UniqueViolation):
        await conflicting()
    async with db.transaction() as session:
        left = (await session.execute(select(ITEMS.c.id).where(ITEMS.c.id.in_([20, 21])))).all()
    assert left == []  # the failure rolled back the pipeline's rows and the caller's


_UNNEST = text(
    "SELECT t, b, j, n FROM unnest(CAST(:texts AS text[]), CAST(:blobs AS bytea[]), "
    "CAST(:docs AS jsonb[]), CAST(:numbers AS bigint[])) AS u(t, b, j, n)"
)


async def test_pipelined_arrays_keep_awkward_values_whole(db: Database) -> None:
    texts = ['a "quoted", {braced} \\ text', None, "", "NULL"]
    blobs = [b"\x00\\'\"{}", None, b"", bytes(range(256))]
    docs = [Jsonb({"k": 'v "q" \\ {}'}), None, Jsonb([]), Jsonb("NULL")]
    numbers = [2**40, None, 0, -1]
    async with db.transaction() as session:
        (rows,) = await pipelined(
            session, [(_UNNEST, {"texts": texts, "blobs": blobs, "docs": docs, "numbers": numbers})]
        )
    assert [tuple(row) for row in rows] == [
        ('a "quoted", {braced} \\ text', b"\x00\\'\"{}", {"k": 'v "q" \\ {}'}, 2**40),
        (None, None, None, None),
        ("", b"", [], 0),
        ("NULL", bytes(range(256)), "NULL", -1),
    ]


def test_a_plain_row_has_the_models_columns_and_nothing_else() -> None:
    class Item:  # a mapped class as plain_rows sees it
        __table__ = ITEMS
        id: int
        name: str | None

    PlainItem = plain_rows(Item)
    item = PlainItem(id=1)
    assert (item.id, item.name) == (1, None)
    item.name = "renamed"
    assert item.name == "renamed"
    with pytest.raises(AttributeError):
        item.other = 1  # type: ignore[attr-defined]
    with pytest.raises(TypeError, match="no column colour"):
        PlainItem(id=2, colour="red")
    assert not hasattr(item, "_sa_instance_state")


def test_arrays_go_binary_unless_their_type_is_left_to_postgres() -> None:
    query = (
        "SELECT %(blobs)s, CAST(%(cast)s AS text[]), %(colons)s::TEXT[], "
        "%(inferred)s, %(empty)s, %(nulls)s, %(one)s"
    )
    params = {
        "blobs": [b"x"],
        "cast": ["a"],
        "colons": ["b"],
        "inferred": ["c"],  # a text list compared with a uuid column, say: PostgreSQL picks its type
        "empty": [],
        "nulls": [None],
        "one": "d",
    }
    assert _binary_arrays(query, params) == (
        "SELECT %(blobs)b, CAST(%(cast)b AS text[]), %(colons)b::TEXT[], "
        "%(inferred)s, %(empty)s, %(nulls)s, %(one)s"
    )


async def test_each_statement_on_an_autocommit_connection_is_its_own_transaction(db: Database) -> None:
    async with db.autocommit() as conn:
        first = await conn.scalar(text("SELECT txid_current()"))
        second = await conn.scalar(text("SELECT txid_current()"))
        await conn.execute(insert(ITEMS).values(id=30, name="kept"))
    async with db.transaction() as session:
        same = await session.scalar(text("SELECT txid_current() = txid_current()"))
        kept = await session.scalar(select(ITEMS.c.name).where(ITEMS.c.id == 30))
    assert first != second
    assert (same, kept) == (True, "kept")


_SLOW = text("SELECT pg_sleep(:seconds)")


@pytest.mark.parametrize("cancel_after", [0.0, 0.05, 0.3])
async def test_a_pipeline_cancelled_midway_leaves_no_broken_connection_in_the_pool(
    database_url: str, cancel_after: float
) -> None:
    """A handler cancelled (a job timeout) while its pipeline is on the wire must not hand the next
    user of the pool a connection still in pipeline mode, whose next result would belong to the
    cancelled statements."""
    db = Database(database_url, "public", pool_size=1)
    try:

        async def stuck() -> None:
            async with db.transaction() as session:
                await pipelined(session, [(_SLOW, {"seconds": 0.5}), (_SLOW, {"seconds": 0.5})])

        task = asyncio.create_task(stuck())
        await asyncio.sleep(cancel_after)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        for _ in range(3):
            async with db.transaction() as session:
                assert (await session.execute(select(literal(7)))).scalar_one() == 7
                (rows,) = await pipelined(session, [(select(literal(8)), {})])
                assert [tuple(row) for row in rows] == [(8,)]
    finally:
        await db.dispose()
