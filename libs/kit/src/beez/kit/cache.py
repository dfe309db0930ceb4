"""An in-process LRU cache bounded by entries and by bytes.

A service's caches are keyed by what tenants create (automation versions, workflows, waits), so
a count alone does not bound their memory: 512 workflows of 1 MiB are half a gigabyte. Each
entry here has a size in bytes (``sizeof``, an estimate of what it holds: the serialized
workflow, the source of a condition), and the least recently used entries are dropped while
either bound is exceeded. An entry larger than the whole byte budget is not kept at all.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
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
