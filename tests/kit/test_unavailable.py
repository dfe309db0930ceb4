"""``is_unavailable``: real failures of real PostgreSQL, NATS and gRPC, told apart from the work's own."""

from __future__ import annotations

import grpc
import nats
import nats.errors
import nats.js.errors
import psycopg
import pytest
from nats.aio.client import Client as NATS
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError

from beez.kit.db import Database
from beez.kit.embedded import free_port
from beez.kit.unavailable import is_unavailable
from tests.support.servers import create_database, drop_database


async def test_postgresql_refusing_connections_is_unavailable() -> None:
    port = free_port()
    with pytest.raises(psycopg.OperationalError) as refused:
        await psycopg.AsyncConnection.connect(f"host=127.0.0.1 port={port} user=postgres", connect_timeout=2)
    assert is_unavailable(refused.value)
    db = Database(f"postgresql+psycopg://postgres@127.0.0.1:{port}/test", "public")
    try:
        with pytest.raises(DBAPIError) as wrapped:
            async with db.transaction() as session:
                await session.execute(text("SELECT 1"))
        assert is_unavailable(wrapped.value), "SQLAlchemy's wrapper of a refused connection"
        chained = RuntimeError("the engine gave up")
        chained.__cause__ = wrapped.value
        assert is_unavailable(chained), "found through __cause__"
    finally:
        await db.dispose()


async def test_admin_shutdown_of_a_session_is_unavailable_and_a_statement_timeout_is_not(
    admin_url: str,
) -> None:
    url = create_database(admin_url)
    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    try:
        async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as victim:
            pid = victim.info.backend_pid
            async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as admin:
                await admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
            with pytest.raises(psycopg.OperationalError) as shut:
                await victim.execute("SELECT 1")
        assert is_unavailable(shut.value), shut.value.sqlstate
        async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
            await conn.execute("SET statement_timeout = '10ms'")
            with pytest.raises(psycopg.errors.QueryCanceled) as slow:
                await conn.execute("SELECT pg_sleep(1)")
            assert not is_unavailable(slow.value), "a query too slow is the work's own failure"
            await conn.execute("SET statement_timeout = 0")  # the rest must not race 10 ms under load
            await conn.execute("CREATE TEMP TABLE t (id int PRIMARY KEY)")
            await conn.execute("INSERT INTO t VALUES (1)")
            with pytest.raises(psycopg.errors.UniqueViolation) as dup:
                await conn.execute("INSERT INTO t VALUES (1)")
            assert not is_unavailable(dup.value)
            assert not is_unavailable(IntegrityError("INSERT", {}, dup.value))
    finally:
        drop_database(admin_url, url)


async def test_nats_not_connected_or_not_answering_is_unavailable(nc: NATS) -> None:
    js = nc.jetstream(timeout=0.5)
    with pytest.raises(nats.js.errors.NoStreamResponseError) as nobody:
        await js.publish("no.stream.listens.here.at.all", b"x")
    assert is_unavailable(nobody.value)
    closed = await nats.connect(nc.connected_url.geturl() if nc.connected_url else "nats://127.0.0.1:4222")
    await closed.close()
    with pytest.raises(nats.errors.ConnectionClosedError) as gone:
        await closed.publish("x", b"x")
    assert is_unavailable(gone.value)
    assert is_unavailable(nats.errors.TimeoutError())


async def test_grpc_unavailable_is_and_other_codes_are_not() -> None:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{free_port()}") as channel:
        call = channel.unary_unary("/x.Y/Z", request_serializer=None, response_deserializer=None)
        with pytest.raises(grpc.aio.AioRpcError) as down:
            await call(b"", timeout=2)
    assert down.value.code() == grpc.StatusCode.UNAVAILABLE
    assert is_unavailable(down.value)
    invalid = grpc.aio.AioRpcError(
        grpc.StatusCode.INVALID_ARGUMENT, grpc.aio.Metadata(), grpc.aio.Metadata(), "bad"
    )
    assert not is_unavailable(invalid)


def test_the_work_s_own_errors_are_not_unavailable() -> None:
    assert not is_unavailable(RuntimeError("provider said no"))
    assert not is_unavailable(TimeoutError("the job timed out"))
    assert not is_unavailable(ValueError("bad payload"))
    assert is_unavailable(ConnectionRefusedError())
    loop = RuntimeError("a")
    loop.__context__ = RuntimeError("b")
    loop.__context__.__context__ = loop  # a cycle ends the walk
    assert not is_unavailable(loop)
