"""Each of the 12 time-based trigger types fires through the running trigger service, and does
not fire when it should not (decision 0038). The service's clock is a ManualClock the tests move;
the scheduler looks for due fires every 50 ms of wall time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from tests.trigger.schedules_support import (
    add_contact,
    advance,
    contacts_of,
    fires,
    settle,
    started,
    time_workflow,
)
from tests.trigger.support import Harness, event

LONDON = ZoneInfo("Europe/London")


def next_local(now: datetime, zone: ZoneInfo, hour: int, minute: int = 0) -> datetime:
    """The next instant after ``now`` when the wall clock of ``zone`` shows hour:minute."""
    local = now.astimezone(zone)
    candidate = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if candidate <= local:
        candidate = (local + timedelta(days=1)).replace(hour=hour, minute=minute, second=0, microsecond=0)
    return candidate.astimezone(UTC)


async def until(h: Harness, moment: datetime, slack: timedelta = timedelta(0)) -> None:
    """Moves the clock to ``moment + slack`` and lets due fires fire."""
    await advance(h, moment + slack - h.clock.now())


async def test_schedule_fires_daily_for_the_organization_at_its_time(trigger: Harness) -> None:
    h = trigger
    await h.automation(
        "daily", time_workflow("schedule", {"frequency": "daily", "at": "09:00", "timezone": "Europe/London"})
    )
    nine = next_local(h.clock.now(), LONDON, 9)
    await until(h, nine, -timedelta(seconds=1))
    assert await started(h) == []
    await until(h, nine)
    jobs = await started(h)
    assert len(jobs) == 1 and jobs[0].start.contact_id == ""
    assert jobs[0].start.event.type == "schedule.fired"
    await until(h, nine + timedelta(hours=23))
    assert len(await started(h)) == 1
    await until(h, nine + timedelta(days=1))
    assert len(await started(h)) == 2


async def test_delay_starts_the_event_contact_after_the_delay(trigger: Harness) -> None:
    h = trigger
    await h.automation(
        "delay", time_workflow("delay", {"delay": {"value": 2, "unit": "hours"}}, event="form.submitted")
    )
    await h.publish(event("form.submitted", id="e-delay", contact="c_d"))
    assert await started(h) == []
    assert [row.kind for row in await fires(h)] == ["deferred"]
    await advance(h, timedelta(hours=1, minutes=59))
    assert await started(h) == []
    await advance(h, timedelta(minutes=1))
    jobs = await started(h)
    assert [job.start.event.id for job in jobs] == ["e-delay"]
    assert jobs[0].start.contact_id == "c_d"


async def test_relative_date_fires_n_days_after_the_contacts_date(trigger: Harness) -> None:
    h = trigger
    nine = next_local(h.clock.now(), ZoneInfo("UTC"), 9)
    day = nine.date()
    await add_contact(h, "c_due", dates={"trial_end": day - timedelta(days=3)})
    await add_contact(h, "c_not", dates={"trial_end": day - timedelta(days=2)})
    await add_contact(h, "c_other_field", dates={"signup": day - timedelta(days=3)})
    await h.automation(
        "rel",
        time_workflow(
            "relative_date", {"field": "trial_end", "days": 3, "direction": "after", "at": "09:00"}
        ),
    )
    await until(h, nine)
    assert contacts_of(await started(h)) == ["c_due"]


async def test_anniversary_fires_on_the_birthday_only(trigger: Harness) -> None:
    h = trigger
    nine = next_local(h.clock.now(), ZoneInfo("UTC"), 9)
    day = nine.date()
    await add_contact(h, "c_bday", dates={"birthday": day.replace(year=1990)})
    await add_contact(h, "c_tomorrow", dates={"birthday": (day + timedelta(days=1)).replace(year=1990)})
    await h.automation("bday", time_workflow("anniversary", {"field": "birthday"}))
    await until(h, nine)
    assert contacts_of(await started(h)) == ["c_bday"]
    await until(h, nine + timedelta(days=1))
    assert contacts_of(await started(h)) == ["c_bday", "c_tomorrow"]


async def test_specific_date_fires_once(trigger: Harness) -> None:
    h = trigger
    when = h.clock.now().astimezone(UTC) + timedelta(days=2)
    await h.automation(
        "once", time_workflow("specific_date", {"date": when.date().isoformat(), "at": "12:00"})
    )
    moment = datetime.combine(when.date(), datetime.min.time().replace(hour=12), UTC)
    await until(h, moment, -timedelta(minutes=1))
    assert await started(h) == []
    await until(h, moment)
    assert len(await started(h)) == 1
    assert await fires(h) == []
    await until(h, moment + timedelta(days=400))
    assert len(await started(h)) == 1


async def test_time_window_starts_inside_at_once_and_defers_outside(trigger: Harness) -> None:
    h = trigger
    await h.automation(
        "window",
        time_workflow(
            "time_window", {"start": "09:00", "end": "17:00", "timezone": "UTC"}, event="form.submitted"
        ),
    )
    nine = next_local(h.clock.now(), ZoneInfo("UTC"), 9)
    await until(h, nine - timedelta(hours=2))  # 07:00, outside
    await h.publish(event("form.submitted", id="e-early", contact="c_w1"))
    assert await started(h) == []
    await until(h, nine + timedelta(hours=1))  # 10:00: the deferred one went at 09:00
    await h.publish(event("form.submitted", id="e-inside", contact="c_w2"))
    jobs = await started(h)
    assert [job.start.event.id for job in jobs] == ["e-early", "e-inside"]


async def test_timezone_aware_fires_at_each_contacts_local_time(trigger: Harness) -> None:
    h = trigger
    await add_contact(h, "c_lagos", timezone="Africa/Lagos")
    await add_contact(h, "c_ny", timezone="America/New_York")
    await h.automation("tz", time_workflow("timezone_aware", {"at": "09:00"}))
    lagos = next_local(h.clock.now(), ZoneInfo("Africa/Lagos"), 9)
    new_york = next_local(h.clock.now(), ZoneInfo("America/New_York"), 9)
    (first, first_contact), (second, _) = sorted([(lagos, "c_lagos"), (new_york, "c_ny")])
    await until(h, first, -timedelta(seconds=1))
    assert await started(h) == []
    await until(h, first)
    assert contacts_of(await started(h)) == [first_contact]
    await until(h, second, -timedelta(seconds=1))
    assert contacts_of(await started(h)) == [first_contact]
    await until(h, second)
    assert contacts_of(await started(h)) == ["c_lagos", "c_ny"]


async def test_business_hours_defer_a_weekend_event_to_monday(trigger: Harness) -> None:
    h = trigger
    await h.automation("biz", time_workflow("business_hours", {"timezone": "UTC"}, event="form.submitted"))
    now = h.clock.now().astimezone(UTC)
    saturday = (now + timedelta(days=(5 - now.weekday()) % 7 or 7)).replace(
        hour=12, minute=0, second=0, microsecond=0
    )
    await until(h, saturday)
    await h.publish(event("form.submitted", id="e-sat", contact="c_b"))
    monday_nine = (saturday + timedelta(days=2)).replace(hour=9)
    [fire] = await fires(h)
    assert fire.due_at == monday_nine
    await until(h, monday_nine, -timedelta(seconds=1))
    assert await started(h) == []
    await until(h, monday_nine)
    assert [job.start.event.id for job in await started(h)] == ["e-sat"]


async def test_countdown_fires_n_days_before_the_renewal(trigger: Harness) -> None:
    h = trigger
    nine = next_local(h.clock.now(), ZoneInfo("UTC"), 9)
    await add_contact(h, "c_renew", dates={"renewal_date": nine.date() + timedelta(days=30)})
    await add_contact(h, "c_later", dates={"renewal_date": nine.date() + timedelta(days=31)})
    await h.automation("count", time_workflow("countdown", {"days": 30}))
    await until(h, nine)
    assert contacts_of(await started(h)) == ["c_renew"]


async def test_inactivity_fires_once_on_the_day_a_contact_crosses_n_days(trigger: Harness) -> None:
    h = trigger
    nine = next_local(h.clock.now(), ZoneInfo("UTC"), 9)
    await add_contact(h, "c_quiet", last_activity_at=nine - timedelta(days=30, hours=3))
    await add_contact(h, "c_recent", last_activity_at=nine - timedelta(days=29))
    await add_contact(h, "c_long_gone", last_activity_at=nine - timedelta(days=45))
    await h.automation("idle", time_workflow("inactivity", {"days": 30}))
    await until(h, nine)
    assert contacts_of(await started(h)) == ["c_quiet"]
    await until(h, nine + timedelta(days=1))
    assert contacts_of(await started(h)) == ["c_quiet", "c_recent"]


async def test_recurring_interval_fires_every_interval(trigger: Harness) -> None:
    h = trigger
    start = h.clock.now().astimezone(UTC).replace(microsecond=0)
    await h.automation(
        "every",
        time_workflow(
            "recurring_interval", {"every": {"value": 2, "unit": "hours"}, "start": start.isoformat()}
        ),
    )
    await until(h, start + timedelta(hours=1, minutes=59))
    assert await started(h) == []
    await until(h, start + timedelta(hours=2))
    await until(h, start + timedelta(hours=4))
    assert len(await started(h)) == 2


async def test_cron_fires_when_the_expression_says(trigger: Harness) -> None:
    h = trigger
    await h.automation("cron", time_workflow("cron", {"expression": "30 */6 * * *", "timezone": "UTC"}))
    now = h.clock.now().astimezone(UTC)
    slot = now.replace(minute=30, second=0, microsecond=0)
    while slot <= now or slot.hour % 6:
        slot += timedelta(hours=1)
    await until(h, slot, -timedelta(seconds=1))
    assert await started(h) == []
    await until(h, slot)
    await until(h, slot + timedelta(hours=5))
    assert len(await started(h)) == 1
    await until(h, slot + timedelta(hours=6))
    assert len(await started(h)) == 2


async def test_an_audience_tag_starts_only_its_contacts_and_only_this_organizations(trigger: Harness) -> None:
    h = trigger
    await add_contact(h, "c_vip", tags=["vip"])
    await add_contact(h, "c_plain", tags=["lead"])
    await add_contact(h, "c_vip", tags=["vip"], org=h.other_org)
    await h.automation(
        "tagged",
        time_workflow(
            "schedule", {"frequency": "daily", "at": "09:00", "audience": {"type": "tag", "tag": "vip"}}
        ),
    )
    await until(h, next_local(h.clock.now(), ZoneInfo("UTC"), 9))
    assert contacts_of(await started(h)) == ["c_vip"]
    assert await started(h, h.other_org) == []


async def test_deactivating_removes_the_fires_and_reactivating_plans_again(trigger: Harness) -> None:
    h = trigger
    wf = time_workflow("schedule", {"frequency": "daily", "at": "09:00"})
    await h.automation("toggle", wf)
    assert len(await fires(h)) == 1
    await h.automation("toggle", wf, active=False)
    assert await fires(h) == []
    await until(h, next_local(h.clock.now(), ZoneInfo("UTC"), 9))
    assert await started(h) == []
    await h.automation("toggle", wf, version=2)
    assert len(await fires(h)) == 1
    await h.automation("toggle", wf, deleted=True)
    assert await fires(h) == []


async def test_a_deferred_fire_of_a_deleted_contact_is_cancelled(trigger: Harness) -> None:
    h = trigger
    await h.automation(
        "cancel", time_workflow("delay", {"delay": {"value": 1, "unit": "hours"}}, event="form.submitted")
    )
    await h.publish(event("form.submitted", id="e-gone", contact="c_gone"))
    await h.publish(event("form.submitted", id="e-stays", contact="c_stays"))
    assert len(await fires(h)) == 2
    await h.publish(event("contact.deleted", id="e-deleted", contact="c_gone"))
    await h.publish(event("contact.deleted", id="e-deleted", contact="c_stays"), org=h.other_org)
    assert len(await fires(h)) == 1  # the deletion took its fire with it, in its transaction
    await advance(h, timedelta(hours=1))
    assert contacts_of(await started(h)) == ["c_stays"]


async def test_nothing_fires_for_a_schedule_whose_time_has_not_come(trigger: Harness) -> None:
    h = trigger
    await add_contact(h, "c_1")
    await h.automation(
        "later", time_workflow("schedule", {"frequency": "monthly", "day_of_month": 1, "at": "09:00"})
    )
    [fire] = await fires(h)
    local = fire.due_at.astimezone(UTC)
    assert local.day == 1 and local.hour == 9
    await settle(h)
    assert await started(h) == []


async def test_a_fan_out_goes_in_pages_and_a_fire_claimed_again_starts_nobody_twice(trigger: Harness) -> None:
    h = trigger
    await h.sql(
        "INSERT INTO trigger.contacts (org_id, contact_id, tags, observed_at, updated_at) "
        "SELECT :org, 'c_' || lpad(n::text, 5, '0'), '{}', now(), now() FROM generate_series(1, 2500) n "
        "RETURNING contact_id",
        org=h.org,
    )
    wf = time_workflow(
        "schedule",
        {"frequency": "daily", "at": "09:00", "audience": {"type": "all"}},
        settings={"maxConcurrentPerContact": 5},  # a free slot would not refuse a second start
    )
    await h.automation("fan", wf)
    [fire] = await fires(h)

    async def enrolled() -> list[str]:
        rows = await h.sql(
            "SELECT contact_id FROM trigger.enrollments WHERE automation_id = :a", a=h.id("fan")
        )
        return sorted(row.contact_id for row in rows)

    try:
        await until(h, fire.due_at)
        first = await enrolled()
        assert len(first) == 2500 and len(set(first)) == 2500
        # the same fire once more (a replica that claimed it too, a crash between pages): the
        # enrollment key (automation, contact, instant) refuses every contact a second time
        await h.sql(
            "INSERT INTO trigger.scheduled_fires (id, org_id, automation_id, kind, due_at, created_at) "
            "VALUES (:id, :org, :automation, 'recurrence', :due, now()) RETURNING id",
            id=fire.id,
            org=h.org,
            automation=h.id("fan"),
            due=fire.due_at,
        )
        await settle(h)
        assert await enrolled() == first
    finally:
        # the 2,500 executions never end here; their slots and held STARTs would crowd the
        # suite's reconciler and credit tests
        await h.sql(
            "DELETE FROM trigger.concurrency_slots WHERE automation_id = :a RETURNING slot", a=h.id("fan")
        )
        await h.sql(
            "UPDATE trigger.enrollments SET ended_at = now(), start = NULL WHERE automation_id = :a "
            "RETURNING execution_id",
            a=h.id("fan"),
        )
