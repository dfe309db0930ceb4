"""Time-based triggers in memory: validation's field violations, and when each plan fires
(daylight-saving changes in two zones, windows, holidays, 29 February)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from beez.workflow import catalog
from beez.workflow.model import workflow_from_json
from beez.workflow.schedules import anniversary_days, plan
from beez.workflow.validate import validate_workflow


def issues(trigger: dict[str, Any], **kwargs: Any) -> list[tuple[str, str]]:
    wf = workflow_from_json(
        {"name": "t", "trigger": trigger, "actions": [{"type": "add_tag", "config": {"tag": "x"}}]}
    )
    return [(issue.field, issue.description) for issue in validate_workflow(wf, **kwargs)]


def test_the_catalog_has_twelve_time_types_none_needing_an_event_but_three() -> None:
    time_types = [entry for entry in catalog.trigger_types() if entry.category == "time"]
    assert len(time_types) == 12
    assert sorted(entry.type for entry in time_types if entry.requires_event) == [
        "business_hours",
        "delay",
        "time_window",
    ]


def test_every_time_type_validates_with_a_minimal_config() -> None:
    minimal = {
        "schedule": {"frequency": "daily", "at": "09:00"},
        "delay": {"delay": {"value": 1, "unit": "hours"}},
        "relative_date": {"field": "trial_end", "days": 3, "direction": "after"},
        "anniversary": {},
        "specific_date": {"date": "2027-01-01"},
        "time_window": {"start": "09:00", "end": "17:00"},
        "timezone_aware": {"at": "09:00"},
        "business_hours": {"holidays": "GB"},
        "countdown": {"days": 30},
        "inactivity": {"days": 30},
        "recurring_interval": {"every": {"value": 2, "unit": "hours"}},
        "cron": {"expression": "0 9 * * 1-5"},
    }
    for type_, config in minimal.items():
        trigger: dict[str, Any] = {"type": type_, "config": config}
        if catalog.trigger_type(type_).requires_event:  # type: ignore[union-attr]
            trigger["event"] = "form.submitted"
        assert issues(trigger) == [], type_


@pytest.mark.parametrize(
    ("config", "path", "words"),
    [
        ({"expression": "0 9 * *"}, "trigger.config.expression", "five fields"),
        ({"expression": "0 25 * * *"}, "trigger.config.expression", "not a valid cron"),
        (
            {"expression": "0 9 * * *", "timezone": "Mars/Olympus"},
            "trigger.config.timezone",
            "unknown time zone",
        ),
    ],
)
def test_a_bad_cron_is_refused_naming_the_problem(config: dict[str, Any], path: str, words: str) -> None:
    [(field, text)] = issues({"type": "cron", "config": config})
    assert field == path and words in text


def test_a_schedule_more_frequent_than_the_minimum_is_refused() -> None:
    every_minute = {"type": "cron", "config": {"expression": "* * * * *"}}
    assert issues(every_minute) == []
    [(field, text)] = issues(every_minute, min_schedule_interval_s=300)
    assert field == "trigger.config.expression" and "at most every 300 s" in text
    [(field, text)] = issues(
        {"type": "recurring_interval", "config": {"every": {"value": 30, "unit": "seconds"}}}
    )
    assert field == "trigger.config.every" and "fires every 30 s" in text


def test_an_audience_and_windows_are_checked() -> None:
    assert issues(
        {"type": "schedule", "config": {"frequency": "daily", "at": "09:00", "audience": {"type": "tag"}}}
    ) == [("trigger.config.audience.tag", "is required for a tag audience")]
    [(field, _)] = issues(
        {"type": "time_window", "event": "a.b", "config": {"start": "17:00", "end": "09:00"}}
    )
    assert field == "trigger.config.end"
    [(field, _)] = issues({"type": "business_hours", "event": "a.b", "config": {"holidays": "XX"}})
    assert field == "trigger.config.holidays"


def _fires(type_: str, config: dict[str, Any], start: str, count: int, zone: str | None = None) -> list[str]:
    p = plan(type_, config)
    moment = datetime.fromisoformat(start)
    out = []
    for _ in range(count):
        nxt = p.next_fire(moment, zone)
        assert nxt is not None
        out.append(nxt.astimezone(ZoneInfo(zone or p.timezone)).isoformat())
        moment = nxt
    return out


@pytest.mark.parametrize(
    ("zone", "gap", "spring", "autumn"),
    [
        ("America/New_York", "02:30", "2027-03-13T12:00:00+00:00", "2027-11-06T12:00:00+00:00"),
        ("Europe/London", "01:30", "2027-03-27T12:00:00+00:00", "2027-10-30T12:00:00+00:00"),
        ("Australia/Sydney", "02:30", "2027-10-02T12:00:00+00:00", "2027-04-03T12:00:00+00:00"),
    ],
)
def test_wall_times_skipped_or_repeated_by_dst_fire_exactly_once(
    zone: str, gap: str, spring: str, autumn: str
) -> None:
    # the gap's wall time does not exist on the spring day: it fires once, an hour later by the wall
    got = _fires("schedule", {"frequency": "daily", "at": gap, "timezone": zone}, spring, 3)
    shifted = f"{int(gap[:2]) + 1:02d}{gap[2:]}"
    assert [moment[11:16] for moment in got] == [shifted, gap, gap]
    assert len({moment[:10] for moment in got}) == 3
    # every 30 minutes across the autumn night: each wall time once, strictly increasing instants
    p = plan("cron", {"expression": "*/30 * * * *", "timezone": zone})
    moment = datetime.fromisoformat(autumn)
    seen: list[datetime] = []
    for _ in range(60):
        moment = p.next_fire(moment)  # type: ignore[assignment]
        seen.append(moment)
    walls = [m.astimezone(ZoneInfo(zone)).replace(tzinfo=None) for m in seen]
    assert len(walls) == len(set(walls))
    assert seen == sorted(seen)


def test_business_hours_skip_weekends_and_holidays() -> None:
    p = plan("business_hours", {"holidays": "GB", "timezone": "Europe/London"})
    assert p.window is not None
    zone = ZoneInfo("Europe/London")
    # Thursday 24 December 2026, 18:00: Christmas, Boxing Day (Saturday, substituted on Monday 28th)
    assert p.window.defer(datetime(2026, 12, 24, 18, tzinfo=UTC), zone) == datetime(
        2026, 12, 29, 9, tzinfo=UTC
    )
    # inside hours: at once
    moment = datetime(2026, 12, 22, 10, tzinfo=UTC)
    assert p.window.defer(moment, zone) == moment


def test_29_february_falls_on_28_february_outside_leap_years() -> None:
    assert anniversary_days(date(2027, 2, 28)) == [228, 229]
    assert anniversary_days(date(2028, 2, 28)) == [228]
    assert anniversary_days(date(2028, 2, 29)) == [229]
    assert anniversary_days(date(2100, 2, 28)) == [228, 229]


def test_monthly_on_the_31st_fires_on_the_last_day_of_shorter_months() -> None:
    got = _fires(
        "schedule",
        {"frequency": "monthly", "day_of_month": 31, "at": "09:00"},
        "2027-01-31T10:00:00+00:00",
        3,
    )
    assert [moment[:10] for moment in got] == ["2027-02-28", "2027-03-31", "2027-04-30"]


def test_audience_conditions_are_checked_like_entry_conditions() -> None:
    config = {
        "frequency": "daily",
        "at": "09:00",
        "audience": {
            "type": "condition",
            "conditions": [{"field": "contact.score", "operator": "shouts", "value": 1}],
        },
    }
    [(field, _)] = issues({"type": "schedule", "config": config})
    assert field.startswith("trigger.config.audience.conditions[0]")
    config["audience"]["conditions"] = [{"field": "contact.score", "operator": "greater_than", "value": 80}]  # type: ignore[index]
    assert issues({"type": "schedule", "config": config}) == []
