"""A service's connections are bounded in time, and never put parameters in errors or logs."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import bindparam, text
from sqlalchemy.exc import DBAPIError, OperationalError

from beez.kit.db import Database
from beez.kit.settings import ServiceSettings


async def test_a_statement_over_the_timeout_is_cancelled(database_url: str) -> None:
    db = Database(database_url, "public", pool_size=1, statement_timeout_s=0.2)
    try:
        async with db.transaction() as session:
            with pytest.raises(OperationalError, match="statement timeout"):
                await session.execute(text("SELECT pg_sleep(5)"))
            await session.rollback()
        async with db.transaction() as session:  # the connection is usable again
            assert await session.scalar(text("SHOW statement_timeout")) == "200ms"
    finally:
        await db.dispose()


async def test_a_transaction_left_idle_is_ended(database_url: str) -> None:
    db = Database(database_url, "public", pool_size=1, idle_in_transaction_timeout_s=0.2)
    try:
        async with db.sessions() as session:
            await session.execute(text("SELECT 1"))
            await asyncio.sleep(1.0)  # holding the transaction open, doing nothing
            with pytest.raises(DBAPIError, match="idle-in-transaction"):
                await session.execute(text("SELECT 1"))
    finally:
        await db.dispose()


async def test_errors_do_not_quote_parameters(database_url: str) -> None:
    db = Database(database_url, "public", pool_size=1)
    try:
        statement = text("SELECT CAST(:value AS text), 1 / 0").bindparams(bindparam("value"))
        async with db.sessions() as session:
            with pytest.raises(DBAPIError) as caught:
                await session.execute(statement, {"value": "ada@example.com"})
        assert "ada@example.com" not in str(caught.value)
        assert "parameters hidden" in str(caught.value)
    finally:
        await db.dispose()


def test_services_default_to_bounded_resources() -> None:
    settings = ServiceSettings(local_mode=True)
    assert settings.db_statement_timeout_s == 30
    assert settings.db_idle_in_transaction_timeout_s == 60
    assert settings.grpc_max_concurrent_rpcs == 1000
