"""``python -m bench.schedules``, and the ``schedules`` section of ``make bench``: time-based
triggers at scale (issue #13 §7, decision 0038).

Runs the trigger's own :class:`~beez.trigger.scheduler.Scheduler` (the code the service runs:
claim ``SKIP LOCKED``, keyset audience pages, ``enroll_many``, START jobs into the outbox, next
occurrence) against ``DATABASE_URL`` (else the machine's PostgreSQL at 127.0.0.1), on a database
of its own migrated to the trigger's head. The relay is not running: START jobs stay in the
outbox, so the figures are the scheduler's, not NATS's. The clock is a ManualClock moved to each
due instant (a simulated day), so a 09:00 in 24 zones takes seconds, not a day: lateness is the
wall time from the clock reaching a fire's instant to the commit of each contact's enrollment.

Sections (sizes from the environment, defaults as the issue asks):

* ``birthday``: ``BENCH_CONTACTS`` (1,000,000) contacts with a birthday spread over the year; the
  day's sweep (month_day index) and the enrollment of everyone it finds;
* ``inactivity``: the same contacts' last activity spread over 100 days; the contacts crossing
  30 days today, found through the ``(org, last_activity_at)`` index;
* ``fanout``: one schedule to an audience of ``BENCH_AUDIENCE`` (100,000) contacts: enrolments/s;
* ``local9``: a 09:00 timezone-aware schedule over ``BENCH_AUDIENCE`` contacts in 24 zones:
  lateness p50/p99 per contact.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, text

from beez.api.messages.v1.lifecycle_pb2 import AutomationChanged
from beez.kit.bus.topology import Topology
from beez.kit.clock import ManualClock
from beez.kit.db import Database
from beez.kit.logging import configure_logging
from beez.kit.migrations import upgrade
from beez.kit.stack import create_database, drop_database
from beez.trigger import service
from beez.trigger.__main__ import MIGRATIONS
from beez.trigger.credits import StartCredits
from beez.trigger.domain.index import CompiledTriggers
from beez.trigger.domain.schedules import Plans, audience_query, plan_of
from beez.trigger.repository import Repository
from beez.trigger.scheduler import Scheduler
from beez.workflow.model import workflow_from_json

ADMIN_URL = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
CONTACTS = int(os.environ.get("BENCH_CONTACTS", "1000000"))
AUDIENCE = int(os.environ.get("BENCH_AUDIENCE", "100000"))
PAGE = int(os.environ.get("BENCH_PAGE", "1000"))
START = datetime(2027, 6, 14, 0, 0, tzinfo=UTC)
ZONES = [
    "Pacific/Pago_Pago", "Pacific/Honolulu", "America/Anchorage", "America/Los_Angeles",
    "America/Denver", "America/Chicago", "America/New_York", "America/Halifax",
    "America/Sao_Paulo", "Atlantic/South_Georgia", "Atlantic/Azores", "UTC",
    "Europe/London", "Europe/Berlin", "Europe/Athens", "Europe/Moscow", "Asia/Dubai",
    "Asia/Karachi", "Asia/Dhaka", "Asia/Bangkok", "Asia/Shanghai", "Asia/Tokyo",
    "Australia/Sydney", "Pacific/Auckland",
]  # fmt: skip


def log(message: str) -> None:
    print(f"[bench.schedules {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def workflow(trigger: dict[str, Any]) -> Any:
    return workflow_from_json(
        {
            "name": "bench",
            "trigger": trigger,
            "actions": [{"type": "add_tag", "config": {"tag": "x"}}],
            "settings": {"timezone": "UTC"},
        }
    )


async def announce(
    db: Database, clock: ManualClock, org: str, automation_id: str, trigger: dict[str, Any]
) -> None:
    change = AutomationChanged(automation_id=automation_id, revision=1, version=1, active=True)
    change.workflow.CopyFrom(workflow(trigger))
    await service.apply_automation_change(db, clock, change, org)


async def sql(db: Database, statement: str, **params: Any) -> list[Any]:
    async with db.transaction() as session:
        result = cast(CursorResult[Any], await session.execute(text(statement), params))
        return list(result.all()) if result.returns_rows else []


async def load_contacts(db: Database, org: str, count: int, zones: list[str] | None = None) -> float:
    """``count`` contacts of ``org``: birthdays over the year, last activity over 100 days."""
    began = time.perf_counter()
    step = 100_000
    for low in range(0, count, step):
        high = min(count, low + step)
        await sql(
            db,
            """
            INSERT INTO trigger.contacts (org_id, contact_id, email, timezone, tags, lists,
                last_activity_at, observed_at, updated_at)
            SELECT :org, 'c' || lpad(n::text, 8, '0'), 'c' || n || '@example.com',
                   CASE WHEN :nz > 0 THEN (CAST(:zones AS text[]))[1 + n % :nz] END,
                   ARRAY['t' || n % 10], ARRAY['l' || n % 4],
                   CAST(:start AS timestamptz) - make_interval(secs => (n * 7919) % (100 * 86400)),
                   now(), now()
            FROM generate_series(CAST(:low AS bigint), :high - 1) n
            """,
            org=org,
            zones=zones or [],
            nz=len(zones or []),
            start=START,
            low=low,
            high=high,
        )
        await sql(
            db,
            """
            INSERT INTO trigger.contact_dates (org_id, contact_id, field, value, month_day)
            SELECT :org, 'c' || lpad(n::text, 8, '0'), 'birthday', d,
                   extract(month FROM d) * 100 + extract(day FROM d)
            FROM (SELECT n, DATE '1990-01-01' + CAST((n * 7919) % 365 AS integer) AS d
                  FROM generate_series(CAST(:low AS bigint), :high - 1) n) s
            """,
            org=org,
            low=low,
            high=high,
        )
    await sql(db, "ANALYZE trigger.contacts")
    await sql(db, "ANALYZE trigger.contact_dates")
    return time.perf_counter() - began


async def find_all(
    db: Database, org: str, automation_trigger: dict[str, Any], due: datetime, page_size: int = PAGE
) -> tuple[int, float]:
    """How many contacts a sweep at ``due`` finds, paging the audience, and how long it takes."""
    plan = plan_of(workflow(automation_trigger), min_interval_s=60)
    assert plan is not None
    query = audience_query(plan, org, due, None, False)
    found, cursor = 0, ""
    began = time.perf_counter()
    async with db.transaction() as session:
        repo = await Repository.of(session)
        while True:
            page = await repo.audience_page(query, cursor, page_size)
            found += len(page)
            if len(page) < page_size:
                break
            cursor = page[-1].contact_id
    return found, time.perf_counter() - began


async def drain_timed(scheduler: Scheduler) -> tuple[int, float, list[float]]:
    """Fires everything due; returns (enrolled, seconds, per-contact lateness in seconds)."""
    before = scheduler.started
    began = time.perf_counter()
    lateness: list[float] = []
    while True:
        fired = await scheduler.fire_once()
        if fired is None:
            break
        lateness.extend([time.perf_counter() - began] * fired.started)
    return scheduler.started - before, time.perf_counter() - began, lateness


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000, 1) if ordered else 0.0


async def run(
    admin_url: str = ADMIN_URL, *, contacts: int = CONTACTS, audience: int = AUDIENCE, page: int = PAGE
) -> dict[str, Any]:
    """The four figures on a database of their own made on ``admin_url``'s server (never the
    running stack's: its trigger's scheduler would claim the fires), dropped at the end."""
    url = await asyncio.to_thread(create_database, admin_url, "beez_sched")
    result: dict[str, Any] = {"contacts": contacts, "audience": audience, "page": page}
    try:
        await asyncio.to_thread(upgrade, MIGRATIONS, url, "trigger")
        db = Database(url, "trigger", pool_size=4)
        clock = ManualClock(START)
        triggers = CompiledTriggers(64)
        scheduler = Scheduler(
            db,
            clock,
            Topology("bench"),
            triggers,
            Plans(60),
            StartCredits(Topology("bench"), 0),
            page_size=page,
        )

        log(f"loading {contacts} contacts")
        result["load_s"] = round(await load_contacts(db, "big", contacts), 1)
        size = await sql(
            db,
            "SELECT pg_total_relation_size('trigger.contacts') "
            "+ pg_total_relation_size('trigger.contact_dates')",
        )
        result["table_mb"] = round(size[0][0] / 2**20, 1)

        nine = START.replace(hour=9)
        birthday = {"type": "anniversary", "config": {"field": "birthday", "at": "09:00", "timezone": "UTC"}}
        found, seconds = await find_all(db, "big", birthday, nine, page)
        result["birthday_sweep"] = {"found": found, "find_ms": round(seconds * 1000, 1)}
        await announce(db, clock, "big", "bday", birthday)
        clock.advance(nine - clock.now())
        enrolled, seconds, _ = await drain_timed(scheduler)
        result["birthday_sweep"].update(
            enrolled=enrolled, enroll_s=round(seconds, 2), per_s=round(enrolled / seconds)
        )
        log(f"birthday: {result['birthday_sweep']}")

        inactivity = {"type": "inactivity", "config": {"days": 30, "at": "09:00", "timezone": "UTC"}}
        found, seconds = await find_all(db, "big", inactivity, nine + timedelta(days=1), page)
        result["inactivity"] = {"found": found, "find_ms": round(seconds * 1000, 1)}
        log(f"inactivity: {result['inactivity']}")

        log(f"loading an audience of {audience}")
        await load_contacts(db, "fan", audience)
        await announce(
            db,
            clock,
            "fan",
            "fan",
            {
                "type": "schedule",
                "config": {"frequency": "daily", "at": "10:00", "audience": {"type": "all"}},
            },
        )
        clock.advance(START.replace(hour=10) - clock.now())
        enrolled, seconds, _ = await drain_timed(scheduler)
        result["fanout"] = {
            "enrolled": enrolled,
            "seconds": round(seconds, 2),
            "per_s": round(enrolled / seconds),
        }
        log(f"fan-out: {result['fanout']}")

        change = AutomationChanged(automation_id="bday", revision=2, version=1, active=False)
        await service.apply_automation_change(
            db, clock, change, "big"
        )  # its next sweeps are not measured here
        log(f"loading {audience} contacts in 24 zones")
        await load_contacts(db, "zones", audience, ZONES)
        await announce(db, clock, "zones", "nine", {"type": "timezone_aware", "config": {"at": "09:00"}})
        lateness: list[float] = []
        enrolled_total = 0
        while enrolled_total < audience:
            due = await sql(
                db,
                "SELECT min(due_at) FROM trigger.scheduled_fires "
                "WHERE automation_id = 'nine' AND due_at > :now",
                now=clock.now(),
            )
            if due[0][0] is None:
                break
            clock.advance(due[0][0] - clock.now())
            enrolled, _, late = await drain_timed(scheduler)
            enrolled_total += enrolled
            lateness.extend(late)
        result["local9"] = {
            "enrolled": enrolled_total,
            "zones": len(ZONES),
            "lateness_p50_ms": pct(lateness, 0.5),
            "lateness_p99_ms": pct(lateness, 0.99),
            "lateness_max_ms": pct(lateness, 1.0),
            "mean_ms": round(statistics.mean(lateness) * 1000, 1) if lateness else 0,
        }
        log(f"local 09:00: {result['local9']}")
        await db.engine.dispose()
    finally:
        await asyncio.to_thread(drop_database, admin_url, url)
    return result


def main() -> None:
    configure_logging("bench", "WARNING")
    print(json.dumps(asyncio.run(run()), indent=2))


if __name__ == "__main__":
    main()
