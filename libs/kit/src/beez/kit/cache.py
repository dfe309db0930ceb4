"""In-process LRU caches bounded by entries and by bytes; one of them also by age.

A service's caches are keyed by what tenants create (automation versions, workflows, waits), so
a count alone does not bound their memory: 512 workflows of 1 MiB are half a gigabyte. Each
entry here has a size in bytes (``sizeof``, an estimate of what it holds: the serialized
workflow, the source of a condition), and the least recently used entries are dropped while
either bound is exceeded. An entry larger than the whole byte budget is not kept at all.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class BoundedCache(Generic[K, V]):
    """Least-recently-used entries are evicted past ``max_entries`` or ``max_bytes``."""

    def __init__(self, *, max_entries: int, max_bytes: int, sizeof: Callable[[V], int]) -> None:
        if max_entries < 1 or max_bytes < 1:
            raise ValueError("a cache needs room for at least one entry and one byte")
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._sizeof = sizeof
        self._entries: OrderedDict[K, tuple[V, int]] = OrderedDict()
        self._bytes = 0

    def get(self, key: K) -> V | None:
        """The value under ``key`` (now the most recently used), or None."""
        found = self._entries.get(key)
        if found is None:
            return None
        self._entries.move_to_end(key)
        return found[0]

    def put(self, key: K, value: V) -> None:
        """Keeps ``value`` under ``key``, evicting the least recently used entries to make room."""
        self.pop(key)
        size = max(0, self._sizeof(value))
        if size > self.max_bytes:
            return
        self._entries[key] = (value, size)
        self._bytes += size
        while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
            _, (_, evicted) = self._entries.popitem(last=False)
            self._bytes -= evicted

    def pop(self, key: K) -> V | None:
        """Removes ``key``; its value, or None."""
        found = self._entries.pop(key, None)
        if found is None:
            return None
        self._bytes -= found[1]
        return found[0]

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def bytes(self) -> int:
        """The sum of the sizes of the entries kept."""
        return self._bytes

    def clear(self) -> None:
        self._entries.clear()
        self._bytes = 0


class ExpiringCache(Generic[K, V]):
    """Values loaded per key and kept ``ttl_s`` seconds, at most ``max_entries`` keys (each
    counted as ``entry_bytes``), least recently used dropped first.

    For per-organization settings read on a hot path (caps, limits): a change made through this
    process calls :meth:`forget`, so it applies here at once. A load that was under way when a
    key was forgotten read the value from before the change; it is returned to its caller but not
    kept, so the stale value is never cached after the change. A load that raises keeps nothing.
    """

    def __init__(
        self,
        *,
        ttl_s: float,
        max_entries: int = 10_000,
        entry_bytes: int = 256,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl_s = ttl_s
        self._monotonic = monotonic
        self._entries: BoundedCache[K, tuple[float, V]] = BoundedCache(
            max_entries=max_entries, max_bytes=max_entries * entry_bytes, sizeof=lambda _: entry_bytes
        )
        self._forgets = 0

    async def get(self, key: K, load: Callable[[], Awaitable[V]]) -> V:
        """The value under ``key`` if loaded less than ``ttl_s`` ago, else ``await load()`` (kept
        unless ``key`` was forgotten meanwhile)."""
        now = self._monotonic()
        cached = self._entries.get(key)
        if cached is not None and now - cached[0] < self.ttl_s:
            return cached[1]
        forgets = self._forgets
        value = await load()
        if forgets == self._forgets:
            self._entries.put(key, (now, value))
        return value

    def forget(self, key: K) -> None:
        """Drops ``key`` (its value just changed), and keeps no value a load under way returns."""
        self._forgets += 1
        self._entries.pop(key)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def __len__(self) -> int:
        return len(self._entries)
