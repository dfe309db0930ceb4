"""How often a failing action is tried again, and how long to wait in between.

By default an action is tried 4 times: at once, then 60 s, 300 s and 900 s after each failure
(the seed's "3 retries: 1m, 5m, 15m"). An action's ``config.retry`` may override this with
``{"attempts": N, "backoff": [s, ...]}``: ``attempts`` counts every try including the first (at
most :data:`MAX_ATTEMPTS`), ``backoff[i]`` is the wait before try ``i + 2``; when the list is
shorter than needed its last value repeats, and an empty list means retry at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["DEFAULT_RETRY", "MAX_ATTEMPTS", "MAX_BACKOFF_SECONDS", "RetryPolicy", "retry_policy"]

MAX_ATTEMPTS = 10
"""The most tries an action may ask for."""

MAX_BACKOFF_SECONDS = 86_400
"""The longest wait between two tries: a day."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """A number of tries and the waits between them (seconds)."""

    attempts: int
    backoff: tuple[int, ...]

    def delay_before(self, attempt: int) -> int | None:
        """Seconds to wait before try number ``attempt`` (1-based), or None when out of tries."""
        if attempt < 1 or attempt > self.attempts:
            return None
        if attempt == 1:
            return 0
        if not self.backoff:
            return 0
        return self.backoff[min(attempt - 2, len(self.backoff) - 1)]


DEFAULT_RETRY = RetryPolicy(attempts=4, backoff=(60, 300, 900))
"""Tried at once, then after 60, 300 and 900 seconds."""


def retry_policy(config: Mapping[str, Any] | None) -> RetryPolicy:
    """The policy for an action, from its ``config.retry`` override or :data:`DEFAULT_RETRY`.

    Values are assumed validated against the catalog schema; out-of-range ones are clamped.
    """
    override = (config or {}).get("retry")
    if not isinstance(override, Mapping):
        return DEFAULT_RETRY
    attempts = override.get("attempts", DEFAULT_RETRY.attempts)
    backoff = override.get("backoff", DEFAULT_RETRY.backoff)
    attempts = max(1, min(MAX_ATTEMPTS, int(attempts)))
    waits = tuple(max(0, min(MAX_BACKOFF_SECONDS, int(wait))) for wait in backoff)
    return RetryPolicy(attempts=attempts, backoff=waits)
