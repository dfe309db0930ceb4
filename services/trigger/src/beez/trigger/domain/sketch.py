"""A mergeable, removable quantile sketch per (organization, numeric field): DDSketch's log buckets.

A value ``v`` falls in bucket ``key(v)``: ``0`` for ``|v| < MIN_ABS``, else
``sign(v) * (OFFSET + ceil(log_gamma |v|))``. Every value of a bucket is within
:data:`RELATIVE_ACCURACY` of the bucket's representative, so any quantile read from the counts is
that accurate. The table keeps per bucket a count and the sum of its values (the mean is exact).

Why not the ``ddsketch`` package: a contact's value moves (a score goes from 40 to 55), so the
sketch must take a value out as well as put one in. With bucket counts in rows that is a
decrement, and merging replicas' or batches' deltas is addition, done by an upsert with ``count =
count + excluded.count``: no read-modify-write of a serialized sketch, no hot blob.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

RELATIVE_ACCURACY = 0.01
GAMMA = (1 + RELATIVE_ACCURACY) / (1 - RELATIVE_ACCURACY)
_LOG_GAMMA = math.log(GAMMA)
MIN_ABS = 1e-9
OFFSET = 1_100
"""Keeps every key of ``|v| >= MIN_ABS`` above 0 (``log_gamma(1e-9)`` is about -1036)."""


def key(value: float) -> int:
    """The bucket of ``value``."""
    magnitude = abs(value)
    if magnitude < MIN_ABS:
        return 0
    index = OFFSET + math.ceil(math.log(magnitude) / _LOG_GAMMA)
    return index if value > 0 else -index


def representative(bucket: int) -> float:
    """The value a bucket stands for (within the relative accuracy of each of its values)."""
    if bucket == 0:
        return 0.0
    index = abs(bucket) - OFFSET
    value = 2 * GAMMA**index / (GAMMA + 1)
    return value if bucket > 0 else -value


Delta = dict[tuple[str, int], tuple[int, float]]
"""Per (field, bucket): the change of the count and of the sum."""


def add(delta: Delta, field: str, value: float, sign: int) -> None:
    """Puts ``value`` of ``field`` in (``sign`` 1) or takes it out (-1)."""
    bucket = key(value)
    count, total = delta.get((field, bucket), (0, 0.0))
    delta[field, bucket] = (count + sign, total + sign * value)


def move(delta: Delta, before: dict[str, float], after: dict[str, float]) -> None:
    """The delta of one contact's numeric fields going from ``before`` to ``after``."""
    for field in before.keys() | after.keys():
        old, new = before.get(field), after.get(field)
        if old == new:
            continue
        if old is not None:
            add(delta, field, old, -1)
        if new is not None:
            add(delta, field, new, 1)


def mean(buckets: Iterable[tuple[int, int, float]]) -> float | None:
    """The mean of the values in ``(bucket, count, sum)`` rows; None when there are none."""
    count = 0
    total = 0.0
    for _, n, s in buckets:
        count += n
        total += s
    return total / count if count > 0 else None


def quantile(buckets: Iterable[tuple[int, int, float]], q: float) -> float | None:
    """The ``q`` quantile (0..1) of the values in ``(bucket, count, sum)`` rows; None when empty."""
    rows = sorted(((representative(bucket), n) for bucket, n, _ in buckets if n > 0), key=lambda r: r[0])
    total = sum(n for _, n in rows)
    if total <= 0:
        return None
    rank = q * (total - 1)
    seen = 0
    for value, n in rows:
        seen += n
        if seen > rank:
            return value
    return rows[-1][0]
