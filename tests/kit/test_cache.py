"""BoundedCache: least recently used entries go first, past either bound."""

from __future__ import annotations

import pytest

from beez.kit.cache import BoundedCache


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
