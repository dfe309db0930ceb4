"""Deferring a message: "not now, try again in N seconds", which is not a failure.

A handler raises :class:`Deferred` when something it may not exceed (a rate limit, a quota)
says to wait: the :class:`~beez.kit.bus.worker.PullWorker` holds the message, keeps its ack
timer alive, frees the handler's slot while it waits, and runs the handler again after
``delay``. The wait never counts as a delivery or an attempt toward dead-lettering, and the
message is never dropped for it (decision 0031).
"""

from __future__ import annotations

import math

MAX_DEFER_SECONDS = 300.0
"""The longest one deferral holds a message; a longer ask is cut to this, then asked again."""


class Deferred(Exception):
    """Raised by a handler to have its message handled again after ``delay`` seconds.

    ``reason`` names what refused (a quota's name, for logs and metrics).
    """

    def __init__(self, delay: float, reason: str = "") -> None:
        if not math.isfinite(delay) or delay < 0:
            delay = MAX_DEFER_SECONDS
        self.delay = min(float(delay), MAX_DEFER_SECONDS)
        self.reason = reason
        super().__init__(f"deferred {self.delay:.3f}s: {reason}" if reason else f"deferred {self.delay:.3f}s")
