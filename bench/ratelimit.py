"""``python -m bench.ratelimit``: the cost of one ``RateLimiter.acquire`` against real PostgreSQL.

Drives the kit's limiter (``beez.kit.ratelimit``) from ``CONCURRENCY`` tasks in this process,
over a pool of that many connections, against ``DATABASE_URL`` (else the machine's PostgreSQL at
127.0.0.1), on a database of its own. Two shapes: ``spread`` (each call on one of 1,000 keys,
the gateway's per-organization buckets) and ``hot`` (every call on one key, the global bucket:
every update serialises on one row). Prints calls/s, p50/p99 latency per call, and the client
CPU per call, for decision 0024.
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import time

from sqlalchemy import text

from beez.kit.db import create_engine
from beez.kit.ratelimit import Limit, RateLimiter, create_table_sql
from beez.kit.stack import create_database, drop_database

ADMIN_URL = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
CALLS = int(os.environ.get("BENCH_CALLS", "4000"))
LIMIT = Limit(rate=1_000_000.0, burst=1_000_000.0)  # always granted: the cost, not the refusals


async def run(shape: str, concurrency: int) -> None:
    url = await asyncio.to_thread(create_database, ADMIN_URL, "beez_rl")
    engine = create_engine(url, "limits", pool_size=concurrency)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE SCHEMA limits"))
            await conn.execute(text(create_table_sql("limits")))
        limiter = RateLimiter(engine, "limits")
        keys = ["global"] if shape == "hot" else [f"org:{i}" for i in range(1000)]
        latencies: list[float] = []

        async def caller(n: int) -> None:
            for _ in range(n):
                key = random.choice(keys)
                began = time.perf_counter()
                await limiter.acquire(key, LIMIT)
                latencies.append(time.perf_counter() - began)

        await asyncio.gather(*(caller(20) for _ in range(concurrency)))  # warm the pool
        latencies.clear()
        cpu, wall = time.process_time(), time.perf_counter()
        await asyncio.gather(*(caller(CALLS // concurrency) for _ in range(concurrency)))
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        latencies.sort()
        p50 = statistics.median(latencies) * 1000
        p99 = latencies[int(len(latencies) * 0.99)] * 1000
        print(
            f"{shape:6} concurrency {concurrency:3}: {len(latencies) / wall:7.0f} calls/s"
            f"  p50 {p50:6.2f} ms  p99 {p99:6.2f} ms"
            f"  client CPU {cpu / len(latencies) * 1e6:5.0f} us/call"
        )
    finally:
        await engine.dispose()
        await asyncio.to_thread(drop_database, ADMIN_URL, url)


async def main() -> None:
    for shape in ("spread", "hot"):
        for concurrency in (1, 8, 32):
            await run(shape, concurrency)


if __name__ == "__main__":
    asyncio.run(main())
