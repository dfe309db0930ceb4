"""One notion of time for the whole engine.

Delays, retries, wait timeouts and schedules all read the time from a :class:`Clock`. Production
uses :class:`SystemClock`; tests use :class:`ManualClock` and move it, so a 48-hour branch runs
in milliseconds without sleeping.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """A source of the current time that can also wait."""

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Waits ``seconds`` of this clock's time."""
        ...


class SystemClock:
    """The wall clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


class ManualClock:
    """A clock that only moves when told to; sleepers wake when it passes their deadline."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 1, tzinfo=UTC)
        self._changed = asyncio.Event()

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta
        self._changed.set()
        self._changed = asyncio.Event()

    async def sleep(self, seconds: float) -> None:
        deadline = self._now + timedelta(seconds=seconds)
        while self._now < deadline:
            await self._changed.wait()


class FileOffsetClock:
    """The wall clock moved forward by an offset read from a file.

    Processes started with ``BEEZ_CLOCK_OFFSET_FILE`` use it, so end-to-end tests (and
    simulations) can move the time of running services: writing ``172800`` to the file makes
    every service believe two days have passed, and due timers fire at once. The file is re-read
    at most every ``refresh_s``; a missing or empty file means no offset.
    """

    def __init__(self, path: str, refresh_s: float = 0.05) -> None:
        self.path = path
        self.refresh_s = refresh_s
        self._offset = timedelta(0)
        self._read_at = 0.0

    def offset(self) -> timedelta:
        import time

        now = time.monotonic()
        if now - self._read_at >= self.refresh_s:
            self._read_at = now
            try:
                with open(self.path) as f:
                    text = f.read().strip()
                self._offset = timedelta(seconds=float(text or 0))
            except (OSError, ValueError):
                self._offset = timedelta(0)
        return self._offset

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


def clock_from_settings(offset_file: str) -> Clock:
    """The system clock, or a :class:`FileOffsetClock` when an offset file is configured."""
    return FileOffsetClock(offset_file) if offset_file else SystemClock()
