"""BoundedCache: least recently used entries go first, past either bound."""

from __future__ import annotations

import asyncio
import functools

import pytest

from beez.kit.cache import BoundedCache, ExpiringCache


def _cache(entries: int = 10, size: int = 100) -> BoundedCache[str, bytes]:
    return BoundedCache(max_entries=entries, max_bytes=size, sizeof=len)


def test_bytes_bound_evicts_the_least_recently_used() -> None:
    cache = _cache()
    cache.put("a", b"x" * 40)
    cache.put("b", b"x" * 40)
    assert cache.get("a") is not None  # "b" is now the least recently used
    cache.put("c", b"x" * 40)
    assert "b" not in cache and "a" in cache and "c" in cache
    assert cache.bytes == 80


def test_entries_bound() -> None:
    cache = _cache(entries=2)
    for key in "abc":
        cache.put(key, b"x")
    assert len(cache) == 2 and "a" not in cache


def test_an_entry_larger_than_the_budget_is_not_kept() -> None:
    cache = _cache()
    cache.put("a", b"x" * 10)
    cache.put("huge", b"x" * 101)
    assert "huge" not in cache and cache.get("a") == b"x" * 10


def test_replacing_and_popping_keep_the_byte_count() -> None:
    cache = _cache()
    cache.put("a", b"x" * 50)
    cache.put("a", b"x" * 10)
    assert cache.bytes == 10
    assert cache.pop("a") == b"x" * 10 and cache.bytes == 0 and cache.pop("a") is None


def test_bounds_must_leave_room() -> None:
    with pytest.raises(ValueError, match="room"):
        _cache(entries=0)


async def test_expiring_cache_loads_once_per_ttl_and_keeps_nothing_from_a_failed_load() -> None:
    now = [0.0]
    cache: ExpiringCache[str, int] = ExpiringCache(ttl_s=10, max_entries=2, monotonic=lambda: now[0])
    loads: list[str] = []

    async def load(key: str, value: int) -> int:
        loads.append(key)
        return value

    assert await cache.get("a", lambda: load("a", 1)) == 1
    assert await cache.get("a", lambda: load("a", 2)) == 1  # fresh
    now[0] = 10
    assert await cache.get("a", lambda: load("a", 3)) == 3  # expired
    assert loads == ["a", "a"]

    async def fails() -> int:
        raise RuntimeError("source away")

    with pytest.raises(RuntimeError):
        await cache.get("b", fails)
    assert "b" not in cache
    for key in "bcd":
        await cache.get(key, functools.partial(load, key, 0))
    assert len(cache) == 2 and "a" not in cache


async def test_a_load_under_way_when_its_key_is_forgotten_is_not_kept() -> None:
    """A change (forget) landing while a load reads the old value: the old value is returned to
    that caller, but the next caller loads the new one instead of a stale cached copy."""
    cache: ExpiringCache[str, str] = ExpiringCache(ttl_s=60)
    reading, changed = asyncio.Event(), asyncio.Event()

    async def slow_old() -> str:
        reading.set()
        await changed.wait()
        return "old"

    pending = asyncio.create_task(cache.get("org", slow_old))
    await reading.wait()
    cache.forget("org")  # the change committed while the old row was being read
    changed.set()
    assert await pending == "old"

    async def new() -> str:
        return "new"

    assert await cache.get("org", new) == "new"
