"""The inbox: a consumer's record of the messages whose effect it has already applied.

JetStream delivers at least once, so a consumer sees a message again after a lost ack, a crash
after commit, or a publisher's re-send older than the duplicate window. A consumer whose effect
is not naturally idempotent calls :func:`claim` in the same transaction as the effect: the first
delivery inserts ``(consumer, message id)`` and applies the effect; any later one finds the row,
skips the effect and just acks. The row and the effect commit or roll back together, so there
is no window in which one exists without the other.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, cast

from nats.aio.msg import Msg
from sqlalchemy import Column, CursorResult, DateTime, Index, MetaData, Table, Text, bindparam, delete, func
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from beez.kit.bus.headers import MSG_ID, REDRIVE_OF_MESSAGE
from beez.kit.db import Database

Effect = Callable[[AsyncSession, Msg], Awaitable[None]]
"""Applies a message's effect using the given session (inside the claiming transaction)."""


def inbox_table(metadata: MetaData) -> Table:
    """The ``inbox`` table in ``metadata``'s schema; services add it to their models and migrations."""
    return Table(
        "inbox",
        metadata,
        Column("consumer", Text, primary_key=True),
        Column("message_id", Text, primary_key=True),
        Column("received_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Index("ix_inbox_received_at", "received_at"),
    )


def message_id(msg: Msg) -> str:
    """The identity of a JetStream message for deduplication.

    Its ``Nats-Msg-Id`` when present (stable across re-sends by the publisher, e.g. an event id
    or an outbox id), else ``<stream>:<stream sequence>`` (stable across redeliveries). A
    re-driven dead letter (decision 0029) has the original's identity instead
    (:data:`~beez.kit.bus.headers.REDRIVE_OF_MESSAGE`), so it is the same message to a consumer
    that had processed the original after all.
    """
    headers = msg.headers or {}
    explicit = headers.get(REDRIVE_OF_MESSAGE) or headers.get(MSG_ID)
    if explicit:
        return explicit
    meta = msg.metadata
    return f"{meta.stream}:{meta.sequence.stream}"


async def claim(session: AsyncSession, table: Table, consumer: str, message_id: str) -> bool:
    """Records ``message_id`` for ``consumer``; True the first time (apply the effect), else False.

    ``INSERT ... ON CONFLICT DO NOTHING RETURNING``: if another transaction is handling the same
    message right now (a redelivery racing the original), this waits for it on the primary key;
    it then returns False if that one committed, True if it rolled back.
    """
    stmt = (
        insert(table)
        .values(consumer=consumer, message_id=message_id)
        .on_conflict_do_nothing()
        .returning(table.c.message_id)
    )
    result = await session.execute(stmt)
    return result.first() is not None


async def purge_inbox(session: AsyncSession, table: Table, older_than: timedelta) -> int:
    """Deletes entries received more than ``older_than`` ago; returns how many.

    Keep entries longer than the streams keep messages (and than any redelivery or re-send can
    happen): after the purge, a message with that id would be applied again.
    """
    stmt = delete(table).where(table.c.received_at < func.now() - bindparam("older_than", older_than))
    result = cast(CursorResult[Any], await session.execute(stmt))
    return int(result.rowcount)


def inbox_handler(
    db: Database, table: Table, consumer: str, effect: Effect
) -> Callable[[Msg], Awaitable[None]]:
    """A :class:`~beez.kit.bus.worker.PullWorker` handler applying ``effect`` once per message id.

    Delivery semantics: at-least-once delivery, exactly-once effect for everything ``effect``
    does through the session it is given (external calls it makes are not covered).
    """

    async def handle(msg: Msg) -> None:
        async with db.transaction() as session:
            if await claim(session, table, consumer, message_id(msg)):
                await effect(session, msg)

    return handle
