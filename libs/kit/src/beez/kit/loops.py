"""Background loops that work in rounds: sweepers, timer firing, anything that polls the database."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from beez.kit.logging import get_logger

log = get_logger(__name__)


async def repeat_rounds(
    round_: Callable[[], Awaitable[int]],
    *,
    interval: float,
    full: int,
    what: str,
    max_pause: float | None = None,
) -> None:
    """Runs ``round_`` until cancelled; it returns how many items it handled.

    A full round (``full`` items) is followed by the next at once, so a backlog drains quickly;
    otherwise the loop sleeps ``interval``. A round that raises (the database is away) is logged
    and retried, after ``interval`` doubling with each failure in a row up to ``max_pause``
    (default: ``interval``, no growth).
    """
    failures = 0
    ceiling = max(max_pause or interval, interval)
    while True:
        try:
            handled = await round_()
        except Exception as exc:
            failures += 1
            log.warning(f"{what} failed", error=repr(exc))
            await asyncio.sleep(min(interval * 2**failures, ceiling))
            continue
        failures = 0
        if handled < full:
            await asyncio.sleep(interval)
