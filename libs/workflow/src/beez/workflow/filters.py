"""Event filters: the equality matches of ``trigger.filters``, ``goal.filters`` and the
``filters`` of ``wait_for_event``.

A filter maps a key of the event's ``data`` (a dotted path reaches into nested objects, e.g.
``"cart.currency"``) to the value it must equal. Numbers compare by value (``1`` matches
``1.0``, as JSON does not tell them apart) but never match booleans; text compares exactly.
Every filter must hold; no filters match everything.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["filters_match"]

_MISSING = object()


def _lookup(data: Mapping[str, Any], key: str) -> Any:
    if key in data:
        return data[key]
    current: Any = data
    for part in key.split("."):
        if not isinstance(current, Mapping) or part not in current:
            return _MISSING
        current = current[part]
    return current


def _equal(actual: Any, expected: Any) -> bool:
    if isinstance(actual, bool) or isinstance(expected, bool):
        return isinstance(actual, bool) and isinstance(expected, bool) and actual == expected
    if isinstance(actual, int | float) and isinstance(expected, int | float):
        return float(actual) == float(expected)
    return type(actual) is type(expected) and bool(actual == expected)


def filters_match(filters: Mapping[str, Any], data: Mapping[str, Any]) -> bool:
    """Whether the event ``data`` satisfies every filter."""
    for key, expected in filters.items():
        actual = _lookup(data, key)
        if actual is _MISSING or not _equal(actual, expected):
            return False
    return True
