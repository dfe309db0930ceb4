"""UUIDv7 ids (RFC 9562): 48 bits of Unix milliseconds, then a counter and random bits.

Ids sort by creation time, index well and need no coordination between replicas. Within one
millisecond the 12 ``rand_a`` bits count up from a random start (the RFC's method 1), so the ids
one process makes are strictly increasing, even across threads; across processes they are ordered
to the millisecond. Keyset pagination relies only on ids being unique and totally ordered, never
on exact creation order.
"""

from __future__ import annotations

import os
import threading
import time
import uuid

_MS_MASK = (1 << 48) - 1
_RAND_B_MASK = (1 << 62) - 1

_lock = threading.Lock()
_last_ms = -1
_counter = 0


def uuid7() -> uuid.UUID:
    """A new UUIDv7, greater than every other this process made."""
    global _last_ms, _counter
    with _lock:
        ms = time.time_ns() // 1_000_000
        if ms > _last_ms:
            _last_ms = ms
            _counter = int.from_bytes(os.urandom(2), "big") & 0x7FF  # leave room to count up
        else:
            _counter += 1
            if _counter > 0xFFF:  # 4096 ids in one millisecond (or the clock went back): borrow the next
                _last_ms += 1
                _counter = 0
            ms = _last_ms
        counter = _counter
    rand_b = int.from_bytes(os.urandom(8), "big") & _RAND_B_MASK
    return uuid.UUID(int=(ms & _MS_MASK) << 80 | 0x7 << 76 | counter << 64 | 0b10 << 62 | rand_b)


def new_id() -> str:
    """A new UUIDv7 in canonical text form (``01936d4e-8b7a-7c3e-9f1a-2b3c4d5e6f70``).

    Fits a ``uuid`` and a ``text`` column alike.
    """
    return str(uuid7())


def new_hex_id(prefix: str = "") -> str:
    """A new UUIDv7 as 32 hex digits after ``prefix`` (``evt_01936d4e8b7a7c3e9f1a2b3c4d5e6f70``)."""
    return prefix + uuid7().hex
