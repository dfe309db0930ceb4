"""Helpers shared by the bus tests: a schema with the bus tables, stream reading, polling."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from nats.js import JetStreamContext, api
from sqlalchemy import Column, Integer, MetaData, Table, Text, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from beez.kit.db import Database


@dataclass
class BusDb:
    """A Database on a schema of its own holding outbox, inbox and two business tables."""

    db: Database
    metadata: MetaData
    outbox: Table
    inbox: Table
    orders: Table
    counters: Table

    async def add_counter(self, name: str) -> None:
        async with self.db.transaction() as session:
            await session.execute(insert(self.counters).values(name=name, value=0))

    async def counter(self, name: str) -> int:
        async with self.db.transaction() as session:
            value = await session.scalar(select(self.counters.c.value).where(self.counters.c.name == name))
        return int(value or 0)

    async def increment(self, session: AsyncSession, name: str) -> None:
        await session.execute(
            update(self.counters).where(self.counters.c.name == name).values(value=self.counters.c.value + 1)
        )


def business_tables(metadata: MetaData) -> tuple[Table, Table]:
    orders = Table("orders", metadata, Column("id", Text, primary_key=True), Column("status", Text))
    counters = Table(
        "counters",
        metadata,
        Column("name", Text, primary_key=True),
        Column("value", Integer, nullable=False, server_default="0"),
    )
    return orders, counters


async def stream_messages(js: JetStreamContext, stream: str) -> list[api.RawStreamMsg]:
    """Every message currently stored in ``stream``, oldest first."""
    info = await js.stream_info(stream)
    if info.state.messages == 0:
        return []
    out = []
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        try:
            out.append(await js.get_msg(stream, seq))
        except Exception:  # a deleted sequence
            continue
    return out


async def wait_until(predicate: Callable[[], bool], within: float = 5.0, what: str = "condition") -> float:
    """Polls ``predicate`` until true; returns the seconds it took, fails the test on timeout."""
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > within:
            raise AssertionError(f"{what} not reached within {within}s")
        await asyncio.sleep(0.02)
    return time.monotonic() - start
