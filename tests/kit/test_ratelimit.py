"""The kit's rate limiter: token buckets in PostgreSQL shared by every replica."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from beez.kit.clock import ManualClock
from beez.kit.db import create_engine
from beez.kit.ratelimit import Decision, LeasedLimiter, Limit, RateLimiter, create_table_sql

SCHEMA = "limits"


@pytest.fixture
async def engines(database_url: str) -> AsyncIterator[tuple[AsyncEngine, AsyncEngine]]:
    """Two engines on one database: two replicas of a service, each with its own pool."""
    first = create_engine(database_url, SCHEMA, pool_size=4)
    second = create_engine(database_url, SCHEMA, pool_size=4)
    async with first.begin() as conn:
        await conn.execute(text(f"CREATE SCHEMA {SCHEMA}"))
        await conn.execute(text(create_table_sql(SCHEMA)))
    yield first, second
    await first.dispose()
    await second.dispose()


async def test_two_limiters_share_one_bucket(engines: tuple[AsyncEngine, AsyncEngine]) -> None:
    clock = ManualClock()
    one, two = (RateLimiter(engine, SCHEMA, clock) for engine in engines)
    limit = Limit(rate=1.0, burst=10)

    decisions = await asyncio.gather(*(limiter.acquire("org:a", limit) for limiter in [one, two] * 15))

    assert sum(d.allowed for d in decisions) == 10
    refused = [d for d in decisions if not d.allowed]
    assert len(refused) == 20
    assert all(d.key == "org:a" and 0 < d.retry_after <= 1.0 for d in refused)
    assert refused[0].retry_after_header == "1"
    # Another key has its own bucket.
    assert (await two.acquire("org:b", limit)).allowed


async def test_bucket_refills_at_its_rate_and_never_above_burst(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    clock = ManualClock()
    one, two = (RateLimiter(engine, SCHEMA, clock) for engine in engines)
    limit = Limit(rate=2.0, burst=4)
    for _ in range(4):
        assert (await one.acquire("k", limit)).allowed
    refused = await two.acquire("k", limit)
    assert not refused.allowed
    assert refused.retry_after == pytest.approx(0.5)

    clock.advance(timedelta(seconds=1))  # two tokens back
    assert (await two.acquire("k", limit)).allowed
    assert (await one.acquire("k", limit)).allowed
    assert not (await two.acquire("k", limit)).allowed

    clock.advance(timedelta(hours=1))  # refills to the burst, not 7,200
    allowed = [(await one.acquire("k", limit)).allowed for _ in range(6)]
    assert allowed == [True] * 4 + [False] * 2


async def test_a_clock_behind_the_bucket_refills_nothing(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    ahead, behind = ManualClock(), ManualClock()
    ahead.advance(timedelta(seconds=30))
    one = RateLimiter(engines[0], SCHEMA, ahead)
    two = RateLimiter(engines[1], SCHEMA, behind)
    limit = Limit(rate=1.0, burst=2)
    assert (await one.acquire("k", limit)).allowed
    assert (await one.acquire("k", limit)).allowed
    decision = await two.acquire("k", limit)
    assert not decision.allowed
    assert decision.remaining == pytest.approx(0.0)


async def test_acquire_all_names_the_quota_that_refused(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    limiter = RateLimiter(engines[0], SCHEMA, ManualClock())
    per_org, everyone = Limit(rate=1.0, burst=2), Limit(rate=1.0, burst=3)
    checks_a = [("org:a", per_org), ("global", everyone)]
    checks_b = [("org:b", per_org), ("global", everyone)]
    assert (await limiter.acquire_all(checks_a)).allowed
    assert (await limiter.acquire_all(checks_a)).allowed
    assert (await limiter.acquire_all(checks_a)).key == "org:a"  # org over, global untouched
    assert (await limiter.acquire_all(checks_b)).allowed
    refused = await limiter.acquire_all(checks_b)
    assert not refused.allowed and refused.key == "global"


def test_limits_are_checked() -> None:
    with pytest.raises(ValueError, match="rate"):
        Limit(rate=0, burst=1)
    with pytest.raises(ValueError, match="burst"):
        Limit(rate=1, burst=0.5)
    assert Limit.per_minute(120) == Limit(rate=2.0, burst=120)
    with pytest.raises(ValueError, match="schema"):
        create_table_sql("x; drop table y")


async def test_a_leased_limiter_spends_its_lease_locally_and_never_admits_more_than_the_bucket(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    clock = ManualClock()
    one, two = (LeasedLimiter(RateLimiter(engine, SCHEMA, clock), lease=5) for engine in engines)
    limit = Limit(rate=1.0, burst=20)

    admitted = 0
    for _ in range(20):
        admitted += sum(
            [(await one.acquire("org:a", limit)).allowed, (await two.acquire("org:a", limit)).allowed]
        )
    async with engines[0].connect() as conn:
        left = (await conn.execute(text(f"SELECT tokens FROM {SCHEMA}.rate_buckets"))).scalar_one()

    assert admitted == 20, "the two replicas together admit exactly the burst"
    assert left < 1
    refused = await one.acquire("org:a", limit)
    assert not refused.allowed and 0 < refused.retry_after <= 1.0


async def test_concurrent_callers_of_a_leased_limiter_share_one_lease(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    """Each caller buying its own lease would spend 50 x 10 tokens of a bucket of 40."""
    leased = LeasedLimiter(RateLimiter(engines[0], SCHEMA, ManualClock()), lease=10)
    decisions = await asyncio.gather(*(leased.acquire("org:b", Limit(rate=1.0, burst=40)) for _ in range(50)))
    assert sum(d.allowed for d in decisions) == 40


class CountingLimiter(RateLimiter):
    """Counts the statements sent to the bucket."""

    calls = 0

    async def acquire(self, key: str, limit: Limit, cost: float = 1.0) -> Decision:
        self.calls += 1
        return await super().acquire(key, limit, cost)


async def test_a_refused_key_is_refused_locally_until_its_retry_after(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    """A flood on an empty bucket costs no statement per call (nor a wait on the key's lock)."""
    counting = CountingLimiter(engines[0], SCHEMA, ManualClock())
    leased = LeasedLimiter(counting, lease=1)
    limit = Limit(rate=0.5, burst=1)
    assert (await leased.acquire("org:c", limit)).allowed
    first = await leased.acquire("org:c", limit)
    statements = counting.calls
    later = [await leased.acquire("org:c", limit) for _ in range(100)]

    assert not first.allowed and 1.0 < first.retry_after <= 2.0
    assert not any(d.allowed for d in later)
    assert counting.calls == statements, "refused from memory"
    assert all(0 < d.retry_after <= first.retry_after for d in later)
