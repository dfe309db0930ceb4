"""Time triggers at chosen dates, each on a trigger service of its own whose clock starts there:
daylight-saving changes in two zones, 29 February, and a stack stopped across a due fire."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import nats
import pytest

from beez.kit.clock import ManualClock
from tests.support.inproc import running_service
from tests.support.servers import create_database, drop_database, unique_prefix
from tests.trigger.schedules_support import add_contact, advance, contacts_of, fires, started, time_workflow
from tests.trigger.support import Harness


@pytest.fixture
async def stack(admin_url: str, nats_url: str) -> AsyncIterator[Callable[..., Any]]:
    """Starts trigger services on one database and one bus prefix, one at a time, with a clock
    starting where the test says."""
    database_url = create_database(admin_url)
    prefix = unique_prefix()
    nc = await nats.connect(nats_url)
    suffix = uuid.uuid4().hex[:10]

    @asynccontextmanager
    async def start(clock: ManualClock) -> AsyncIterator[Harness]:
        async with running_service(
            "trigger",
            database_url,
            nats_url,
            prefix,
            clock=clock,
            start_sweep_interval_s=3600.0,
            schedule_poll_interval_s=0.05,
        ) as svc:
            yield Harness(svc, nc.jetstream(), clock, org=f"org{suffix}", other_org=f"oth{suffix}")

    try:
        yield start
    finally:
        await nc.drain()
        drop_database(admin_url, database_url)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


@pytest.mark.parametrize(
    ("zone", "gap_day", "gap_local", "repeat_day"),
    [
        # New York: 2027-03-14 02:00 -> 03:00; 2027-11-07 02:00 -> 01:00
        ("America/New_York", "2027-03-14", "02:30", "2027-11-07"),
        # London: 2027-03-28 01:00 -> 02:00; 2027-10-31 02:00 -> 01:00
        ("Europe/London", "2027-03-28", "01:30", "2027-10-31"),
    ],
)
async def test_daylight_saving_gaps_and_repeats_fire_exactly_once(
    stack: Callable[..., Any], zone: str, gap_day: str, gap_local: str, repeat_day: str
) -> None:
    # a wall time the spring change skips fires once, an hour later by the wall clock
    clock = ManualClock(at(f"{gap_day}T00:00:00+00:00"))
    async with stack(clock) as h:
        await h.automation(
            "gap", time_workflow("schedule", {"frequency": "daily", "at": gap_local, "timezone": zone})
        )
        await advance(h, timedelta(hours=12))
        [job] = await started(h)
        fired = job.start.event.occurred_at.ToDatetime(UTC).astimezone(ZoneInfo(zone))
        assert fired.date().isoformat() == gap_day
        assert (fired.hour, fired.minute) == (int(gap_local[:2]) + 1, 30)
        await advance(h, timedelta(hours=12))
        assert len(await started(h)) == 1

    # 01:30 happens twice on the autumn day: the schedule fires at the first only
    clock = ManualClock(at(f"{repeat_day}T00:00:00+00:00") - timedelta(days=1))
    async with stack(clock) as h:
        await h.automation(
            "repeat", time_workflow("schedule", {"frequency": "daily", "at": "01:30", "timezone": zone})
        )
        for _ in range(12):
            await advance(h, timedelta(hours=3))
        jobs = [j for j in await started(h) if j.start.automation_id == h.id("repeat")]
        days = sorted(j.start.event.occurred_at.ToDatetime(UTC).isoformat() for j in jobs)
        assert len(days) == len(set(days))
        on_the_day = [d for d in days if d.startswith(repeat_day)]
        assert len(on_the_day) == 1, days


async def test_a_29_february_birthday_is_wished_on_28_february_in_other_years(
    stack: Callable[..., Any],
) -> None:
    clock = ManualClock(at("2027-02-27T12:00:00+00:00"))
    async with stack(clock) as h:
        await add_contact(h, "c_leap", dates={"birthday": datetime(2000, 2, 29).date()})
        await add_contact(h, "c_28", dates={"birthday": datetime(1990, 2, 28).date()})
        await add_contact(h, "c_march", dates={"birthday": datetime(1990, 3, 1).date()})
        await h.automation(
            "bday",
            time_workflow(
                "anniversary",
                {"field": "birthday", "at": "09:00", "timezone": "UTC"},
                settings={"maxConcurrentPerContact": 5},
            ),
        )
        await advance(h, timedelta(hours=21))  # 2027-02-28 09:00
        assert contacts_of(await started(h)) == ["c_28", "c_leap"]
        await advance(h, timedelta(days=1))  # 2027-03-01
        assert contacts_of(await started(h)) == ["c_28", "c_leap", "c_march"]
    # in a leap year, 29 February is its own day
    clock = ManualClock(at("2028-02-27T12:00:00+00:00"))
    async with stack(clock) as h:
        await h.automation(
            "bday",
            time_workflow(
                "anniversary",
                {"field": "birthday", "at": "09:00", "timezone": "UTC"},
                settings={"maxConcurrentPerContact": 5},
            ),
            revision=2,
        )
        await advance(h, timedelta(hours=21))  # 2028-02-28
        assert contacts_of(await started(h)) == ["c_28", "c_28", "c_leap", "c_march"]
        await advance(h, timedelta(days=1))  # 2028-02-29
        assert contacts_of(await started(h)) == ["c_28", "c_28", "c_leap", "c_leap", "c_march"]


async def test_a_fire_due_while_the_stack_was_down_fires_once_when_it_returns(
    stack: Callable[..., Any],
) -> None:
    clock = ManualClock(at("2027-05-03T08:00:00+00:00"))
    async with stack(clock) as h:
        await add_contact(h, "c_1")
        await add_contact(h, "c_2")
        await h.automation(
            "daily",
            time_workflow(
                "schedule",
                {"frequency": "daily", "at": "09:00", "timezone": "UTC", "audience": {"type": "all"}},
            ),
        )
        assert len(await fires(h)) == 1
        assert await started(h) == []
    clock.advance(timedelta(days=3, hours=2))  # down across three 09:00s; now 05-06 10:00
    for _ in range(2):  # starting twice changes nothing more
        async with stack(clock) as h:
            await advance(h, timedelta(0))
            assert contacts_of(await started(h)) == ["c_1", "c_2"]
            [next_fire] = await fires(h)
            assert next_fire.due_at == at("2027-05-07T09:00:00+00:00")
