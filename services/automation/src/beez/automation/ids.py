"""Automation ids: UUIDv7 strings, so ids sort by creation time (RFC 9562).

Within one millisecond the 12 ``rand_a`` bits count up (the RFC's method 1), so the ids one
process makes are strictly increasing; across processes they are ordered to the millisecond.
List pagination relies only on ids being unique and totally ordered, never on exact creation order.
"""

from __future__ import annotations

import os
import threading
import time
import uuid

_lock = threading.Lock()
_last_ms = -1
_counter = 0


def new_id() -> str:
    """A new UUIDv7 in canonical text form, e.g. ``01936d4e-8b7a-7c3e-9f1a-2b3c4d5e6f70``."""
    global _last_ms, _counter
    with _lock:
        ms = time.time_ns() // 1_000_000
        if ms > _last_ms:
            _last_ms = ms
            _counter = int.from_bytes(os.urandom(2), "big") & 0x7FF  # leave room to count up
        else:
            _counter += 1
            if _counter > 0xFFF:  # 4096 ids in one millisecond: borrow the next one
                _last_ms += 1
                _counter = 0
            ms = _last_ms
        rand_b = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
        value = (ms & ((1 << 48) - 1)) << 80 | 0x7 << 76 | _counter << 64 | 0b10 << 62 | rand_b
    return str(uuid.UUID(int=value))
