"""Identifiers the trigger generates: event ids for events sent without one, and execution ids.

Both are UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then random bits, so ids sort by
creation time, index well, and need no coordination between replicas.
"""

from __future__ import annotations

import secrets
import time
import uuid


def uuid7() -> uuid.UUID:
    """A new UUIDv7."""
    millis = time.time_ns() // 1_000_000
    rand_a = secrets.randbits(12)
    rand_b = secrets.randbits(62)
    value = (millis & ((1 << 48) - 1)) << 80 | 0x7 << 76 | rand_a << 64 | 0b10 << 62 | rand_b
    return uuid.UUID(int=value)


def new_event_id() -> str:
    """``evt_<32 hex digits>``: the id given to an event published without one."""
    return f"evt_{uuid7().hex}"


def new_execution_id() -> str:
    """A UUIDv7 in its canonical text form, fit for a ``uuid`` or a ``text`` column alike."""
    return str(uuid7())
