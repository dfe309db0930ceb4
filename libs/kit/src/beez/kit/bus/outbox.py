"""The transactional outbox: messages commit with the state change they announce, then get relayed.

A service never publishes a message about a state change directly: if it committed first and
crashed before publishing, the message would be lost; if it published first and the transaction
rolled back, the world would hear about a change that never happened. Instead :func:`enqueue`
writes the message into the service's own ``outbox`` table in the caller's transaction, and an
:class:`~beez.kit.bus.relay.OutboxRelay` publishes committed rows and marks them sent.

Delivery semantics: **at least once on the wire, once in effect.** The relay may publish a row
again (it crashed between publishing and marking, or NATS acked but the mark's commit failed).
Every row is published with the same ``Nats-Msg-Id`` each time (its explicit ``msg_id``, else
``<schema>:outbox:<id>``), so the stream's duplicate window drops a re-send, and consumers
recording that id in their inbox (:mod:`beez.kit.bus.inbox`) skip anything older than the window.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from google.protobuf.message import Message
from psycopg.types.json import Jsonb
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Identity,
    Index,
    MetaData,
    Table,
    Text,
    any_,
    bindparam,
    func,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, BYTEA, JSONB
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql.elements import ClauseElement, TextClause

from beez.kit.batching import Batcher
from beez.kit.bus.headers import encode
from beez.kit.bus.publisher import Publication, Publisher
from beez.kit.db import Database, Statement, copy_rows, current_transaction, pipelined
from beez.kit.logging import get_logger
from beez.kit.telemetry import inject_headers

log = get_logger(__name__)


def parking_columns() -> list[Column[Any]]:
    """The columns that park a row the relay can never publish (decision 0026): the model and
    every service's migration build them here, so they cannot drift apart."""
    return [
        Column(
            "parked_at",
            DateTime(timezone=True),
            nullable=True,
            comment="set when the relay gave up on the row (a permanent publish error); never retried",
        ),
        Column("park_error", Text, nullable=True, comment="why the relay parked the row"),
    ]


def outbox_table(metadata: MetaData) -> Table:
    """The ``outbox`` table in ``metadata``'s schema; services add it to their models and migrations.

    The partial index on ``id WHERE sent_at IS NULL`` keeps the relay's query cheap however many
    sent rows wait for :meth:`OutboxRelay.purge`.
    """
    return Table(
        "outbox",
        metadata,
        Column("id", BigInteger, Identity(), primary_key=True),
        Column("subject", Text, nullable=False),
        Column("payload", BYTEA, nullable=False),
        Column("headers", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
        Column("msg_id", Text, nullable=True, comment="Nats-Msg-Id; NULL means <schema>:outbox:<id>"),
        Column("org_id", Text, nullable=True),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("sent_at", DateTime(timezone=True), nullable=True),
        *parking_columns(),
        Index("ix_outbox_unsent", "id", postgresql_where=text("sent_at IS NULL")),
    )


def outbox_channel(table: Table) -> str:
    """The NOTIFY channel announcing new rows in ``table``: ``<schema>_outbox``."""
    return f"{table.schema or 'public'}_outbox"


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """One message to write to an outbox: where it goes, what it is, and its ``Nats-Msg-Id``."""

    subject: str
    message: bytes | Message
    msg_id: str | None = None
    org_id: str | None = None
    headers: Mapping[str, str] | None = None


OUTBOX_COLUMNS = ("subject", "payload", "headers", "msg_id", "org_id")


async def enqueue_many(
    session: AsyncSession | AsyncConnection,
    table: Table,
    messages: Sequence[OutboxMessage],
    *,
    before: Sequence[Statement] = (),
) -> None:
    """Adds ``messages`` to the outbox in the caller's transaction, in few statements.

    Each row carries the current trace context, so the trace continues from this transaction
    however late the relay publishes. One ``pg_notify`` in the same transaction wakes the relay;
    PostgreSQL delivers it only on commit (and never on rollback), which is exactly when the
    rows become visible. A few rows go as one executemany of one cached statement, many as one
    ``COPY`` (:func:`beez.kit.db.copy_rows`), rather than a multi-row VALUES rebuilt for every
    count. ``before``: the transaction's last writes, sent in the same round trip as the outbox
    rows when a :class:`DirectPublisher` takes them (see :func:`beez.kit.db.pipelined`).
    """
    if not messages:
        if before:
            await pipelined(session, before)
        return
    trace_headers = inject_headers()
    rows = []
    for message in messages:
        payload, content = encode(message.message)
        merged = {**content, **trace_headers, **(message.headers or {})}
        rows.append(
            {
                "subject": message.subject,
                "payload": payload,
                "headers": merged,
                "msg_id": message.msg_id,
                "org_id": message.org_id,
            }
        )
    scope = current_transaction()
    direct = scope.db.extensions.get(direct_key(table)) if scope is not None else None
    if scope is not None and isinstance(direct, DirectPublisher) and all(row["msg_id"] for row in rows):
        *_, inserted = await pipelined(session, [*before, _insert_returning_ids(table, rows)])
        ids = [int(row[0]) for row in inserted]
        scope.after_commit.append(functools.partial(direct.publish, ids, rows))
        return  # no NOTIFY: the relay only takes what the direct publish left behind
    if before:
        await pipelined(session, before)
    await copy_rows(session, table, rows, OUTBOX_COLUMNS)
    await session.execute(select(func.pg_notify(outbox_channel(table), "")))


_INSERTS_RETURNING_IDS: dict[Table, TextClause] = {}


def _insert_returning_ids(table: Table, rows: Sequence[Mapping[str, Any]]) -> Statement:
    """Inserts outbox rows with one statement of fixed text (columns as arrays), returning their ids."""
    statement = _INSERTS_RETURNING_IDS.get(table)
    if statement is None:
        statement = _INSERTS_RETURNING_IDS[table] = text(
            f"INSERT INTO {_qualified(table)} (subject, payload, headers, msg_id, org_id) "
            "SELECT * FROM unnest(CAST(:subjects AS text[]), CAST(:payloads AS bytea[]), "
            "CAST(:headers AS jsonb[]), CAST(:msg_ids AS text[]), CAST(:org_ids AS text[])) RETURNING id"
        )
    return statement, {
        "subjects": [row["subject"] for row in rows],
        "payloads": [row["payload"] for row in rows],
        "headers": [Jsonb(row["headers"]) for row in rows],
        "msg_ids": [row["msg_id"] for row in rows],
        "org_ids": [row["org_id"] for row in rows],
    }


def _qualified(table: Table) -> str:
    name = sql_identifier(table.name)
    return f"{sql_identifier(table.schema)}.{name}" if table.schema else name


def sql_identifier(name: str) -> str:
    """``name`` quoted as a PostgreSQL identifier."""
    return '"' + name.replace('"', '""') + '"'


async def mark_sent(session: AsyncSession | AsyncConnection, table: Table, ids: Sequence[int]) -> None:
    """Marks outbox rows sent, in the caller's transaction."""
    statement = _MARKS.get(table)
    if statement is None:
        statement = _MARKS[table] = (
            update(table)
            .where(table.c.id == any_(bindparam("ids", type_=ARRAY(BigInteger))))
            .values(sent_at=func.now())
        )
    await pipelined(session, [(statement, {"ids": list(ids)})])


_MARKS: dict[Table, ClauseElement] = {}


def direct_key(table: Table) -> str:
    """Where a :class:`DirectPublisher` for ``table`` sits in ``Database.extensions``."""
    return f"outbox-direct:{table.schema or 'public'}.{table.name}"


class DirectPublisher:
    """Publishes a transaction's outbox rows right after it commits, then marks them sent.

    The relay's round trip (NOTIFY, wake, SELECT ... FOR UPDATE, publish, UPDATE, commit) costs
    a transaction and several milliseconds per committing transaction. The process that wrote
    the rows has them in memory, so once its transaction commits it publishes them at once
    (:meth:`Publisher.publish_many`) and marks them sent in the background, many transactions'
    rows per UPDATE.
    The outbox guarantee is unchanged: the rows were committed with the state change, and
    whatever this misses (a crash after commit, NATS away, a failed mark) the relay finds and
    sends after ``min_age``; a message sent twice carries the same ``Nats-Msg-Id`` and the
    stream's duplicate window drops the copy. Only rows with an explicit ``msg_id`` go this
    way (the default id needs the row id before the insert).
    """

    def __init__(
        self,
        db: Database,
        table: Table,
        publisher: Publisher,
        *,
        mark_batch: int = 2000,
        mark_linger: float = 0.2,
    ) -> None:
        """Marks wait up to ``mark_linger`` for company: nobody waits on them but the relay."""
        self._db = db
        self._table = table
        self._publisher = publisher
        self._marks: Batcher[str, Sequence[int], None] = Batcher(
            self._mark, max_batch=mark_batch, name="outbox marks", linger=mark_linger
        )
        self._marking: set[asyncio.Task[None]] = set()
        self.published = 0
        """Rows this publisher sent (for tests and metrics); their marks follow shortly."""

    def install(self) -> None:
        """From now on, transactions of this database publish their ``table`` rows directly."""
        self._db.extensions[direct_key(self._table)] = self

    def uninstall(self) -> None:
        if self._db.extensions.get(direct_key(self._table)) is self:
            del self._db.extensions[direct_key(self._table)]

    async def publish(self, ids: Sequence[int], rows: Sequence[Mapping[str, Any]]) -> None:
        """Publishes committed rows and marks them sent; failures are left to the relay."""
        try:
            await self._publisher.publish_many(
                [
                    Publication(r["subject"], r["payload"], r["msg_id"], r["headers"], r["org_id"])
                    for r in rows
                ]
            )
        except Exception as exc:
            log.info("direct publish failed; the relay will send", table=self._table.name, error=repr(exc))
            return
        self.published += len(ids)
        task = asyncio.create_task(self._marks.submit("marks", ids))  # nobody needs to wait for it
        self._marking.add(task)
        task.add_done_callback(self._marked)

    def _marked(self, task: asyncio.Task[None]) -> None:
        self._marking.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.info("marking outbox rows failed; the relay sends them again", error=repr(task.exception()))

    async def settled(self) -> None:
        """Waits until every mark started so far is written (tests; a graceful stop)."""
        while self._marking:
            await asyncio.gather(*self._marking, return_exceptions=True)

    async def _mark(self, _: str, batches: Sequence[Sequence[int]]) -> list[None]:
        ids = sorted(i for batch in batches for i in batch)
        async with self._db.autocommit() as conn:  # one statement: no transaction around it
            await mark_sent(conn, self._table, ids)
        return [None] * len(batches)


async def enqueue(
    session: AsyncSession | AsyncConnection,
    table: Table,
    subject: str,
    message: bytes | Message,
    *,
    msg_id: str | None = None,
    org_id: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> None:
    """Adds one message to the outbox in the caller's transaction (see :func:`enqueue_many`)."""
    await enqueue_many(session, table, [OutboxMessage(subject, message, msg_id, org_id, headers)])
