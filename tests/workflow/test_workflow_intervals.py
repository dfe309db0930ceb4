"""Delays, calendar months, the one-year limit, times of day across DST, and quiet hours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from beez.api.workflow.v1.workflow_pb2 import Interval
from beez.workflow.intervals import (
    MAX_DELAY,
    add_interval,
    interval_problem,
    next_time_of_day,
    quiet_hours_end,
    to_timedelta,
    wait_due,
    zone,
)

LONDON = ZoneInfo("Europe/London")
LAGOS = ZoneInfo("Africa/Lagos")


@pytest.mark.parametrize(
    ("interval", "expected"),
    [
        ({"value": 90, "unit": "seconds"}, timedelta(seconds=90)),
        ({"value": 5, "unit": "minutes"}, timedelta(minutes=5)),
        (Interval(value=48, unit="hours"), timedelta(hours=48)),
        ({"value": 2.0, "unit": "days"}, timedelta(days=2)),
        ({"value": 2, "unit": "weeks"}, timedelta(weeks=2)),
    ],
)
def test_fixed_units_are_exact_durations(interval: dict[str, object] | Interval, expected: timedelta) -> None:
    assert to_timedelta(interval) == expected


def test_months_have_no_fixed_length_and_bad_units_are_refused() -> None:
    with pytest.raises(ValueError, match="months"):
        to_timedelta({"value": 1, "unit": "months"})
    with pytest.raises(ValueError, match="unit"):
        to_timedelta({"value": 1, "unit": "fortnights"})
    with pytest.raises(ValueError, match="whole number"):
        to_timedelta({"value": 1.5, "unit": "days"})


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (datetime(2026, 1, 31, 9, tzinfo=UTC), 1, datetime(2026, 2, 28, 9, tzinfo=UTC)),
        (datetime(2028, 1, 31, 9, tzinfo=UTC), 1, datetime(2028, 2, 29, 9, tzinfo=UTC)),
        (datetime(2026, 3, 31, 9, tzinfo=UTC), 1, datetime(2026, 4, 30, 9, tzinfo=UTC)),
        (datetime(2026, 11, 15, 9, tzinfo=UTC), 3, datetime(2027, 2, 15, 9, tzinfo=UTC)),
        (datetime(2026, 5, 31, 9, tzinfo=UTC), 12, datetime(2027, 5, 31, 9, tzinfo=UTC)),
    ],
)
def test_months_are_calendar_months_clamped_to_month_end(
    start: datetime, months: int, expected: datetime
) -> None:
    assert add_interval(start, {"value": months, "unit": "months"}) == expected


def test_months_keep_the_wall_clock_across_dst() -> None:
    start = datetime(2026, 3, 15, 9, tzinfo=LONDON)  # GMT
    later = add_interval(start, {"value": 1, "unit": "months"})  # BST
    assert (later.month, later.day, later.hour) == (4, 15, 9)
    assert later.utcoffset() == timedelta(hours=1)


def test_fixed_units_are_elapsed_time_across_dst() -> None:
    start = datetime(2026, 3, 28, 12, tzinfo=LONDON)
    later = add_interval(start, {"value": 24, "unit": "hours"})
    assert later.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=24)  # same-zone '-' is wall clock
    assert later.hour == 13  # the clocks went forward overnight


def test_naive_datetimes_are_utc() -> None:
    assert add_interval(datetime(2026, 1, 1), {"value": 1, "unit": "days"}) == datetime(
        2026, 1, 2, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("value", "unit", "problem"),
    [
        (1, "seconds", None),
        (31_536_000, "seconds", None),
        (31_536_001, "seconds", "must not be longer than 1 year"),
        (525_600, "minutes", None),
        (525_601, "minutes", "must not be longer than 1 year"),
        (8760, "hours", None),
        (365, "days", None),
        (366, "days", "must not be longer than 1 year"),
        (52, "weeks", None),
        (53, "weeks", "must not be longer than 1 year"),
        (12, "months", None),
        (13, "months", "must not be longer than 1 year"),
        (0, "days", "must be positive"),
        (-1, "hours", "must be positive"),
    ],
)
def test_delays_are_limited_to_one_year(value: int, unit: str, problem: str | None) -> None:
    assert interval_problem({"value": value, "unit": unit}) == problem


def test_max_delay_is_one_year() -> None:
    assert timedelta(days=365) == MAX_DELAY


def test_next_time_of_day_later_today_or_tomorrow() -> None:
    now = datetime(2026, 11, 26, 7, 30, tzinfo=UTC)  # 08:30 in Lagos
    assert next_time_of_day(now, "09:00", (), "Africa/Lagos") == datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
    assert next_time_of_day(now, "08:00", (), LAGOS) == datetime(2026, 11, 27, 7, 0, tzinfo=UTC)
    assert next_time_of_day(now, "08:30", (), LAGOS) == now  # already there: no wait


def test_next_time_of_day_honours_weekdays() -> None:
    friday_evening = datetime(2026, 11, 27, 18, 0, tzinfo=UTC)  # a Friday
    assert next_time_of_day(friday_evening, "09:00", ["mon", "wed"], "UTC") == datetime(
        2026, 11, 30, 9, tzinfo=UTC
    )
    assert next_time_of_day(friday_evening, "19:00", ["fri"], "UTC") == datetime(2026, 11, 27, 19, tzinfo=UTC)
    assert next_time_of_day(friday_evening, "17:00", ["fri"], "UTC") == datetime(2026, 12, 4, 17, tzinfo=UTC)


def test_next_time_of_day_across_a_dst_change_keeps_local_time() -> None:
    # Friday 27 March 2026, 10:00 GMT in London; the clocks go forward on Sunday 29 March.
    now = datetime(2026, 3, 27, 10, 0, tzinfo=UTC)
    monday_9am = next_time_of_day(now, "09:00", ["mon"], "Europe/London")
    assert monday_9am == datetime(2026, 3, 30, 8, 0, tzinfo=UTC)  # 09:00 BST
    assert monday_9am.astimezone(LONDON).hour == 9
    # ...and back: the clocks go back on Sunday 25 October 2026.
    now = datetime(2026, 10, 23, 10, 0, tzinfo=UTC)
    assert next_time_of_day(now, "09:00", ["mon"], LONDON) == datetime(
        2026, 10, 26, 9, 0, tzinfo=UTC
    )  # 09:00 GMT


def test_a_time_skipped_by_dst_resolves_to_when_the_clock_passes_it() -> None:
    now = datetime(2026, 3, 29, 0, 0, tzinfo=UTC)
    moment = next_time_of_day(now, "01:30", ["sun"], LONDON)  # 01:00-02:00 does not exist that day
    assert moment == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert moment.astimezone(LONDON).hour == 2


def test_next_time_of_day_refuses_bad_input() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="HH:MM"):
        next_time_of_day(now, "9am")
    with pytest.raises(ValueError, match="weekday"):
        next_time_of_day(now, "09:00", ["funday"])
    with pytest.raises(ValueError, match="time zone"):
        next_time_of_day(now, "09:00", (), "Mars/Base")


def test_quiet_hours_crossing_midnight_in_a_time_zone() -> None:
    # 21:00-08:00 in Lagos (UTC+1)
    evening = datetime(2026, 11, 26, 21, 30, tzinfo=UTC)  # 22:30 in Lagos
    assert quiet_hours_end(evening, "21:00", "08:00", "Africa/Lagos") == datetime(
        2026, 11, 27, 7, 0, tzinfo=UTC
    )
    early = datetime(2026, 11, 27, 5, 0, tzinfo=UTC)  # 06:00 in Lagos
    assert quiet_hours_end(early, "21:00", "08:00", LAGOS) == datetime(2026, 11, 27, 7, 0, tzinfo=UTC)
    at_start = datetime(2026, 11, 26, 20, 0, tzinfo=UTC)  # 21:00 exactly: quiet
    assert quiet_hours_end(at_start, "21:00", "08:00", LAGOS) == datetime(2026, 11, 27, 7, 0, tzinfo=UTC)
    at_end = datetime(2026, 11, 27, 7, 0, tzinfo=UTC)  # 08:00 exactly: not quiet any more
    assert quiet_hours_end(at_end, "21:00", "08:00", LAGOS) is None
    midday = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    assert quiet_hours_end(midday, "21:00", "08:00", LAGOS) is None


def test_quiet_hours_within_one_day_and_empty_window() -> None:
    lunch = datetime(2026, 11, 26, 12, 30, tzinfo=UTC)
    assert quiet_hours_end(lunch, "12:00", "13:00", "UTC") == datetime(2026, 11, 26, 13, 0, tzinfo=UTC)
    assert quiet_hours_end(lunch, "13:00", "14:00", "UTC") is None
    assert quiet_hours_end(lunch, "12:00", "12:00", "UTC") is None


def test_zone_falls_back_from_contact_to_org_to_utc() -> None:
    assert zone("Africa/Lagos", "Europe/London") == LAGOS
    assert zone("", "Europe/London") == LONDON
    assert zone("Nowhere/Land", None) == ZoneInfo("UTC")


def test_wait_due_for_both_forms_of_wait() -> None:
    now = datetime(2026, 11, 27, 18, 0, tzinfo=UTC)  # a Friday
    assert wait_due({"value": 2, "unit": "hours"}, now) == datetime(2026, 11, 27, 20, 0, tzinfo=UTC)
    assert wait_due({"value": 1, "unit": "months"}, now) == datetime(2026, 12, 27, 18, 0, tzinfo=UTC)
    monday = wait_due({"until": "09:00", "weekdays": ["mon"]}, now, "Africa/Lagos")
    assert monday == datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
