"""The outbox relay: publishes committed outbox rows in id order, marks them sent, parks the ones
that can never be published, and purges old sent rows (see :mod:`beez.kit.bus.outbox` for the
outbox itself and its delivery guarantee).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from typing import Any, cast

import psycopg
from nats.errors import MaxPayloadError
from nats.js.errors import APIError
from opentelemetry import metrics
from psycopg import sql
from sqlalchemy import CursorResult, Table, bindparam, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from beez.kit.bus.outbox import mark_sent, outbox_channel
from beez.kit.bus.publisher import Publication, Publisher
from beez.kit.db import Database
from beez.kit.logging import get_logger

log = get_logger(__name__)

OnPublished = Callable[[list[int]], Awaitable[None]]
"""Called with a batch's row ids after every message was acked and before they are marked sent."""

PURGE_BATCH = 10_000

HEADER_ALLOWANCE = 256
"""Bytes allowed for the headers the publisher adds (Nats-Msg-Id, organization, trace)."""


def _wire_size(row: Any) -> int:
    """A row's size on the wire as the server counts it against ``max_payload``: payload and headers.

    The server closes the connection on a message over the limit (the client only checks the
    payload), which would look like an outage and retry forever; so the relay checks first.
    """
    headers = sum(len(k) + len(str(v)) + 4 for k, v in (row.headers or {}).items())
    return len(row.payload) + headers + HEADER_ALLOWANCE


def _too_large(size: int, limit: int) -> str:
    return f"payload of {size} bytes exceeds the server's max_payload of {limit} bytes"


PERMANENT_JS_ERRORS = frozenset({10054})
"""JetStream error codes that re-sending cannot fix: 10054 = message larger than the stream allows."""


def _describe(exc: BaseException) -> str:
    if isinstance(exc, APIError):
        return f"JetStream error {exc.err_code} ({exc.code}): {exc.description}"
    return repr(exc)


STREAM_FULL_ERRORS = frozenset({10076, 10077})
"""JetStream error codes of a stream at its ``max_msgs`` / ``max_bytes`` with discard ``new``
(decision 0027): transient, as consuming or ageing frees room."""


def is_stream_full(exc: BaseException) -> bool:
    """Whether publishing failed because the stream is full (the rows are kept and retried)."""
    return isinstance(exc, APIError) and exc.err_code in STREAM_FULL_ERRORS


def is_permanent(exc: BaseException) -> bool:
    """Whether publishing failed for a reason that retrying the same message can never fix."""
    if isinstance(exc, MaxPayloadError):
        return True
    return isinstance(exc, APIError) and exc.err_code in PERMANENT_JS_ERRORS


class OutboxRelay:
    """Publishes committed outbox rows in id order and marks them sent; run one or more per service.

    Each round takes up to ``batch`` unsent rows ``ORDER BY id FOR UPDATE SKIP LOCKED`` in one
    transaction, publishes them all at once (JetStream async publish: they leave in id order on
    the one connection), waits for every PubAck, marks them ``sent_at = now()`` and commits.
    Rounds repeat while rows are found, then the relay sleeps until a NOTIFY (a dedicated LISTEN
    connection, reconnected when it drops) or ``poll_interval``, whichever comes first.

    * No high-water mark: the query is ``sent_at IS NULL``, not ``id > last_id``. Identity values
      are taken at insert but rows become visible at commit, so a transaction holding id 7 may
      commit after one holding id 8; a high-water mark would skip 7 forever, this query finds it.
    * Replicas share the work: SKIP LOCKED hands each batch to one relay. Across replicas, and
      across out-of-order commits, messages are not strictly in id order; consumers must not
      depend on it.
    * A row that can never be published (larger than the server's ``max_payload``, or a permanent
      JetStream error, :func:`is_permanent`) is *parked*: ``parked_at`` and ``park_error`` are
      set, it is logged at error level and counted (:attr:`parked`, :meth:`parked_rows`, and the
      OpenTelemetry counter ``beez.outbox.parked`` by outbox, the one to alert on), and the rest
      of the batch is published. One poisoned row never blocks other tenants' messages.
    * Any other failed publish (NATS away, a full stream, a timeout) rolls the round back; the
      rows stay unsent and are retried after a pause. A full stream (:func:`is_stream_full`) is
      logged at error level and counted (:attr:`stream_full`, and the OpenTelemetry counter
      ``beez.outbox.stream_full`` by outbox), so it alerts while the relay waits for room.
      Messages of that batch already stored are re-sent with the same ``Nats-Msg-Id`` and dropped
      by the duplicate window (see the module docstring for the full guarantee).
    * Sent rows older than ``retention`` are deleted every ``purge_every``.

    ``on_published`` runs after the PubAcks and before the mark, inside the transaction: it is
    the hook fault-injection tests use to kill the relay exactly between publishing and marking.

    With a :class:`DirectPublisher` the writers publish their own rows after commit; the relay
    then takes only rows older than ``min_age``, those the direct publish left behind.
    """

    def __init__(
        self,
        db: Database,
        table: Table,
        publisher: Publisher,
        *,
        batch: int = 500,
        poll_interval: float = 1.0,
        retention: timedelta = timedelta(hours=1),
        purge_every: timedelta = timedelta(minutes=5),
        on_published: OnPublished | None = None,
        listen_keepalive: float = 30.0,
        max_error_pause: float = 15.0,
        min_age: timedelta | None = None,
        meter: metrics.Meter | None = None,
    ) -> None:
        self._db = db
        self._table = table
        self._publisher = publisher
        self._batch = batch
        self._poll_interval = poll_interval
        self._retention = retention
        self._purge_every = purge_every.total_seconds()
        self._on_published = on_published
        self._keepalive = listen_keepalive
        self._max_error_pause = max_error_pause
        self._min_age = min_age
        self._channel = outbox_channel(table)
        self._default_msg_id = f"{table.schema or 'public'}:outbox:"
        self._conninfo = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._stopped = asyncio.Event()
        self._running = False
        self.listening = asyncio.Event()
        """Set while the LISTEN connection is up (tests wait for it; a health check may too)."""
        self.published = 0
        """Rows published and marked sent by this relay (re-sends counted again)."""
        self.parked = 0
        """Rows this relay parked because they could never be published (see :meth:`parked_rows`)."""
        self._parked_counter = (meter or metrics.get_meter("beez.kit.bus")).create_counter(
            "beez.outbox.parked",
            unit="{row}",
            description="Outbox rows parked because they can never be published: alert on any increase",
        )
        self._outbox_name = f"{table.schema or 'public'}.{table.name}"
        meter = meter or metrics.get_meter("beez.kit.bus")
        self._stream_full_counter = meter.create_counter(
            "beez.outbox.stream_full",
            unit="{round}",
            description="Outbox relay rounds refused by a full stream; the rows are kept and retried",
        )
        self.stream_full = 0
        """Rounds refused because a stream was full since the last round that published."""

    async def relay_once(self) -> int:
        """Publishes and marks one batch of unsent rows; returns how many there were."""
        table = self._table
        async with self._db.transaction() as session:
            query = select(
                table.c.id, table.c.subject, table.c.payload, table.c.headers, table.c.msg_id, table.c.org_id
            ).where(table.c.sent_at.is_(None), table.c.parked_at.is_(None))
            if self._min_age is not None:
                query = query.where(table.c.created_at < func.now() - bindparam("min_age", self._min_age))
            result = await session.execute(
                query.order_by(table.c.id).limit(self._batch).with_for_update(skip_locked=True)
            )
            rows = result.all()
            if not rows:
                return 0
            limit = self._publisher.max_payload
            parked = {int(r.id): _too_large(_wire_size(r), limit) for r in rows if _wire_size(r) > limit}
            publications = {
                int(row.id): Publication(
                    row.subject,
                    bytes(row.payload),
                    row.msg_id or f"{self._default_msg_id}{row.id}",
                    row.headers,
                    row.org_id,
                )
                for row in rows
                if int(row.id) not in parked
            }
            try:
                await self._publisher.publish_many(list(publications.values()))
            except Exception as exc:
                if not is_permanent(exc):
                    raise
                parked.update(await self._isolate(publications))
            if parked:
                await self._park(session, parked)
            ids = [int(row.id) for row in rows if int(row.id) not in parked]
            if self._on_published is not None:
                await self._on_published(ids)
            await mark_sent(session, table, ids)
        self.published += len(ids)
        self.parked += len(parked)
        if parked:
            self._parked_counter.add(len(parked), {"outbox": self._outbox_name})
        return len(rows)

    async def _isolate(self, publications: Mapping[int, Publication]) -> dict[int, str]:
        """Publishes a failed batch one message at a time; returns the rows failing for good.

        A transient failure on any message raises, so the whole round rolls back and retries.
        """
        failed: dict[int, str] = {}
        for row_id, publication in publications.items():
            try:
                await self._publisher.publish_many([publication])
            except Exception as exc:
                if not is_permanent(exc):
                    raise
                failed[row_id] = _describe(exc)
        return failed

    async def _park(self, session: AsyncSession, errors: Mapping[int, str]) -> None:
        """Sets aside rows that can never be published, so they stop blocking the rest."""
        table = self._table
        for row_id, error in errors.items():
            await session.execute(
                update(table).where(table.c.id == row_id).values(parked_at=func.now(), park_error=error)
            )
            log.error("outbox row parked", table=table.name, schema=table.schema, row_id=row_id, error=error)

    async def parked_rows(self) -> int:
        """How many rows of the outbox are parked (the alert: operators look at ``park_error``)."""
        table = self._table
        async with self._db.transaction() as session:
            count = await session.scalar(
                select(func.count()).select_from(table).where(table.c.parked_at.is_not(None))
            )
        return int(count or 0)

    async def purge(self) -> int:
        """Deletes up to PURGE_BATCH sent rows older than ``retention``; returns how many."""
        table = self._table
        old = (
            select(table.c.id)
            .where(table.c.sent_at < func.now() - bindparam("retention", self._retention))
            .order_by(table.c.id)
            .limit(PURGE_BATCH)
            .scalar_subquery()
        )
        async with self._db.transaction() as session:
            result = cast(CursorResult[Any], await session.execute(delete(table).where(table.c.id.in_(old))))
        return int(result.rowcount)

    async def run(self) -> None:
        """Relays until :meth:`stop`; database and NATS outages are logged and retried, never raised."""
        if self._running:
            raise RuntimeError("outbox relay is already running")
        self._running = True
        self._stopping.clear()
        self._stopped.clear()
        listener = asyncio.create_task(self._listen())
        failures = 0
        next_purge = time.monotonic()
        try:
            while not self._stopping.is_set():
                self._wake.clear()  # before the round: a NOTIFY during it triggers the next one
                try:
                    while True:
                        found = await self.relay_once()
                        if time.monotonic() >= next_purge:  # also under constant load
                            next_purge = time.monotonic() + self._purge_every
                            await self.purge()
                        if not found or self._stopping.is_set():
                            break
                except Exception as exc:
                    failures += 1
                    pause = min(0.5 * 2 ** (failures - 1), self._max_error_pause)
                    if is_stream_full(exc):
                        self.stream_full += 1
                        self._stream_full_counter.add(1, {"outbox": self._outbox_name})
                        log.error(
                            "stream full: outbox rows kept, retrying",
                            channel=self._channel,
                            error=_describe(exc),
                            retry_in=pause,
                        )
                    else:
                        log.warning(
                            "outbox relay failed", channel=self._channel, error=repr(exc), retry_in=pause
                        )
                    await self._sleep(pause)
                    continue
                failures = 0
                self.stream_full = 0
                await self._sleep(self._poll_interval)
        finally:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener
            self._running = False
            self._stopped.set()

    async def stop(self) -> None:
        """Ends :meth:`run` after the round in progress (which commits or rolls back whole)."""
        self._stopping.set()
        self._wake.set()
        if self._running:
            await self._stopped.wait()

    async def _sleep(self, seconds: float) -> None:
        """Sleeps until ``seconds`` pass, a NOTIFY arrives or stop() is called."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._wake.wait()

    async def _listen(self) -> None:
        """Keeps a LISTEN connection open and turns each notification into a wake-up."""
        failures = 0
        while not self._stopping.is_set():
            try:
                async with await psycopg.AsyncConnection.connect(
                    self._conninfo, autocommit=True, connect_timeout=5, application_name="beez-outbox"
                ) as conn:
                    await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self._channel)))
                    self.listening.set()
                    failures = 0
                    self._wake.set()  # rows may have committed while nobody listened
                    while True:
                        async for _ in conn.notifies(timeout=self._keepalive):
                            self._wake.set()
                        async with asyncio.timeout(5):  # a dead peer the OS has not noticed
                            await conn.execute("SELECT 1")
            except Exception as exc:
                failures += 1
                log.warning("outbox listener lost", channel=self._channel, error=repr(exc))
            finally:
                self.listening.clear()
            await asyncio.sleep(min(0.5 * 2 ** (failures - 1), self._max_error_pause))
