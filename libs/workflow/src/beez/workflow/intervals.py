"""Amounts of time and times of day: delays, timeouts, ``wait {until}`` and quiet hours.

Fixed units (seconds to weeks) are exact elapsed time, so a 24-hour wait is 24 hours even across
a daylight-saving change. Months are calendar months on the wall clock of the datetime given,
clamped to the month's end (31 January + 1 month = 28/29 February). Times of day are read in
an IANA time zone with :mod:`zoneinfo`; results are timezone-aware UTC datetimes, ready to be
stored as a timer's ``due_at``.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from beez.api.workflow.v1.workflow_pb2 import Interval

__all__ = [
    "MAX_DELAY",
    "UNITS",
    "WEEKDAYS",
    "IntervalLike",
    "add_interval",
    "interval_parts",
    "interval_problem",
    "is_valid_timezone",
    "next_time_of_day",
    "parse_time",
    "parse_time_of_day",
    "quiet_hours_end",
    "subtract_interval",
    "to_timedelta",
    "wait_due",
    "zone",
]

UNITS: tuple[str, ...] = ("seconds", "minutes", "hours", "days", "weeks", "months")
"""The units an interval may use."""

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""Weekday names, in ``datetime.weekday()`` order."""

MAX_DELAY = timedelta(days=365)
"""The longest delay or timeout: one year (365 days, 52 weeks, 12 months or 8760 hours)."""

_SECONDS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400, "weeks": 604800}
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME_OF_DAY = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")

IntervalLike = Interval | Mapping[str, Any]
"""An :class:`Interval` proto or its JSON form ``{"value": 1, "unit": "hours"}``."""


def interval_parts(interval: IntervalLike) -> tuple[int, str]:
    """The ``(value, unit)`` of an interval, checking both.

    Raises:
        ValueError: when the value is not a whole number or the unit is unknown.
    """
    if isinstance(interval, Mapping):
        value, unit = interval.get("value"), interval.get("unit")
    else:
        value, unit = interval.value, interval.unit
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"interval value must be a whole number, not {value!r}")
    if unit not in UNITS:
        raise ValueError(f"interval unit must be one of {', '.join(UNITS)}, not {unit!r}")
    return value, str(unit)


def interval_problem(interval: IntervalLike) -> str | None:
    """Why an interval cannot be a delay or timeout (not positive, over a year), or None."""
    try:
        value, unit = interval_parts(interval)
    except ValueError as exc:
        return str(exc)
    if value <= 0:
        return "must be positive"
    too_long = value > 12 if unit == "months" else timedelta(seconds=value * _SECONDS[unit]) > MAX_DELAY
    return "must not be longer than 1 year" if too_long else None


def to_timedelta(interval: IntervalLike) -> timedelta:
    """The exact length of a fixed-unit interval.

    Raises:
        ValueError: for months, which have no fixed length (use :func:`add_interval`), and for
            malformed intervals.
    """
    value, unit = interval_parts(interval)
    if unit == "months":
        raise ValueError("months have no fixed length; use add_interval")
    return timedelta(seconds=value * _SECONDS[unit])


def _aware(moment: datetime) -> datetime:
    """Naive datetimes are taken to be UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _normalise(local: datetime) -> datetime:
    """Resolves a wall-clock time that falls in a DST gap to the instant the clock passes it."""
    return local.astimezone(UTC).astimezone(local.tzinfo)


def _add_months(moment: datetime, months: int) -> datetime:
    year, month_index = divmod(moment.month - 1 + months, 12)
    year += moment.year
    day = min(moment.day, calendar.monthrange(year, month_index + 1)[1])
    return _normalise(moment.replace(year=year, month=month_index + 1, day=day))


def add_interval(moment: datetime, interval: IntervalLike, sign: int = 1) -> datetime:
    """``moment`` moved by the interval (backwards when ``sign`` is -1), in ``moment``'s zone."""
    moment = _aware(moment)
    value, unit = interval_parts(interval)
    if unit == "months":
        return _add_months(moment, sign * value)
    shifted = moment.astimezone(UTC) + sign * timedelta(seconds=value * _SECONDS[unit])
    return shifted.astimezone(moment.tzinfo)


def subtract_interval(moment: datetime, interval: IntervalLike) -> datetime:
    """``moment`` moved back by the interval; used for "within the last N units"."""
    return add_interval(moment, interval, sign=-1)


def parse_time(value: Any) -> datetime | None:
    """A datetime from a timestamp, an RFC 3339 string or a ``YYYY-MM-DD`` date (midnight UTC).

    Anything else, including malformed text, gives None; naive times are taken as UTC.
    """
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if not isinstance(value, str):
        return None
    text = value.strip()
    try:
        if _DATE.match(text):
            return datetime.fromisoformat(text).replace(tzinfo=UTC)
        if "T" not in text.upper() or len(text) < 16:
            return None
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


@lru_cache(maxsize=1)
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones()) | {"UTC"}


def is_valid_timezone(name: str) -> bool:
    """Whether ``name`` is an IANA time zone name known to this machine."""
    return name in _zone_names()


def zone(*names: str | None) -> ZoneInfo:
    """The first valid time zone among ``names`` (e.g. the contact's, then the org's), else UTC."""
    for name in names:
        if name and is_valid_timezone(name):
            try:
                return ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")


def _tz(tz: tzinfo | str) -> tzinfo:
    if isinstance(tz, str):
        if not is_valid_timezone(tz):
            raise ValueError(f"unknown time zone {tz!r}")
        return ZoneInfo(tz)
    return tz


def parse_time_of_day(text: str) -> time:
    """``"09:00"`` as a :class:`~datetime.time`.

    Raises:
        ValueError: unless ``text`` is ``HH:MM`` on a 24-hour clock.
    """
    match = _TIME_OF_DAY.match(text)
    if match is None:
        raise ValueError(f"time of day must be HH:MM (24-hour), not {text!r}")
    return time(int(match.group(1)), int(match.group(2)))


def _at(day: date, clock: time, tz: tzinfo) -> datetime:
    """The UTC instant of a wall-clock time on a day (first occurrence if it repeats)."""
    return datetime.combine(day, clock, tzinfo=tz).astimezone(UTC)


def next_time_of_day(
    now: datetime,
    at: str | time,
    weekdays: Sequence[str] = (),
    tz: tzinfo | str = "UTC",
) -> datetime:
    """The first moment at or after ``now`` when the clock in ``tz`` shows ``at`` on one of
    ``weekdays`` (any day when empty), as UTC.

    A time that does not exist that day (skipped by a DST change) resolves to the instant the
    clock passes it; a time that happens twice resolves to the first.

    Raises:
        ValueError: for a malformed time, weekday or zone.
    """
    now = _aware(now)
    zone_info = _tz(tz)
    clock = at if isinstance(at, time) else parse_time_of_day(at)
    allowed: set[int] = set()
    for name in weekdays:
        if name not in WEEKDAYS:
            raise ValueError(f"weekday must be one of {', '.join(WEEKDAYS)}, not {name!r}")
        allowed.add(WEEKDAYS.index(name))
    today = now.astimezone(zone_info).date()
    for offset in range(8):
        day = today + timedelta(days=offset)
        if allowed and day.weekday() not in allowed:
            continue
        candidate = _at(day, clock, zone_info)
        if candidate >= now:
            return candidate
    raise AssertionError("unreachable: some allowed day lies within 8 days")  # pragma: no cover


def quiet_hours_end(now: datetime, start: str, end: str, tz: tzinfo | str = "UTC") -> datetime | None:
    """When the quiet hours ``start`` to ``end`` (wall clock in ``tz``) that contain ``now`` end.

    Returns None when ``now`` is outside them (or ``start == end``, an empty window). Windows
    may cross midnight (``21:00`` to ``08:00``); ``start`` is inside the window, ``end`` is not.
    The result is UTC.
    """
    now = _aware(now)
    zone_info = _tz(tz)
    begins, ends = parse_time_of_day(start), parse_time_of_day(end)
    if begins == ends:
        return None
    local = now.astimezone(zone_info)
    clock, today = local.time().replace(tzinfo=None), local.date()
    if begins < ends:
        return _at(today, ends, zone_info) if begins <= clock < ends else None
    if clock >= begins:
        return _at(today + timedelta(days=1), ends, zone_info)
    if clock < ends:
        return _at(today, ends, zone_info)
    return None


def wait_due(config: Mapping[str, Any], now: datetime, tz: tzinfo | str = "UTC") -> datetime:
    """When a ``wait`` step started at ``now`` ends, as UTC.

    ``{value, unit}`` waits that long; ``{until: "HH:MM", weekdays: [...]}`` waits for the next
    such time in ``tz`` (the contact's zone, falling back to the organization's; see
    :func:`zone`).

    Raises:
        ValueError: for a config that is neither form (validation prevents it).
    """
    until = config.get("until")
    if isinstance(until, str):
        weekdays = config.get("weekdays") or ()
        return next_time_of_day(now, until, [str(day) for day in weekdays], tz)
    return add_interval(now, config).astimezone(UTC)
