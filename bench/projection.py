"""``python -m bench.projection``: the contact projection's figures (issue #13, sections 1 and 4).

Runs the trigger's own code in this process (``beez.trigger.contacts.import_contacts``, the
``Ingestor``), against real PostgreSQL: ``DATABASE_URL`` (else the machine's server at
127.0.0.1) on a database of its own, migrated as ``beez migrate`` does. ``make bench`` runs it as
its ``projection`` section on the stack's own PostgreSQL. Three figures:

* **bulk import**: ``BENCH_CONTACTS`` contacts (default 1,000,000) through ImportContacts'
  function in batches of 1,000, each one transaction: contacts/s, and the size of
  ``trigger.contacts`` and ``trigger.contact_dates`` with their indexes;
* **ingestion cost per event**: one event per transaction (as PublishEvent), each updating a
  contact's snapshot, against the same events without a contact (nothing to project): the
  difference is what the projection adds to the hot path;
* **condition evaluation**: ``BENCH_CONDITION_AUTOMATIONS`` condition automations (default
  10,000) in one organization, each on its own custom field; a contact update changing one field
  is evaluated only against the automation naming it. Reported: p50/p99 of the evaluation
  (finding the automations by the changed field, reading their states, evaluating, writing the
  states) and of the whole ingestion of that update.
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import text

from beez.api.messages.v1.events_pb2 import Contact, Event
from beez.kit.bus.topology import Topology
from beez.kit.clock import SystemClock
from beez.kit.db import Database
from beez.kit.stack import create_database, drop_database, migrate_all
from beez.trigger import contacts
from beez.trigger.domain.index import index_entry
from beez.trigger.ingest import Ingestor
from beez.trigger.projection import Projector
from beez.trigger.repository import transactional
from beez.trigger.repository.contacts import ConditionAutomation
from beez.workflow.model import workflow_from_json

ADMIN_URL = os.environ.get("DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
BATCH = 1000


def log(message: str) -> None:
    print(f"[bench.projection {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def snapshot(i: int, rng: random.Random) -> Contact:
    """Contact ``i`` of the import: standard fields, tags, lists, and four custom fields."""
    birthday = date(1960 + i % 45, 1 + i % 12, 1 + i % 28)
    contact = Contact(
        id=f"c{i:07d}",
        email=f"user{i}@example.com",
        phone=f"+2348{i:09d}",
        first_name="Ada",
        last_name=f"L{i}",
        tags=rng.sample(["vip", "beta", "churn-risk", "newsletter", "trial"], 2),
        lists=["customers"] if i % 3 else ["leads"],
        score=i % 100,
        timezone="Africa/Lagos",
    )
    contact.fields.update(
        {
            "plan": ("free", "pro", "enterprise")[i % 3],
            "birthday": birthday.isoformat(),
            "renewal_date": (date(2027, 1, 1) + timedelta(days=i % 365)).isoformat(),
            "seats": i % 50,
        }
    )
    return contact


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 3),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 3),
        "n": len(ordered),
    }


async def bulk_import(db: Database, projector: Projector, org: str, count: int) -> dict[str, Any]:
    rng = random.Random(7)
    clock = SystemClock()
    began, cpu = time.perf_counter(), time.process_time()
    imported = 0
    for start in range(0, count, BATCH):
        batch = [snapshot(i, rng) for i in range(start, min(count, start + BATCH))]
        done, _ = await contacts.import_contacts(db, clock, projector, org, batch, None, BATCH)
        imported += done
        if start and start % 100_000 == 0:
            log(f"  {start} contacts, {start / (time.perf_counter() - began):.0f}/s")
    wall, cpu = time.perf_counter() - began, time.process_time() - cpu
    async with db.transaction() as session:
        await session.execute(text("ANALYZE trigger.contacts"))
        await session.execute(text("ANALYZE trigger.contact_dates"))
        sizes = (
            await session.execute(
                text(
                    "SELECT pg_total_relation_size('trigger.contacts'), pg_relation_size('trigger.contacts'),"
                    " pg_total_relation_size('trigger.contact_dates')"
                )
            )
        ).one()
        dates = await session.scalar(
            text("SELECT count(*) FROM trigger.contact_dates WHERE org_id = :org"), {"org": org}
        )
    return {
        "contacts": imported,
        "batch": BATCH,
        "seconds": round(wall, 1),
        "contacts_per_s": round(imported / wall),
        "client_cpu_us_per_contact": round(cpu / max(imported, 1) * 1e6, 1),
        "contacts_table_mb": round(sizes[0] / 2**20, 1),
        "contacts_heap_mb": round(sizes[1] / 2**20, 1),
        "contact_dates_table_mb": round(sizes[2] / 2**20, 1),
        "contact_dates_rows": int(dates or 0),
        "bytes_per_contact": round((sizes[0] + sizes[2]) / max(imported, 1)),
    }


def update_event(contact: str, fields: dict[str, Any], at: datetime) -> Event:
    event = Event(id=uuid.uuid4().hex, type="contact.updated", contact_id=contact)
    event.occurred_at.FromDatetime(at)
    event.contact.id = contact
    event.contact.fields.update(fields)
    return event


async def timed_ingest(ingestor: Ingestor, org: str, events: list[Event]) -> list[float]:
    samples = []
    for event in events:
        began = time.perf_counter()
        await ingestor.ingest(org, [event])
        samples.append(time.perf_counter() - began)
    return samples


async def ingestion_cost(ingestor: Ingestor, org: str, contacts_known: int, events: int) -> dict[str, Any]:
    rng = random.Random(11)
    now = datetime.now(UTC)
    projected = [
        update_event(
            f"c{rng.randrange(contacts_known):07d}", {"plan": "pro", "seats": i}, now + timedelta(seconds=i)
        )
        for i in range(events)
    ]
    bare = []
    for _ in range(events):
        event = Event(id=uuid.uuid4().hex, type="bench.noop")
        event.occurred_at.FromDatetime(now)
        bare.append(event)
    warm = min(50, events // 2)  # a quick run has few events: warm with half, measure the rest
    await timed_ingest(ingestor, org, projected[:warm] + bare[:warm])
    with_contact = percentiles(await timed_ingest(ingestor, org, projected[warm:]))
    without = percentiles(await timed_ingest(ingestor, org, bare[warm:]))
    return {
        "with_snapshot": with_contact,
        "without_contact": without,
        "projection_adds_p50_ms": round(with_contact["p50_ms"] - without["p50_ms"], 3),
    }


def condition_workflow(field: str) -> bytes:
    wf = workflow_from_json(
        {
            "name": f"when {field} is set",
            "trigger": {
                "type": "field_value_match",
                "config": {"field": field, "operator": "equals", "value": "yes"},
            },
            "actions": [{"type": "add_tag", "config": {"tag": "matched"}}],
            "settings": {"reentry": "always", "maxConcurrentPerContact": 1000},
        }
    )
    return wf.SerializeToString()


async def load_conditions(db: Database, org: str, count: int) -> float:
    """``count`` active field_value_match automations of ``org``, automation i on field ``f<i>``."""
    from beez.api.messages.v1.lifecycle_pb2 import AutomationChanged, ChangeKind
    from beez.api.workflow.v1.workflow_pb2 import Workflow

    began = time.perf_counter()
    now = datetime.now(UTC)
    for start in range(0, count, 1000):

        async def work(repo: Any, start: int = start) -> None:
            for i in range(start, min(count, start + 1000)):
                change = AutomationChanged(
                    kind=ChangeKind.CHANGE_KIND_UPSERTED,
                    organization_id=org,
                    automation_id=f"{org}-a{i:05d}",
                    version=1,
                    active=True,
                    revision=1,
                    workflow=Workflow.FromString(condition_workflow(f"f{i}")),
                )
                await repo.upsert_automation(index_entry(change, org), now)

        await transactional(db, work)
    async with db.transaction() as session:
        await session.execute(text("ANALYZE trigger.automation_index"))
    return time.perf_counter() - began


async def condition_cost(db: Database, ingestor: Ingestor, automations: int, updates: int) -> dict[str, Any]:
    """The same contact updates ingested in an organization without condition automations and in
    one with ``automations`` of them; the difference of the p50s is the evaluation's cost."""
    org = f"bcond{uuid.uuid4().hex[:8]}"
    baseline_org = f"bbase{uuid.uuid4().hex[:8]}"
    load_s = await load_conditions(db, org, automations)
    evaluation: list[float] = []
    projector = ingestor.projector
    original: Callable[..., Any] = projector._evaluate

    async def timed(*args: Any, **kwargs: Any) -> Any:
        began = time.perf_counter()
        try:
            return await original(*args, **kwargs)
        finally:
            evaluation.append(time.perf_counter() - began)

    def updates_of(seed: int) -> list[Event]:
        rng = random.Random(seed)
        now = datetime.now(UTC)
        return [
            update_event(
                f"k{i % 200}",
                {f"f{rng.randrange(automations)}": "yes" if rng.random() < 0.1 else "no"},
                now + timedelta(seconds=i),
            )
            for i in range(updates + 50)
        ]

    async with db.transaction() as session:
        rows = await session.execute(
            text(
                "SELECT automation_id, version, trigger_type, priority, run_once, max_executions, reentry,"
                " max_concurrent_per_contact, workflow FROM trigger.automation_index WHERE org_id = :org"
            ),
            {"org": org},
        )
        began = time.perf_counter()
        for row in rows:
            projector.condition(ConditionAutomation(*row))
        compile_s = time.perf_counter() - began
    baseline = await timed_ingest(ingestor, baseline_org, updates_of(5))
    projector._evaluate = timed  # type: ignore[method-assign]
    try:
        whole = await timed_ingest(ingestor, org, updates_of(5))
    finally:
        projector._evaluate = original  # type: ignore[method-assign]
    async with db.transaction() as session:
        fired = await session.scalar(
            text("SELECT count(*) FROM trigger.enrollments WHERE org_id = :org"), {"org": org}
        )
    with_conditions, without = percentiles(whole[50:]), percentiles(baseline[50:])
    return {
        "automations": automations,
        "updates": updates,
        "load_s": round(load_s, 1),
        "compile_us_per_automation": round(compile_s / automations * 1e6, 1),
        "update_with_conditions": with_conditions,
        "update_without_conditions": without,
        "evaluation_p50_ms": round(with_conditions["p50_ms"] - without["p50_ms"], 3),
        "in_memory_evaluation_and_state_write": percentiles(evaluation) if evaluation else None,
        "started": int(fired or 0),
    }


async def run(
    database_url: str, *, contacts_count: int, automations: int, events: int, prefix: str = ""
) -> dict[str, Any]:
    """The three figures, on ``database_url`` (migrated). ``prefix``: the bus prefix of a running
    stack, so the START jobs of the conditions that fire go where its trigger's relay sends them."""
    db = Database(database_url, "trigger", pool_size=2)
    clock = SystemClock()
    ingestor = Ingestor(
        db,
        clock,
        Topology(prefix or f"bp{uuid.uuid4().hex[:6]}"),
        max_event_bytes=1 << 20,
        compiled_cache_size=20_000,
    )
    org = f"bproj{uuid.uuid4().hex[:8]}"
    try:
        log(f"bulk import of {contacts_count} contacts")
        result: dict[str, Any] = {
            "bulk_import": await bulk_import(db, ingestor.projector, org, contacts_count)
        }
        log(f"  {result['bulk_import']}")
        log("ingestion cost per event")
        result["ingestion"] = await ingestion_cost(ingestor, org, contacts_count, events)
        log(f"  {result['ingestion']}")
        log(f"condition evaluation with {automations} automations")
        result["conditions"] = await condition_cost(db, ingestor, automations, events)
        log(f"  {result['conditions']}")
        return result
    finally:
        await db.engine.dispose()


def main() -> None:
    from beez.kit.logging import configure_logging

    configure_logging("bench", "WARNING")
    contacts_count = int(os.environ.get("BENCH_CONTACTS", "1000000"))
    automations = int(os.environ.get("BENCH_CONDITION_AUTOMATIONS", "10000"))
    events = int(os.environ.get("BENCH_EVENTS", "500"))
    url = create_database(ADMIN_URL, "beez_bp")
    try:
        migrate_all(url, ["trigger"])
        result = asyncio.run(run(url, contacts_count=contacts_count, automations=automations, events=events))
    finally:
        drop_database(ADMIN_URL, url)
    import json

    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
