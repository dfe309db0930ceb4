"""Async SQLAlchemy 2 on psycopg 3: one engine per service schema, and the unit of work.

Every table a service owns lives in its own PostgreSQL schema. Models use :func:`make_metadata`
so constraint names are stable across migrations. Code that changes state takes an
:class:`AsyncSession` from :meth:`Database.transaction`, which commits once at the end; nothing
below it commits on its own behalf.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from psycopg import AsyncConnection, pq, sql
from psycopg.types.json import Jsonb
from sqlalchemy import MetaData, Table, bindparam, event, insert, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import psycopg as psycopg_dialect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncConnection as SAConnection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.sql.expression import ClauseElement

from beez.kit.logging import get_logger

T = TypeVar("T")

log = get_logger(__name__)

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def make_metadata(schema: str) -> MetaData:
    """A MetaData confined to ``schema`` with stable constraint names."""
    return MetaData(schema=schema, naming_convention=NAMING_CONVENTION)


def async_url(url: str) -> str:
    """Rewrites ``postgresql://`` and ``postgres://`` URLs to the psycopg 3 driver."""
    parsed = make_url(url.replace("postgres://", "postgresql://", 1))
    if parsed.drivername in ("postgresql", "postgresql+psycopg2", "postgresql+asyncpg"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


SECURE_SSLMODE = "verify-full"


class InsecureDatabaseError(ValueError):
    """Production asked to reach PostgreSQL without verifying the server (below verify-full)."""


def database_tls(
    url: str, *, sslmode: str = "", sslrootcert: str = "", local_mode: bool, allow_insecure: bool = False
) -> dict[str, str]:
    """The libpq TLS parameters (``sslmode``, ``sslrootcert``) of the service's connections.

    ``sslmode`` is the setting, else the URL's own, else ``verify-full`` in production and
    ``prefer`` in local mode (what the embedded server, which has no certificate, accepts) or
    when insecure connections are allowed. Production refuses anything below ``verify-full``
    (the connection could be read or redirected) unless ``allow_insecure`` says otherwise.
    """
    query = make_url(async_url(url)).query
    given = query.get("sslmode")
    mode = (
        sslmode
        or (given if isinstance(given, str) else "")
        or ("prefer" if local_mode or allow_insecure else SECURE_SSLMODE)
    )
    if not local_mode and mode != SECURE_SSLMODE and not allow_insecure:
        raise InsecureDatabaseError(
            f"PostgreSQL sslmode={mode} does not verify the server: set BEEZ_DATABASE_SSLMODE=verify-full "
            "(and BEEZ_DATABASE_SSLROOTCERT to the CA of its certificate), or set "
            "BEEZ_DATABASE_ALLOW_INSECURE=true to accept it explicitly"
        )
    params = {"sslmode": mode}
    if sslrootcert:
        params["sslrootcert"] = sslrootcert
    return params


def with_tls(url: str, tls: Mapping[str, str] | None) -> str:
    """``url`` (psycopg 3 driver) with the libpq TLS parameters ``tls`` in its query.

    In the URL rather than in connect arguments, so every connection made from it (the outbox's
    LISTEN connection, Alembic's) gets them too.
    """
    parsed = make_url(async_url(url))
    if tls:
        parsed = parsed.update_query_dict(dict(tls))
    return parsed.render_as_string(hide_password=False)


def create_engine(
    url: str,
    schema: str,
    *,
    pool_size: int = 10,
    application_name: str = "beez",
    pre_ping: bool = False,
    tls: Mapping[str, str] | None = None,
    statement_timeout_s: float = 0,
    idle_in_transaction_timeout_s: float = 0,
) -> AsyncEngine:
    """An engine whose connections see ``schema`` first on their search path.

    ``statement_timeout_s`` and ``idle_in_transaction_timeout_s`` (0: none) bound what one
    connection may hold: PostgreSQL cancels a statement running longer, and ends a session left
    idle inside a transaction longer (its locks and snapshot released). Parameters never appear
    in SQLAlchemy's errors or logs (``hide_parameters``): they are tenants' data.

    ``pre_ping`` off (the default) saves a round trip per transaction: a connection broken by a
    PostgreSQL restart fails its next statement instead, which invalidates the whole pool, so
    one unit of work per process fails (a message redelivered, an RPC answered UNAVAILABLE)
    and the next gets fresh connections (decision 0010).
    """
    engine = create_async_engine(
        with_tls(url, tls),
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=pre_ping,
        pool_recycle=1800,
        hide_parameters=True,
        connect_args={
            "options": session_options(schema, statement_timeout_s, idle_in_transaction_timeout_s),
            "application_name": application_name,
            "connect_timeout": 5,
        },
    )
    event.listen(engine.sync_engine, "checkout", _refuse_unsettled)
    return engine


def _refuse_unsettled(dbapi_connection: Any, record: Any, proxy: Any) -> None:
    """Pool checkout guard: a connection not back to its pristine state is replaced, not used.

    A task cancelled at the wrong moment can return a connection SQLAlchemy believes clean while
    psycopg is not: still in pipeline mode or inside a command (see :func:`raw_driver`), or with
    autocommit left on by a cancelled ``isolation_level="AUTOCOMMIT"`` switch (psycopg yields to a
    busy event loop after setting it, before SQLAlchemy records it), which would run the next
    :meth:`Database.transaction` with every statement committing on its own. Local checks only,
    no round trip; raising :class:`~sqlalchemy.exc.DisconnectionError` makes the pool discard the
    connection and hand out a fresh one (SQLAlchemy's documented checkout-event mechanism).
    """
    driver = cast(AsyncConnection[Any], dbapi_connection.driver_connection)
    if (
        driver.autocommit
        or not driver_settled(driver)
        or driver.info.transaction_status != pq.TransactionStatus.IDLE
    ):
        log.warning(
            "discarding a pooled connection left in an unexpected state",
            autocommit=driver.autocommit,
            closed=driver.closed,
            pipeline=int(driver.pgconn.pipeline_status),
            transaction=int(driver.pgconn.transaction_status),
        )
        raise DisconnectionError("pooled connection left mid-command or in autocommit; replaced")


def session_options(schema: str, statement_timeout_s: float, idle_in_transaction_timeout_s: float) -> str:
    """The libpq ``options`` of a service's connections: its search path and its time limits."""
    options = [f"-c search_path={schema},public"]
    if statement_timeout_s:
        options.append(f"-c statement_timeout={round(statement_timeout_s * 1000)}")
    if idle_in_transaction_timeout_s:
        options.append(
            f"-c idle_in_transaction_session_timeout={round(idle_in_transaction_timeout_s * 1000)}"
        )
    return " ".join(options)


AfterCommit = Callable[[], Awaitable[None]]


@dataclass
class TransactionScope:
    """The :meth:`Database.transaction` the current task is in: its database, and what runs after it."""

    db: Database
    after_commit: list[AfterCommit] = field(default_factory=list)


_SCOPE: ContextVar[TransactionScope | None] = ContextVar("beez_transaction", default=None)


def current_transaction() -> TransactionScope | None:
    """The innermost :meth:`Database.transaction` of the running task, if any."""
    return _SCOPE.get()


class Database:
    """A service's engine and session factory."""

    def __init__(
        self,
        url: str,
        schema: str,
        *,
        pool_size: int = 10,
        application_name: str = "beez",
        pre_ping: bool = False,
        tls: Mapping[str, str] | None = None,
        statement_timeout_s: float = 0,
        idle_in_transaction_timeout_s: float = 0,
    ) -> None:
        self.schema = schema
        self.engine = create_engine(
            url,
            schema,
            pool_size=pool_size,
            application_name=application_name,
            pre_ping=pre_ping,
            tls=tls,
            statement_timeout_s=statement_timeout_s,
            idle_in_transaction_timeout_s=idle_in_transaction_timeout_s,
        )
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self.extensions: dict[str, Any] = {}
        """Per-database helpers others attach (the outbox's direct publishers, by table)."""

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session in one transaction: committed when the block ends, rolled back on error.

        Actions registered on :func:`current_transaction` run after the commit, in order, and
        only after it (never after a rollback); an action that fails is logged, not raised, as
        the transaction did commit.
        """
        scope = TransactionScope(self)
        token = _SCOPE.set(scope)
        try:
            async with self.sessions() as session, session.begin():
                yield session
        finally:
            _SCOPE.reset(token)
        for action in scope.after_commit:
            try:
                await action()
            except Exception as exc:
                log.warning("after-commit action failed", error=repr(exc))

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[AsyncSession]:
        """A read-only session whose statements all see one snapshot (REPEATABLE READ).

        In the default READ COMMITTED each statement sees what was committed when it began, so a
        read of a row and then of its children can straddle another transaction's commit and
        show a state that never existed (an execution still waiting, with the step its wake-up
        just added). Reads that must agree with each other use this.
        """
        async with self.sessions() as session, session.begin():
            await session.connection(
                execution_options={"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
            )
            yield session

    @asynccontextmanager
    async def autocommit(self) -> AsyncIterator[SAConnection]:
        """A connection on which every statement commits on its own, with no ``BEGIN`` or ``COMMIT``.

        For a single statement that is its own unit of work (marking outbox rows sent): one round
        trip where a transaction takes three.
        """
        async with self.engine.connect() as conn:
            yield await conn.execution_options(isolation_level="AUTOCOMMIT")

    async def ping(self) -> bool:
        """True when the database answers a trivial query."""
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    async def dispose(self) -> None:
        await self.engine.dispose()


_SETTLED = frozenset({pq.TransactionStatus.IDLE, pq.TransactionStatus.INTRANS, pq.TransactionStatus.INERROR})
"""Transaction states of a connection between commands: nothing sent is awaiting its results."""


def driver_settled(driver: AsyncConnection[Any]) -> bool:
    """True when psycopg's connection is between commands, as SQLAlchemy expects it back.

    Not settled: closed, still in pipeline mode, or with a command (a ``COPY``) in progress.
    """
    return (
        not driver.closed
        and driver.pgconn.pipeline_status == pq.PipelineStatus.OFF
        and driver.info.transaction_status in _SETTLED
    )


@asynccontextmanager
async def raw_driver(session: AsyncSession | SAConnection) -> AsyncIterator[AsyncConnection[Any]]:
    """psycopg's own connection under ``session``'s, for protocol features SQLAlchemy lacks.

    SQLAlchemy invalidates a connection whose statement is interrupted (a task cancelled by a
    timeout, :func:`sqlalchemy.util.is_exit_exception`), because the driver may be anywhere in
    the protocol; it cannot see what is done with the driver directly. So this does the same:
    when the block is interrupted, or ends with the driver not :func:`driver_settled`, the
    connection is invalidated (closed, never returned to the pool) before the exception goes on.
    Without it, a cancellation landing inside psycopg after a protocol step completed (psycopg
    yields to a busy event loop there) returned a connection still in pipeline mode, or inside a
    ``COPY``, to the pool, and every later statement on it read no rows or failed.
    """
    connection = await session.connection() if isinstance(session, AsyncSession) else session
    raw = await connection.get_raw_connection()
    driver = cast(AsyncConnection[Any], raw.driver_connection)
    try:
        yield driver
    except BaseException as exc:
        if not isinstance(exc, Exception) or not driver_settled(driver):
            await connection.invalidate(exc)
        raise
    if not driver_settled(driver):
        await connection.invalidate()
        raise RuntimeError("the database connection was left inside a command; it was discarded")


COPY_FROM = 8
"""Rows from which :func:`copy_rows` uses COPY rather than one executemany INSERT."""


async def copy_rows(
    session: AsyncSession | SAConnection,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str],
) -> None:
    """Writes ``rows`` (``columns`` of each; a missing key is NULL) into ``table``, by ``COPY`` if many.

    For many rows written at once, inside the caller's transaction: COPY sends one stream with no
    statement to parse or plan per row and no result per row, several times cheaper in CPU than
    an executemany, and a multi-row ``VALUES`` of a new size is a new statement to parse every
    time. Columns left out take their defaults (identities, ``now()``). JSONB values are plain
    Python values. No ``RETURNING``: for rows whose generated keys nobody reads back.
    """
    if not rows:
        return
    if len(rows) < COPY_FROM:  # COPY costs a round trip more than one statement
        await session.execute(insert(table), [{name: row.get(name) for name in columns} for row in rows])
        return
    json_columns = {c.name for c in table.columns if isinstance(c.type, JSONB)}
    wrap = [name in json_columns for name in columns]
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(*([table.schema] if table.schema else []), table.name),
        sql.SQL(", ").join(sql.Identifier(name) for name in columns),
    )
    async with raw_driver(session) as driver, driver.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            await copy.write_row(
                [
                    Jsonb(value) if json and value is not None else value
                    for json, value in zip(wrap, (row.get(name) for name in columns), strict=True)
                ]
            )


def copy_columns(table: Table, rows: Iterable[Mapping[str, Any]]) -> list[str]:
    """The table's columns that any of ``rows`` sets, in table order (for :func:`copy_rows`)."""
    named: set[str] = set()
    for row in rows:
        named.update(row)
    return [c.name for c in table.columns if c.name in named]


Statement = tuple[ClauseElement, Mapping[str, Any] | Sequence[Mapping[str, Any]]]
"""A prebuilt Core statement and its parameters (a list of them: executed once per item), for
:func:`pipelined`."""

_PIPELINE_SQL: dict[int, tuple[ClauseElement, str, dict[str, Any]]] = {}
_DIALECT = psycopg_dialect.dialect()  # type: ignore[no-untyped-call]


def _pipeline_sql(statement: ClauseElement) -> tuple[str, dict[str, Any]]:
    """``statement`` as psycopg SQL text (``%(name)s`` parameters) and the values of its literal
    parameters, compiled once per statement."""
    cached = _PIPELINE_SQL.get(id(statement))
    if cached is not None and cached[0] is statement:
        return cached[1], cached[2]
    compiled = statement.compile(dialect=_DIALECT)
    if getattr(compiled, "positiontup", None):  # a positional paramstyle would reorder them
        raise ValueError("pipelined statements need named parameters")
    literals = {name: value for name, value in compiled.params.items() if value is not None}
    _PIPELINE_SQL[id(statement)] = (statement, str(compiled), literals)
    return str(compiled), literals


_BINARY_ARRAYS: dict[tuple[str, tuple[str, ...]], str] = {}


def _binary_arrays(query: str, params: Mapping[str, Any]) -> str:
    """``query`` with its array parameters sent in binary format where that means the same.

    psycopg writes a list in text format element by element in Python, escaping each (a bytea
    doubles in size, a JSON document is quoted again): about 17 µs per row of a five-column
    unnest insert, against under 4 µs in binary. A list of texts is the exception: in text
    format its type is left for PostgreSQL to infer (a uuid column takes it), in binary it is
    ``text[]``, so it goes binary only where the statement casts it (``CAST(%(name)s AS ...)``, ``::``).
    """
    names = tuple(
        name for name, value in params.items() if isinstance(value, list) and _binary_list(query, name, value)
    )
    if not names:
        return query
    key = (query, names)
    variant = _BINARY_ARRAYS.get(key)
    if variant is None:
        variant = query
        for name in names:
            variant = variant.replace(f"%({name})s", f"%({name})b")
        if len(_BINARY_ARRAYS) > 4096:
            _BINARY_ARRAYS.clear()
        _BINARY_ARRAYS[key] = variant
    return variant


def _binary_list(query: str, name: str, value: list[Any]) -> bool:
    first = next((item for item in value if item is not None), None)
    if first is None:
        return False  # no element to take a type from
    return not isinstance(first, str) or f"CAST(%({name})s AS " in query or f"%({name})s::" in query


async def pipelined(session: AsyncSession | SAConnection, statements: Sequence[Statement]) -> list[list[Any]]:
    """Runs ``statements`` in order in one round trip; returns the rows of each (empty without any).

    In the caller's transaction, through psycopg's pipeline mode: the statements (and the
    transaction's ``BEGIN`` when they come first) go to PostgreSQL together and their results come
    back together, where running them one by one pays a round trip, a wake-up of both processes
    and SQLAlchemy's execution machinery per statement. PostgreSQL still runs them one after the
    other, in the order given, so lock order is kept. For module-level prebuilt statements with
    named bind parameters whose values psycopg adapts as they are (no SQLAlchemy type
    processing: text, numbers, timestamps, bytes, lists as arrays). An error surfaces as the
    ``psycopg.Error`` PostgreSQL reported, and aborts the transaction like any failed statement.
    """
    cursors = []
    async with raw_driver(session) as driver:
        async with driver.pipeline():
            for statement, params in statements:
                cursor = driver.cursor()
                query, literals = _pipeline_sql(statement)
                if isinstance(params, Mapping):
                    await cursor.execute(
                        _binary_arrays(query, params), {**literals, **params} if literals else params
                    )
                else:
                    await cursor.executemany(
                        query, [{**literals, **p} for p in params] if literals else params
                    )
                cursors.append(cursor)
        return [await cursor.fetchall() if cursor.description is not None else [] for cursor in cursors]


_INSERTS: dict[tuple[Table, tuple[str, ...]], ClauseElement] = {}


def rows_insert(table: Table, rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> Statement:
    """An INSERT of ``rows`` (``columns`` of each; a missing key is NULL) for :func:`pipelined`.

    The few-rows counterpart of :func:`copy_rows`, to send with other statements in one round
    trip: one statement text per table and column list, executed once per row.
    """
    key = (table, tuple(columns))
    statement = _INSERTS.get(key)
    if statement is None:
        statement = _INSERTS[key] = insert(table).values(
            {name: bindparam(name, type_=table.c[name].type) for name in columns}
        )
    json = [isinstance(table.c[name].type, JSONB) for name in columns]
    params = [
        {
            name: Jsonb(value) if is_json and value is not None else value
            for name, is_json, value in zip(columns, json, (row.get(name) for name in columns), strict=True)
        }
        for row in rows
    ]
    return statement, params


def plain_rows(model: type[T]) -> Callable[..., T]:
    """A plain class standing in for ``model`` for rows built and written in memory.

    It has the model's column attributes, in slots, and nothing else: no instrumentation, no
    instance state, so making one and setting its attributes costs a fraction of a transient
    ORM object's. An attribute not given is None, as on a transient object. For rows that are
    never added to a session (the executor's fresh executions go to the database by COPY or
    :func:`rows_insert`).
    """
    names = tuple(column.key for column in cast(Table, cast(Any, model).__table__).columns)
    allowed = frozenset(names)

    def __init__(self: Any, **values: Any) -> None:
        unknown = values.keys() - allowed
        if unknown:
            raise TypeError(f"{model.__name__} has no column {', '.join(sorted(unknown))}")
        for name in names:
            setattr(self, name, values.get(name))

    row = type(f"Plain{model.__name__}", (), {"__slots__": names, "__init__": __init__})
    return cast(Callable[..., T], row)
