"""When time-based triggers fire: their config read into a :class:`Plan`, checked, and stepped.

Pure logic, shared by validation (the automation service refuses a bad cron or a too-frequent
schedule) and the trigger service's scheduler (docs/decisions/0038-time-based-triggers.md).

* Local times are computed on the naive wall clock of a zone, then placed with ``fold=0``. A
  wall time that happens twice (clocks going back) fires at its first instant only; one that
  does not exist (clocks going forward) fires at the instant it maps to with the offset before
  the change (02:30 becomes 03:30), and two wall times landing on the same instant fire once.
* A window (``window``, ``business_hours``) and a holiday calendar (``holidays``: a country, the
  ``holidays`` package) defer a fire to the next allowed instant instead of dropping it.
* An anniversary on 29 February fires on 28 February in years without one.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import holidays as holiday_calendars
from croniter import croniter

from beez.workflow.catalog.schedules import WEEKDAYS

EVENT_DEFERRED = frozenset({"delay", "time_window", "business_hours"})
"""Time types an event sets off: the fire is that event's, deferred."""

CLOCK_DRIVEN = frozenset(
    {
        "schedule",
        "relative_date",
        "anniversary",
        "specific_date",
        "timezone_aware",
        "countdown",
        "inactivity",
        "recurring_interval",
        "cron",
    }
)
"""Time types the scheduler fires by itself, on a recurrence."""

SWEEPS = frozenset({"relative_date", "anniversary", "countdown", "inactivity"})
"""Daily sweeps: each fire starts the contacts whose date (or last activity) falls on that day."""

DEFAULT_AT = time(9, 0)
DEFAULT_MIN_INTERVAL_S = 60.0
"""The most often a schedule may fire unless a deployment says otherwise."""

BUSINESS_DAYS = frozenset(range(5))
BUSINESS_START = time(9, 0)
BUSINESS_END = time(17, 0)
_UNIT_SECONDS = {
    "seconds": 1,
    "minutes": 60,
    "hours": 3600,
    "days": 86400,
    "weeks": 604800,
    "months": 2592000,
}
_HORIZON_DAYS = 800
"""How far ahead a next occurrence is looked for (a 29 February sweep is at most ~4 years out,
but sweeps are daily; only windows and monthly days need more than a few days)."""


class ScheduleError(ValueError):
    """A config that cannot be scheduled: ``problems`` are ``(path under trigger.config, text)``."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{path}: {text}" for path, text in problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class Window:
    """When fires may happen: ``start <= time < end`` on ``days`` (0 = Monday), not on holidays."""

    start: time
    end: time
    days: frozenset[int] = frozenset(range(7))
    holidays: str | None = None

    def open_on(self, day: date) -> bool:
        return day.weekday() in self.days and not is_holiday(self.holidays, day)

    def allows(self, local: datetime) -> bool:
        return self.open_on(local.date()) and self.start <= local.time() < self.end

    def defer(self, instant: datetime, zone: ZoneInfo) -> datetime:
        """``instant`` when allowed, else the next opening of the window (an aware UTC instant)."""
        local = instant.astimezone(zone)
        if self.allows(local):
            return instant
        for offset in range(_HORIZON_DAYS):
            day = local.date() + timedelta(days=offset)
            if not self.open_on(day):
                continue
            if offset == 0 and local.time() >= self.start:
                continue  # today's window has passed (it is not open now)
            return place(datetime.combine(day, self.start), zone)
        return instant


@dataclass(frozen=True, slots=True)
class Audience:
    """Who one fire starts executions for; ``organization`` is one contact-less execution."""

    type: str = "organization"
    list: str = ""
    tag: str = ""
    conditions: tuple[Any, ...] = ()

    @property
    def per_contact(self) -> bool:
        return self.type != "organization"


@dataclass(frozen=True, slots=True)
class Plan:
    """A time trigger's config, read: what recurs, where, for whom, and what defers it."""

    type: str
    timezone: str
    contact_timezone: bool = False
    audience: Audience = field(default_factory=Audience)
    window: Window | None = None
    at: time = DEFAULT_AT
    frequency: str = "daily"
    days: frozenset[int] = frozenset(range(7))
    day_of_month: int = 1
    every: timedelta | None = None
    anchor: datetime | None = None
    cron: str = ""
    once: date | None = None
    field: str = ""
    days_offset: int = 0
    delay: timedelta = timedelta(0)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def next_local(self, after: datetime) -> datetime | None:
        """The first wall time of the recurrence strictly after the naive local ``after``."""
        if self.type == "cron":
            return croniter(self.cron, after).get_next(datetime)  # type: ignore[no-any-return]
        if self.type == "specific_date":
            assert self.once is not None
            moment = datetime.combine(self.once, self.at)
            return moment if moment > after else None
        day = after.date()
        for _ in range(_HORIZON_DAYS):
            moment = datetime.combine(day, self.at)
            if moment > after and self._on(day):
                return moment
            day += timedelta(days=1)
        return None

    def _on(self, day: date) -> bool:
        if self.frequency == "monthly":
            last = (date(day.year + day.month // 12, day.month % 12 + 1, 1) - timedelta(days=1)).day
            return day.day == min(self.day_of_month, last)
        return day.weekday() in self.days

    def next_fire(self, after: datetime, zone_name: str | None = None) -> datetime | None:
        """The next instant (aware UTC) strictly after ``after`` at which this fires in the zone
        (the plan's own when None), window and holidays applied; None when it never fires again."""
        zone = ZoneInfo(zone_name) if zone_name else self.zone
        if self.every is not None:
            anchor = self.anchor or datetime(2000, 1, 1, tzinfo=UTC)
            steps = max(0, int((after - anchor) // self.every) + 1)
            moment = anchor + steps * self.every
            while moment <= after:
                moment += self.every
            return self._deferred(moment, zone)
        local = after.astimezone(zone).replace(tzinfo=None)
        for _ in range(10_000):
            wall = self.next_local(local)
            if wall is None:
                return None
            moment = place(wall, zone)
            if moment > after:
                return self._deferred(moment, zone)
            local = wall  # a wall time the clock change skipped onto one already fired
        return None

    def _deferred(self, moment: datetime, zone: ZoneInfo) -> datetime:
        return self.window.defer(moment, zone) if self.window is not None else moment

    def sweep_day(self, due: datetime, zone_name: str | None) -> date:
        """The local day a sweep fired at ``due`` is about."""
        return due.astimezone(ZoneInfo(zone_name) if zone_name else self.zone).date()


def place(wall: datetime, zone: ZoneInfo) -> datetime:
    """The UTC instant of a naive wall time in ``zone``: the first of a repeated one, and a
    skipped one shifted by the gap (what ``fold=0`` gives)."""
    return wall.replace(tzinfo=zone, fold=0).astimezone(UTC)


@functools.cache
def _calendar(country: str) -> Any:
    code, _, subdivision = country.partition("-")
    return holiday_calendars.country_holidays(code, subdiv=subdivision or None)


def is_holiday(country: str | None, day: date) -> bool:
    """Whether ``day`` is a public holiday of ``country`` (``GB``, ``US-CA``); False without one."""
    return bool(country) and day in _calendar(country)  # type: ignore[arg-type]


@functools.cache
def known_zones() -> tuple[str, ...]:
    """Every IANA zone name this machine knows, sorted."""
    return tuple(sorted(available_timezones()))


def anniversary_days(day: date) -> list[int]:
    """The ``month * 100 + day`` values whose anniversary falls on ``day``: 28 February also
    takes 29 February in a year without one."""
    days = [day.month * 100 + day.day]
    if day.month == 2 and day.day == 28 and not _leap(day.year):
        days.append(229)
    return days


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def interval_seconds(value: Any) -> float | None:
    """``{value, unit}`` in seconds, or None when it is not one."""
    if not isinstance(value, Mapping):
        return None
    amount, unit = value.get("value"), value.get("unit")
    if not isinstance(amount, int | float) or unit not in _UNIT_SECONDS:
        return None
    return float(amount) * _UNIT_SECONDS[unit]


def _time(value: Any, path: str, problems: list[tuple[str, str]], default: time) -> time:
    if value is None:
        return default
    try:
        hours, minutes = str(value).split(":")
        return time(int(hours), int(minutes))
    except ValueError:
        problems.append((path, "must be a time of day HH:MM"))
        return default


def _days(value: Any, path: str, problems: list[tuple[str, str]], default: frozenset[int]) -> frozenset[int]:
    if value is None:
        return default
    if not isinstance(value, list) or not value or any(day not in WEEKDAYS for day in value):
        problems.append((path, f"must be a list of days among {', '.join(WEEKDAYS)}"))
        return default
    return frozenset(WEEKDAYS.index(day) for day in value)


def _zone(value: Any, path: str, problems: list[tuple[str, str]]) -> str | None:
    if value is None:
        return None
    try:
        ZoneInfo(str(value))
    except (ZoneInfoNotFoundError, ValueError):
        problems.append((path, f"unknown time zone {value!r}"))
        return None
    return str(value)


def _holidays(value: Any, path: str, problems: list[tuple[str, str]]) -> str | None:
    if not value:
        return None
    try:
        _calendar(str(value))
    except (NotImplementedError, KeyError, ValueError):
        problems.append((path, f"no holiday calendar for {value!r}"))
        return None
    return str(value)


def plan(
    trigger_type: str,
    config: Mapping[str, Any],
    *,
    default_timezone: str = "",
    min_interval_s: float = DEFAULT_MIN_INTERVAL_S,
) -> Plan:
    """Reads a time trigger's config; raises :class:`ScheduleError` naming every problem.

    The time zone is ``config.timezone``, else ``default_timezone`` (the automation's
    ``settings.timezone``, which stands for the organization's), else UTC. A recurrence more
    frequent than ``min_interval_s`` is refused.
    """
    problems: list[tuple[str, str]] = []
    zone = _zone(config.get("timezone"), "timezone", problems) or _zone(
        default_timezone or None, "timezone", []
    )
    holidays = _holidays(config.get("holidays"), "holidays", problems)
    window: Window | None = None
    raw_window = config.get("window")
    if isinstance(raw_window, Mapping):
        window = Window(
            _time(raw_window.get("start"), "window.start", problems, time(0)),
            _time(raw_window.get("end"), "window.end", problems, time(23, 59)),
            _days(raw_window.get("days"), "window.days", problems, frozenset(range(7))),
            _holidays(raw_window.get("holidays"), "window.holidays", problems) or holidays,
        )
    if trigger_type in ("time_window", "business_hours") or config.get("business_hours"):
        business = trigger_type != "time_window"
        window = Window(
            _time(config.get("start"), "start", problems, BUSINESS_START if business else time(0)),
            _time(config.get("end"), "end", problems, BUSINESS_END if business else time(23, 59)),
            _days(config.get("days"), "days", problems, BUSINESS_DAYS if business else frozenset(range(7))),
            holidays,
        )
    elif holidays and window is None:
        window = Window(time(0), time(23, 59, 59, 999999), frozenset(range(7)), holidays)
    if window is not None and window.start >= window.end:
        problems.append(("window" if raw_window else "end", "the window must end after it starts (same day)"))
    raw_audience = config.get("audience")
    default_audience = "all" if trigger_type in SWEEPS or trigger_type == "timezone_aware" else "organization"
    audience = Audience(default_audience)
    if isinstance(raw_audience, Mapping):
        kind = str(raw_audience.get("type", default_audience))
        audience = Audience(
            kind,
            str(raw_audience.get("list", "")),
            str(raw_audience.get("tag", "")),
            tuple(raw_audience.get("conditions") or ()),
        )
        if kind == "list" and not audience.list:
            problems.append(("audience.list", "is required for a list audience"))
        if kind == "tag" and not audience.tag:
            problems.append(("audience.tag", "is required for a tag audience"))
        if kind == "condition" and not audience.conditions:
            problems.append(("audience.conditions", "is required for a condition audience"))
        if kind == "organization" and (trigger_type in SWEEPS or trigger_type == "timezone_aware"):
            problems.append(
                ("audience.type", f"{trigger_type} fires per contact; organization is not an audience")
            )
    contact_timezone = bool(config.get("contact_timezone")) or trigger_type == "timezone_aware"
    if contact_timezone and not audience.per_contact:
        problems.append(("contact_timezone", "needs an audience of contacts"))
    values: dict[str, Any] = {
        "type": trigger_type,
        "timezone": zone or "UTC",
        "contact_timezone": contact_timezone,
        "audience": audience,
        "window": window,
        "at": _time(config.get("at"), "at", problems, DEFAULT_AT),
    }
    if trigger_type == "schedule":
        values["frequency"] = str(config.get("frequency", "daily"))
        values["days"] = _days(config.get("days"), "days", problems, frozenset(range(7)))
        values["day_of_month"] = int(config.get("day_of_month", 1))
        if values["frequency"] == "weekly" and config.get("days") is None:
            problems.append(("days", "is required for a weekly schedule"))
    elif trigger_type == "timezone_aware":
        values["days"] = _days(config.get("days"), "days", problems, frozenset(range(7)))
    elif trigger_type == "specific_date":
        try:
            values["once"] = date.fromisoformat(str(config.get("date")))
        except ValueError:
            problems.append(("date", "must be a date YYYY-MM-DD"))
            values["once"] = date(1970, 1, 1)
    elif trigger_type == "recurring_interval":
        seconds = interval_seconds(config.get("every"))
        if seconds is None or seconds <= 0:
            problems.append(("every", "must be an interval {value, unit} of at least one unit"))
        elif seconds < min_interval_s:
            problems.append(
                ("every", f"fires every {seconds:g} s; schedules may fire at most every {min_interval_s:g} s")
            )
        else:
            values["every"] = timedelta(seconds=seconds)
        if config.get("start"):
            try:
                start = datetime.fromisoformat(str(config["start"]).replace("Z", "+00:00"))
                values["anchor"] = start if start.tzinfo else place(start, ZoneInfo(values["timezone"]))
            except ValueError:
                problems.append(("start", "must be an RFC 3339 date-time"))
    elif trigger_type == "cron":
        values["cron"] = str(config.get("expression", ""))
        problems.extend(cron_problems(values["cron"], min_interval_s))
    elif trigger_type in SWEEPS:
        default_field = {"anniversary": "birthday", "countdown": "renewal_date"}.get(trigger_type, "")
        values["field"] = str(config.get("field") or default_field)
        if trigger_type == "inactivity":
            values["days_offset"] = int(config.get("days", 0))
            if values["days_offset"] < 1:
                problems.append(("days", "must be at least 1"))
        elif trigger_type == "relative_date":
            days = int(config.get("days", 0))
            values["days_offset"] = days if config.get("direction") == "before" else -days
            if not values["field"]:
                problems.append(("field", "is required"))
        elif trigger_type == "countdown":
            values["days_offset"] = int(config.get("days", 0))
    elif trigger_type == "delay":
        seconds = interval_seconds(config.get("delay"))
        if seconds is None or seconds <= 0:
            problems.append(("delay", "must be an interval {value, unit} of at least one unit"))
        else:
            values["delay"] = timedelta(seconds=seconds)
    if problems:
        raise ScheduleError(problems)
    return Plan(**values)


def cron_problems(expression: str, min_interval_s: float = DEFAULT_MIN_INTERVAL_S) -> list[tuple[str, str]]:
    """What is wrong with a five-field cron expression: unparsable, or firing too often."""
    if len(expression.split()) != 5:
        return [("expression", "must have five fields: minute hour day-of-month month day-of-week")]
    if not croniter.is_valid(expression):
        return [("expression", f"is not a valid cron expression: {expression!r}")]
    start = datetime(2026, 1, 5)
    runner = croniter(expression, start)
    previous = runner.get_next(datetime)
    shortest = None
    for _ in range(64):
        moment = runner.get_next(datetime)
        gap = (moment - previous).total_seconds()
        shortest = gap if shortest is None else min(shortest, gap)
        previous = moment
    if shortest is not None and shortest < min_interval_s:
        return [
            (
                "expression",
                f"fires every {shortest:g} s; schedules may fire at most every {min_interval_s:g} s",
            )
        ]
    return []


def schedule_issues(
    trigger_type: str, config: Mapping[str, Any], *, default_timezone: str = "", min_interval_s: float
) -> list[tuple[str, str]]:
    """The problems of a time trigger's config (empty for other types)."""
    if trigger_type not in CLOCK_DRIVEN and trigger_type not in EVENT_DEFERRED:
        return []
    try:
        plan(trigger_type, config, default_timezone=default_timezone, min_interval_s=min_interval_s)
    except ScheduleError as exc:
        return exc.problems
    return []


def zone_groups(plan_: Plan, after: datetime, zones: Iterable[str]) -> dict[datetime, list[str]]:
    """The next fire after ``after`` of each zone, zones grouped by the instant they fire at."""
    groups: dict[datetime, list[str]] = {}
    for zone in zones:
        moment = plan_.next_fire(after, zone)
        if moment is not None:
            groups.setdefault(moment, []).append(zone)
    return groups
