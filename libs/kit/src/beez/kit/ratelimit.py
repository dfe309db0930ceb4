"""One rate limiter for every service: a token bucket per key, shared by all replicas.

A bucket is one row of ``<schema>.rate_buckets`` in the calling service's own schema (its
migration creates the table with :func:`create_table_sql`). :meth:`RateLimiter.acquire` refills
and takes tokens in ONE atomic ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` statement, so
any number of replicas share a bucket without a lock held across a round trip: PostgreSQL
serialises the updates of one row, and each sees the tokens the previous one left.

Time comes from the caller's :class:`~beez.kit.clock.Clock` (epoch seconds), so tests move time
instead of sleeping; replicas' clocks are NTP-synchronised, and a clock behind the bucket's last
update refills nothing rather than going negative. The cost per call is measured in
``bench/ratelimit.py`` and recorded in docs/decisions/0024.

Usage::

    limiter = RateLimiter(database.engine, "gateway", clock)
    decision = await limiter.acquire("org:org_1", Limit(rate=50, burst=100))
    if not decision.allowed:
        ...  # RESOURCE_EXHAUSTED / 429, Retry-After: decision.retry_after_header
"""

from __future__ import annotations

import asyncio
import math
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Boolean, Column, Double, MetaData, Table, Text
from sqlalchemy.ext.asyncio import AsyncEngine

from beez.kit.clock import Clock, SystemClock
from beez.kit.db import raw_driver

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")

TABLE = "rate_buckets"


def _checked_schema(schema: str) -> str:
    if not _IDENTIFIER.match(schema):
        raise ValueError(f"not a plain schema name: {schema!r}")
    return schema


def create_table_sql(schema: str) -> str:
    """The DDL of the bucket table in ``schema``, for a service's Alembic migration."""
    schema = _checked_schema(schema)
    return (
        f"CREATE TABLE IF NOT EXISTS {schema}.{TABLE} ("
        " key text PRIMARY KEY,"
        " tokens double precision NOT NULL,"
        " updated_at double precision NOT NULL,"
        " granted boolean NOT NULL)"
    )


def bucket_table(metadata: MetaData) -> Table:
    """The bucket table in a service's models, matching :func:`create_table_sql`, so the
    models-versus-migrations drift check knows it."""
    return Table(
        TABLE,
        metadata,
        Column("key", Text, primary_key=True),
        Column("tokens", Double, nullable=False),
        Column("updated_at", Double, nullable=False),
        Column("granted", Boolean, nullable=False),
    )


def drop_table_sql(schema: str) -> str:
    """The reverse of :func:`create_table_sql`."""
    return f"DROP TABLE IF EXISTS {_checked_schema(schema)}.{TABLE}"


@dataclass(frozen=True)
class Limit:
    """A token bucket's shape: ``rate`` tokens per second refill, at most ``burst`` held."""

    rate: float
    burst: float

    def __post_init__(self) -> None:
        if not (self.rate > 0 and math.isfinite(self.rate)):
            raise ValueError(f"rate must be a positive number, got {self.rate!r}")
        if not (self.burst >= 1 and math.isfinite(self.burst)):
            raise ValueError(f"burst must be at least 1, got {self.burst!r}")

    @classmethod
    def per_minute(cls, count: float, burst: float | None = None) -> Limit:
        """``count`` per minute, with a burst of ``burst`` (default: the whole minute's count)."""
        return cls(rate=count / 60.0, burst=burst if burst is not None else max(1.0, count))


@dataclass(frozen=True)
class Decision:
    """What :meth:`RateLimiter.acquire` decided for one key.

    ``retry_after`` is the seconds until the bucket holds the asked tokens again (0 when
    allowed); ``key`` names the bucket that decided, so a caller can name the quota refused.
    """

    allowed: bool
    retry_after: float
    remaining: float
    key: str

    @property
    def retry_after_header(self) -> str:
        """``Retry-After`` in whole seconds, rounded up, at least 1 when refused."""
        return "0" if self.allowed else str(max(1, math.ceil(self.retry_after)))


class RateLimiter:
    """Token buckets in ``<schema>.rate_buckets``, shared by every replica using that table."""

    def __init__(self, engine: AsyncEngine, schema: str, clock: Clock | None = None) -> None:
        self._engine = engine
        self._clock: Clock = clock or SystemClock()
        schema = _checked_schema(schema)
        available = "LEAST(%(burst)s, b.tokens + GREATEST(0, %(now)s - b.updated_at) * %(rate)s)"
        # A fresh bucket starts full: the VALUES row holds burst - cost tokens when granted.
        # Plain psycopg with a server-side prepared statement: the call is on hot paths, and
        # SQLAlchemy's per-statement work would be most of its client CPU.
        self._statement = (
            f"INSERT INTO {schema}.{TABLE} AS b (key, tokens, updated_at, granted)"
            " VALUES (%(key)s,"
            " CASE WHEN %(burst)s >= %(cost)s THEN %(burst)s - %(cost)s ELSE %(burst)s END,"
            " %(now)s, %(burst)s >= %(cost)s)"
            " ON CONFLICT (key) DO UPDATE SET"
            f" tokens = CASE WHEN {available} >= %(cost)s"
            f" THEN {available} - %(cost)s ELSE {available} END,"
            f" granted = {available} >= %(cost)s,"
            " updated_at = GREATEST(b.updated_at, %(now)s)"
            " RETURNING tokens, granted"
        )

    async def acquire(self, key: str, limit: Limit, cost: float = 1.0) -> Decision:
        """Takes ``cost`` tokens from bucket ``key`` if it holds them; otherwise takes none."""
        now = self._clock.now().timestamp()
        params = {
            "key": key,
            "burst": float(limit.burst),
            "rate": float(limit.rate),
            "cost": float(cost),
            "now": now,
        }
        async with self._engine.connect() as conn:
            # One statement, one round trip: no BEGIN/COMMIT around it. Switched on the connection
            # rather than the engine, so a cancellation during the switch still closes it here
            # (an engine-level option is applied inside connect(), where it would leak it).
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            async with raw_driver(conn) as driver:
                cursor = await driver.execute(self._statement, params, prepare=True)
                row = await cursor.fetchone()
        assert row is not None
        tokens, granted = float(row[0]), bool(row[1])
        if granted:
            return Decision(allowed=True, retry_after=0.0, remaining=tokens, key=key)
        wait = (cost - tokens) / limit.rate if cost <= limit.burst else math.inf
        return Decision(allowed=False, retry_after=wait, remaining=tokens, key=key)

    async def acquire_all(self, checks: Sequence[tuple[str, Limit]]) -> Decision:
        """One token from each bucket in order; the first refusal stops and is returned.

        A refusal by a later bucket leaves the earlier ones' tokens spent: the order should put
        the narrow bucket (per organization) before the wide one (global), so a tenant over its
        own quota never drains the global one.
        """
        decision = Decision(allowed=True, retry_after=0.0, remaining=math.inf, key="")
        for key, limit in checks:
            decision = await self.acquire(key, limit)
            if not decision.allowed:
                return decision
        return decision


class LeasedLimiter:
    """A :class:`RateLimiter` that takes up to ``lease`` tokens per round trip and spends them here.

    For hot paths (every event a trigger ingests): one statement buys a lease of tokens from the
    shared bucket, and the next calls for that key spend it in-process without a round trip. A
    lease is given up after ``hold_s`` (its tokens are lost rather than spent late, so a replica
    never admits a burst the bucket granted long ago). The lease is at most a quarter of the
    limit's burst, so replicas share a small bucket fairly; when a whole lease is refused, one
    token is asked for, and that refusal's ``retry_after`` is returned. A refusal is remembered
    until its ``retry_after`` has passed: calls for that key meanwhile are refused here, without
    a round trip or a wait on the key's lock, so a flooding key costs the bucket one statement
    per refill rather than one per call.
    """

    def __init__(self, limiter: RateLimiter, lease: int = 20, hold_s: float = 1.0) -> None:
        if lease < 1 or hold_s <= 0:
            raise ValueError("lease must be >= 1 and hold_s > 0")
        self._limiter = limiter
        self._lease = lease
        self._hold_s = hold_s
        self._held: dict[str, tuple[float, float]] = {}
        """Key -> (tokens left, monotonic deadline of the lease)."""
        self._refused: dict[str, float] = {}
        """Key -> monotonic time until which the bucket is known to be empty."""
        self._locks: dict[str, asyncio.Lock] = {}

    async def acquire(self, key: str, limit: Limit) -> Decision:
        """One token for ``key``, from the local lease when it holds one, else from the bucket.

        Callers of one key queue for the bucket one at a time, so concurrent calls share one
        lease instead of each buying its own (which would drain the bucket many times over).
        """
        spent = self._spend(key)
        if spent is not None:
            return spent
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            spent = self._spend(key)
            if spent is not None:
                return spent
            size = float(max(1, min(self._lease, int(limit.burst // 4))))
            decision = await self._limiter.acquire(key, limit, cost=size)
            if not decision.allowed and size > 1:
                size = 1.0
                decision = await self._limiter.acquire(key, limit)
            if decision.allowed and size > 1:
                self._held[key] = (size - 1, time.monotonic() + self._hold_s)
            elif not decision.allowed:
                self._refused[key] = time.monotonic() + decision.retry_after
            return decision

    def _spend(self, key: str) -> Decision | None:
        now = time.monotonic()
        refused_until = self._refused.get(key)
        if refused_until is not None:
            if now < refused_until:
                return Decision(allowed=False, retry_after=refused_until - now, remaining=0.0, key=key)
            del self._refused[key]
        tokens, deadline = self._held.get(key, (0.0, 0.0))
        if tokens >= 1 and now < deadline:
            self._held[key] = (tokens - 1, deadline)
            return Decision(allowed=True, retry_after=0.0, remaining=tokens - 1, key=key)
        self._held.pop(key, None)
        return None
