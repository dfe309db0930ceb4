"""``python -m bench.micro [PART ...]``: CPU per item of single components (the parts below).

The stack benchmark says how much CPU each service spends per execution; these say where inside
one service it goes, by driving one component directly, in this process, against a real
PostgreSQL and NATS (``DATABASE_URL`` / ``NATS_URL``, else the machine's at 127.0.0.1), and
reading ``time.process_time`` around the work. They are what the "single components" table of
bench/REPORT.md was measured with. ``--profile DIR`` also writes a CPU-time cProfile per part.

* ``engine``: ``Engine.start_batch`` on batches of 128 START jobs of the benchmark's 3-step
  automation (creation, the three internal steps, the outbox rows, the commit); ``engine32``
  in batches of 32; ``engine1`` one job at a time, as at light load.
* ``relay``: ``OutboxRelay.relay_once`` publishing 6,000 committed outbox rows.
* ``worker``: a ``PullWorker`` consuming 10,000 messages with a handler that does nothing.
* ``timers``: 1,000 idle polls of the executor's timer loop.
* ``ingest``: the trigger's ``Ingestor.ingest_many`` on batches of 128 events of 10
  organizations, each matching one automation (recording, matching, enrolment, the START
  jobs' outbox rows, the commit and the direct publish); ``lifecycle`` its
  ``apply_lifecycle`` on the started and completed events of those executions, 128 a batch.
  ``MICRO_BATCH=n`` sets the events per ingestion batch (the per-batch cost shows at 32 or 8).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import functools
import os
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import nats
from nats.aio.msg import Msg

from beez.api.messages.v1 import events_pb2, jobs_pb2
from beez.executor import models
from beez.executor.__main__ import MIGRATIONS
from beez.executor.actions.registry import build_registry
from beez.executor.actions.settings import ActionSettings
from beez.executor.engine import Engine, SessionStore
from beez.executor.timers import TimerLoop
from beez.kit.bus import OutboxRelay, Publisher, PullWorker, Topology, ensure_streams
from beez.kit.bus.outbox import DirectPublisher, OutboxMessage, enqueue_many
from beez.kit.bus.publisher import Publication
from beez.kit.clock import SystemClock
from beez.kit.db import Database
from beez.kit.logging import configure_logging
from beez.kit.migrations import upgrade
from beez.kit.telemetry import configure_tracing
from beez.trigger import models as trigger_models
from beez.trigger.__main__ import MIGRATIONS as TRIGGER_MIGRATIONS
from beez.trigger.domain.index import index_entry
from beez.trigger.ingest import Ingestor
from beez.trigger.repository import Repository as TriggerRepository
from beez.trigger.service import Lifecycle, apply_lifecycle
from bench.workloads import three_step_workflow, upserted
from tests.support.servers import create_database, drop_database

ADMIN_URL = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
NATS_URL = os.environ.get("NATS_URL", "nats://127.0.0.1:4222")

Part = Callable[[Database, Topology], Awaitable[tuple[int, Callable[[], Awaitable[None]]]]]
"""Prepares a part; returns how many items the measured work handles, and that work."""


def start_job(workflow: object) -> jobs_pb2.Job:
    contact_id = "c_" + uuid.uuid4().hex[:12]
    event = events_pb2.Event(id="evt_" + uuid.uuid4().hex, type="bench.run", contact_id=contact_id)
    event.contact.id = contact_id
    event.contact.tags.append("lead")
    return jobs_pb2.Job(
        execution_id="ex_" + uuid.uuid4().hex,
        reason=jobs_pb2.JOB_REASON_START,
        organization_id="org_micro",
        start=jobs_pb2.ExecutionStart(
            automation_id="aut_micro",
            automation_version=1,
            workflow=workflow,  # type: ignore[arg-type]
            event=event,
            contact_id=contact_id,
        ),
    )


def engine_part_of(size: int, total: int) -> Part:
    """``Engine.start_batch`` on batches of ``size`` START jobs, ``total`` jobs in all, with the
    outbox published directly after each commit, as the services run."""

    async def part(db: Database, topology: Topology) -> tuple[int, Callable[[], Awaitable[None]]]:
        nc = await nats.connect(NATS_URL)
        js = nc.jetstream()
        await ensure_streams(js, topology)
        DirectPublisher(db, models.outbox, Publisher(js)).install()
        engine = Engine(SessionStore(db), topology, SystemClock(), dict(build_registry(ActionSettings())))
        workflow = three_step_workflow("bench.run")
        jobs = [start_job(workflow) for _ in range(total + 128)]
        for start in range(0, 128, size):  # warm caches: workflow, statements, prepared plans
            await engine.start_batch(jobs[start : start + size])

        async def work() -> None:
            for start in range(128, len(jobs), size):
                await engine.start_batch(jobs[start : start + size])
            await nc.drain()

        return total, work

    return part


async def relay_part(db: Database, topology: Topology) -> tuple[int, Callable[[], Awaitable[None]]]:
    nc = await nats.connect(NATS_URL)
    js = nc.jetstream()
    await ensure_streams(js, topology)
    count = 6000
    subject = topology.events("org_micro", "tick")
    rows = [OutboxMessage(subject, b"p" * 200, f"m{i}", "org_micro") for i in range(count)]
    for start in range(0, count, 600):
        async with db.transaction() as session:
            await enqueue_many(session, models.outbox, rows[start : start + 600])
    relay = OutboxRelay(db, models.outbox, Publisher(js), batch=500)

    async def work() -> None:
        while await relay.relay_once():
            pass
        await nc.close()

    return count, work


async def worker_part(db: Database, topology: Topology) -> tuple[int, Callable[[], Awaitable[None]]]:
    configure_tracing("micro")
    nc = await nats.connect(NATS_URL)
    js = nc.jetstream()
    await ensure_streams(js, topology)
    count = 10_000
    publisher = Publisher(js)
    subject = topology.events("org_micro", "tick")
    for start in range(0, count, 500):
        await publisher.publish_many(
            [Publication(subject, b"p" * 200, f"w{i}", org_id="org_micro") for i in range(start, start + 500)]
        )
    done = asyncio.Event()
    seen = 0

    async def handler(msg: Msg) -> None:
        nonlocal seen
        seen += 1
        if seen == count:
            done.set()

    worker = PullWorker(
        js,
        topology,
        stream="EVENTS",
        durable="micro",
        subjects=["events.>"],
        handler=handler,
        concurrency=256,
    )

    async def work() -> None:
        task = asyncio.create_task(worker.run())
        await done.wait()
        await worker.stop()
        await task
        await nc.close()

    return count, work


async def timers_part(db: Database, topology: Topology) -> tuple[int, Callable[[], Awaitable[None]]]:
    loop = TimerLoop(db, topology, SystemClock())
    for _ in range(50):
        await loop.fire_due()
    polls = 1000

    async def work() -> None:
        for _ in range(polls):
            await loop.fire_due()

    return polls, work


def trigger_part(*, lifecycle: bool) -> Part:
    """The trigger's ingestion of events, or its lifecycle batches for the executions they started."""
    return functools.partial(_trigger_part, lifecycle=lifecycle)


async def _trigger_part(
    db: Database, topology: Topology, *, lifecycle: bool
) -> tuple[int, Callable[[], Awaitable[None]]]:
    url = db.engine.url.render_as_string(hide_password=False).replace("postgresql+psycopg", "postgresql")
    await asyncio.to_thread(upgrade, TRIGGER_MIGRATIONS, url, "trigger")
    tdb = Database(url, "trigger", pool_size=5)
    nc = await nats.connect(NATS_URL)
    js = nc.jetstream()
    await ensure_streams(js, topology)
    DirectPublisher(tdb, trigger_models.outbox, Publisher(js)).install()
    clock = SystemClock()
    ingestor = Ingestor(tdb, clock, topology, max_event_bytes=256 * 1024, compiled_cache_size=1024)
    orgs = [f"org_{i}" for i in range(10)]
    workflow = three_step_workflow("bench.run")
    async with tdb.transaction() as session:
        repo = await TriggerRepository.of(session)
        for org in orgs:
            await repo.upsert_automation(index_entry(upserted(org, f"aut_{org}", workflow), org), clock.now())

    def batch(size: int) -> list[tuple[str, events_pb2.Event]]:
        items = []
        for i in range(size):
            org = orgs[i % len(orgs)]
            contact_id = "c_" + uuid.uuid4().hex[:12]
            event = events_pb2.Event(id="evt_" + uuid.uuid4().hex, type="bench.run", contact_id=contact_id)
            event.contact.id = contact_id
            items.append((org, ingestor.prepare(org, [event], ["event"])[0]))
        return items

    total = 3072
    size = int(os.environ.get("MICRO_BATCH", "128"))
    batches = [batch(size) for _ in range(total // size + 1)]
    await ingestor.ingest_many(batches[0])  # warm caches: automations, statements, prepared plans

    async def ingest() -> list[tuple[str, str]]:
        started = []
        for items in batches[1:]:
            results = await ingestor.ingest_many(items)
            started += [
                (org, i)
                for (org, _), result in zip(items, results, strict=True)
                for i in result.execution_ids
            ]
        return started

    if not lifecycle:

        async def work() -> None:
            await ingest()
            await nc.drain()
            await tdb.dispose()

        return total, work

    executions = await ingest()
    events = [
        item
        for i in range(0, len(executions), 64)
        for item in [Lifecycle(x, org, None) for org, x in executions[i : i + 64]]
        + [Lifecycle(x, org, "completed") for org, x in executions[i : i + 64]]
    ]

    async def apply() -> None:
        for i in range(0, len(events), 128):
            await apply_lifecycle(tdb, clock, events[i : i + 128])
        await nc.drain()
        await tdb.dispose()

    return len(executions), apply


PARTS: dict[str, Part] = {
    "engine": engine_part_of(128, 2944),
    "engine1": engine_part_of(1, 1000),
    "engine32": engine_part_of(32, 2944),
    "relay": relay_part,
    "worker": worker_part,
    "timers": timers_part,
    "ingest": trigger_part(lifecycle=False),
    "lifecycle": trigger_part(lifecycle=True),
}


async def measure(name: str, profile_dir: Path | None) -> float:
    """CPU milliseconds per item of one part, on a database and bus prefix of its own."""
    url = await asyncio.to_thread(create_database, ADMIN_URL, "beez_micro")
    topology = Topology("micro" + uuid.uuid4().hex[:6])
    db = Database(url, "executor", pool_size=5)
    nc = await nats.connect(NATS_URL)
    try:
        await asyncio.to_thread(upgrade, MIGRATIONS, url, "executor")
        items, work = await PARTS[name](db, topology)
        profiler = cProfile.Profile(time.process_time) if profile_dir else None
        began = time.process_time()
        if profiler is not None:
            profiler.enable()
        await work()
        if profiler is not None:
            profiler.disable()
        spent = time.process_time() - began
        if profiler is not None and profile_dir is not None:
            profiler.dump_stats(str(profile_dir / f"{name}.prof"))
        return 1000 * spent / items
    finally:
        js = nc.jetstream()
        for info in await js.streams_info():
            if info.config.name and info.config.name.startswith(topology.prefix):
                await js.delete_stream(info.config.name)
        await nc.close()
        await db.dispose()
        await asyncio.to_thread(drop_database, ADMIN_URL, url)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.micro", description=__doc__)
    parser.add_argument("parts", nargs="*", metavar="PART", help=f"any of {', '.join(PARTS)} (default: all)")
    parser.add_argument("--profile", type=Path, help="write a CPU-time cProfile per part here")
    args = parser.parse_args()
    unknown = set(args.parts) - set(PARTS)
    if unknown:
        parser.error(f"unknown parts: {', '.join(sorted(unknown))}")
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    configure_logging("micro", "WARNING")  # as the benchmark runs the services
    for name in args.parts or list(PARTS):
        per_item = asyncio.run(measure(name, args.profile))
        note = " (under the profiler)" if args.profile else ""
        print(f"{name:7s} {per_item:.3f} ms of CPU per item{note}")


if __name__ == "__main__":
    main()
