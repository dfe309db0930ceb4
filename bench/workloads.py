"""The measured workloads: throughput, latency, trigger matching, timers.

Load goes in the way production load does: events on ``events.<org>.<type>`` (JetStream
publishes, acknowledged), single events over the trigger's ``PublishEvent`` RPC, automations as
``AutomationChanged`` messages, or, for bulk set-up only, rows written straight into the
trigger's index and the executor's timers table. Completions are observed at the client by
subscribing to ``executions.<org>.completed``; an execution's latency is the time from just
before its event was published to the moment its COMPLETED lifecycle event arrived here.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import psycopg
from google.protobuf import json_format
from google.protobuf.timestamp_pb2 import Timestamp
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.js import JetStreamContext

from beez.api.messages.v1 import events_pb2, jobs_pb2, lifecycle_pb2
from beez.api.trigger.v1 import trigger_pb2, trigger_pb2_grpc
from beez.api.workflow.v1 import workflow_pb2
from beez.kit.bus.headers import CONTENT_TYPE, MSG_ID, PROTOBUF_CONTENT_TYPE
from beez.kit.bus.publisher import Publication, Publisher
from beez.kit.bus.topology import Topology
from beez.trigger.domain.index import index_entry

RUN_EVENT = "bench.run"


def three_step_workflow(event_type: str) -> workflow_pb2.Workflow:
    """condition → set_variable (its yes branch) → add_tag: three internal steps."""
    doc: dict[str, Any] = {
        "name": "bench three steps",
        "trigger": {"type": "custom_event", "event": event_type},
        "actions": [
            {
                "id": "check",
                "type": "condition",
                "config": {
                    "conditions": [{"field": "contact.score", "operator": "greater_than", "value": 10}]
                },
                "branches": [
                    {
                        "name": "yes",
                        "actions": [
                            {
                                "id": "tier",
                                "type": "set_variable",
                                "config": {"name": "tier", "value": "gold"},
                            }
                        ],
                    },
                    {"name": "no", "actions": []},
                ],
            },
            {"id": "tag", "type": "add_tag", "config": {"tag": "bench"}},
        ],
        "settings": {"reentry": "always"},
    }
    return json_format.ParseDict(doc, workflow_pb2.Workflow())


def upserted(
    org: str, automation_id: str, workflow: workflow_pb2.Workflow
) -> lifecycle_pb2.AutomationChanged:
    """Version 1 of an active automation, as the automation service announces it."""
    return lifecycle_pb2.AutomationChanged(
        kind=lifecycle_pb2.CHANGE_KIND_UPSERTED,
        organization_id=org,
        automation_id=automation_id,
        version=1,
        active=True,
        workflow=workflow,
        revision=1,
    )


def percentiles(values: Sequence[float]) -> dict[str, float | int | None]:
    """count, p50/p95/p99/max and mean of ``values`` (seconds), in milliseconds."""
    if not values:
        return {"count": 0, "p50_ms": None, "p95_ms": None, "p99_ms": None, "max_ms": None, "mean_ms": None}
    ordered = sorted(values)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 2)

    return {
        "count": len(ordered),
        "p50_ms": at(0.50),
        "p95_ms": at(0.95),
        "p99_ms": at(0.99),
        "max_ms": round(ordered[-1] * 1000, 2),
        "mean_ms": round(sum(ordered) / len(ordered) * 1000, 2),
    }


HOPS = ("to_trigger_commit", "to_executor_start", "run", "to_client")
"""Where an execution's latency goes, from its COMPLETED event's times (wall clocks, one machine):
the event's publish → the trigger's ingest (``created_at``) → the executor's start (``queue_wait_ms``
later) → completion (``duration_ms`` later) → the COMPLETED event reaching the client. The first
hop ends before the trigger's commit, the second includes that commit, the relay and the START hop."""


@dataclass
class Completions:
    """Executions completed (and failed) as seen on ``executions.*.completed|failed``."""

    sent: dict[str, float] = field(default_factory=dict)
    """Contact id → perf_counter just before its event was published."""
    sent_wall: dict[str, float] = field(default_factory=dict)
    """Contact id → wall clock just before its event was published (to place the hops)."""
    latencies: list[float] = field(default_factory=list)
    hops: dict[str, list[float]] = field(default_factory=lambda: {name: [] for name in HOPS})
    """Seconds per hop, from the COMPLETED event's own times (see :data:`HOPS`)."""
    done_at: list[float] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    """Executions whose COMPLETED arrived: each counts once."""
    failed: int = 0

    async def on_completed(self, msg: Msg) -> None:
        now = time.perf_counter()
        event = lifecycle_pb2.ExecutionEvent.FromString(msg.data)
        if event.execution_id in self.seen:
            return  # published again (the outbox relay): JetStream dropped it, a plain subscriber did not
        self.seen.add(event.execution_id)
        self.done_at.append(now)
        started = self.sent.pop(event.contact_id, None)
        sent_wall = self.sent_wall.pop(event.contact_id, None)
        if started is not None:
            self.latencies.append(now - started)
        if sent_wall is not None and event.HasField("occurred_at"):
            finished = event.occurred_at.ToNanoseconds() / 1e9
            began = finished - event.duration_ms / 1000
            created = began - event.queue_wait_ms / 1000
            spans = (created - sent_wall, began - created, finished - began, time.time() - finished)
            for name, seconds in zip(HOPS, spans, strict=True):
                self.hops[name].append(seconds)

    async def on_failed(self, msg: Msg) -> None:
        self.failed += 1

    def forget(self) -> int:
        """Stops waiting for what has not completed (so it never counts in a later phase)."""
        left = len(self.sent)
        self.sent.clear()
        self.sent_wall.clear()
        return left

    @property
    def pending(self) -> int:
        return len(self.sent)

    async def drained(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while self.sent and time.monotonic() < deadline:  # noqa: ASYNC110 - polled on purpose
            await asyncio.sleep(0.05)
        return not self.sent


@dataclass
class Driver:
    """The client side of the benchmark: NATS connections and the stack's addresses.

    ``nc``/``js`` observe (the ``ops`` user: subscriptions, stream and consumer info); events
    go out as an internal platform caller would publish them (``events_js``, the ``platform``
    user), and automations are announced as the automation service would (``announce_js``).
    Against an open NATS all three may be the same connection.
    """

    nc: NATS
    js: JetStreamContext
    topology: Topology
    trigger_address: str
    events_js: JetStreamContext
    announce_js: JetStreamContext
    completions: Completions = field(default_factory=Completions)
    publisher: Publisher = field(init=False)

    def __post_init__(self) -> None:
        self.publisher = Publisher(self.events_js)

    async def subscribe(self) -> None:
        await self.nc.subscribe(
            self.topology.subject("executions.*.completed"), cb=self.completions.on_completed
        )
        await self.nc.subscribe(self.topology.subject("executions.*.failed"), cb=self.completions.on_failed)

    # --- set-up ----------------------------------------------------------------------------

    async def announce(self, org: str, automation_id: str, workflow: workflow_pb2.Workflow) -> None:
        """An automation, as the automation service announces it (AUTOMATIONS stream)."""
        change = upserted(org, automation_id, workflow)
        await self.announce_js.publish(
            self.topology.subject(f"automations.{org}.changed"),
            change.SerializeToString(),
            headers={MSG_ID: f"{automation_id}:1", CONTENT_TYPE: PROTOBUF_CONTENT_TYPE},
        )

    async def indexed(self, timeout: float = 60.0) -> None:
        """Waits until the trigger has applied every automation change published so far."""
        stream = self.topology.stream("AUTOMATIONS")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            info = await self.js.consumer_info(stream, "trigger-automations")
            last = (await self.js.stream_info(stream)).state.last_seq
            if info.num_pending == 0 and info.num_ack_pending == 0 and info.delivered.stream_seq >= last:
                return
            await asyncio.sleep(0.05)
        raise RuntimeError("the trigger never indexed the automations")

    async def quiesce(self, timeout: float) -> float:
        """Waits (up to ``timeout``) until no event, job or lifecycle event is pending or in hand.

        A phase that overloaded the stack leaves a backlog (events not yet matched, jobs not yet
        run, lifecycle events not yet counted); without this the next phase would measure the
        backlog instead of itself. Returns the seconds waited.
        """
        streams = [self.topology.stream(name) for name in ("EVENTS", "JOBS", "EXECUTIONS")]
        began = time.monotonic()
        while time.monotonic() - began < timeout:
            busy = 0
            for stream in streams:
                for info in await self.js.consumers_info(stream):
                    busy += (info.num_pending or 0) + (info.num_ack_pending or 0)
            if busy == 0 and not self.completions.pending:
                break
            await asyncio.sleep(0.5)
        return round(time.monotonic() - began, 1)

    # --- load ------------------------------------------------------------------------------

    def event(self, event_type: str) -> events_pb2.Event:
        contact_id = "c" + uuid.uuid4().hex[:16]
        stamp = Timestamp()
        stamp.GetCurrentTime()
        return events_pb2.Event(
            id="e" + uuid.uuid4().hex,
            type=event_type,
            contact_id=contact_id,
            occurred_at=stamp,
            contact=events_pb2.Contact(id=contact_id, score=50, first_name="Bench"),
        )

    async def publish_events(self, orgs: Sequence[str], count: int, start: int = 0) -> None:
        """``count`` events on ``events.<org>.bench.run``, published at once, each acked.

        Through the kit's :class:`~beez.kit.bus.publisher.Publisher`, as a platform service
        would publish its events: all of them go out, then the PubAcks are collected.
        """
        batch = []
        for i in range(count):
            org = orgs[(start + i) % len(orgs)]
            ev = self.event(RUN_EVENT)
            self.completions.sent[ev.contact_id] = time.perf_counter()
            self.completions.sent_wall[ev.contact_id] = time.time()
            batch.append(
                Publication(self.topology.subject(f"events.{org}.{RUN_EVENT}"), ev, ev.id, org_id=org)
            )
        await self.publisher.publish_many(batch)


async def setup_run_automations(driver: Driver, orgs: Sequence[str]) -> None:
    workflow = three_step_workflow(RUN_EVENT)
    for org in orgs:
        await driver.announce(org, f"ba_{org}", workflow)
    await driver.indexed()


async def throughput(
    driver: Driver,
    orgs: Sequence[str],
    warmup_s: float,
    window_s: float,
    inflight: int,
    drain_s: float = 120.0,
) -> dict[str, Any]:
    """Completed executions per second at saturation (closed loop, ``inflight`` outstanding)."""
    completions = driver.completions
    completions.latencies.clear()
    begin = time.perf_counter()
    window_start, window_end = begin + warmup_s, begin + warmup_s + window_s
    published = 0
    done_before = len(completions.done_at)
    while time.perf_counter() < window_end:
        room = inflight - completions.pending
        if room > 0:
            n = min(room, 250)
            await driver.publish_events(orgs, n, published)
            published += n
        else:
            await asyncio.sleep(0.005)
    in_window = sum(1 for t in completions.done_at[done_before:] if window_start <= t <= window_end)
    drained = await completions.drained(drain_s)
    left = completions.forget()
    rate = in_window / window_s
    return {
        "executions_per_s": round(rate, 1),
        "completed_in_window": in_window,
        "window_s": window_s,
        "warmup_s": warmup_s,
        "published": published,
        "inflight_bound": inflight,
        "orgs": len(orgs),
        "latency_under_saturation": percentiles(completions.latencies),
        "drained_after": drained,
        "not_completed_after_drain": left,
        "failed": completions.failed,
    }


async def latency_at(
    driver: Driver, orgs: Sequence[str], rate: float, duration_s: float, drain_s: float = 60.0
) -> dict[str, Any]:
    """Open loop: ``rate`` events/s for ``duration_s``; latency publish → COMPLETED."""
    completions = driver.completions
    completions.latencies.clear()
    for values in completions.hops.values():
        values.clear()
    total = max(1, int(rate * duration_s))
    begin = time.perf_counter()
    published = 0
    while published < total:
        due = min(total, int((time.perf_counter() - begin) * rate) + 1)
        if due > published:
            await driver.publish_events(orgs, due - published, published)
            published = due
        await asyncio.sleep(0.002)
    elapsed = time.perf_counter() - begin
    drained = await completions.drained(drain_s)
    left = completions.forget()
    return {
        "target_rate": round(rate, 1),
        "achieved_publish_rate": round(published / elapsed, 1),
        "events": published,
        "duration_s": round(elapsed, 2),
        "lost_or_late": left,
        "drained": drained,
        **percentiles(completions.latencies),
        "hops_p50_ms": {name: percentiles(values)["p50_ms"] for name, values in completions.hops.items()},
        "hops_p99_ms": {name: percentiles(values)["p99_ms"] for name, values in completions.hops.items()},
    }


# --- trigger matching ----------------------------------------------------------------------

INDEX_COLUMNS = (
    "automation_id",
    "org_id",
    "revision",
    "version",
    "active",
    "deleted",
    "trigger_type",
    "event_type",
    "priority",
    "run_once",
    "max_executions",
    "reentry",
    "max_concurrent_per_contact",
    "workflow",
    "updated_at",
)


def match_org(i: int) -> str:
    return f"m{i:04d}"


def load_index(libpq_url: str, start: int, stop: int, orgs: int) -> float:
    """Automations ``start..stop`` into ``trigger.automation_index`` with COPY; returns seconds.

    Automation j belongs to organization ``j % orgs`` and listens to ``bench.e<j // orgs>``,
    so an event of type ``bench.e0`` matches exactly one automation of its organization.
    Rows are built by the trigger's own :func:`index_entry`, as its consumer would store them.
    """
    began = time.perf_counter()
    workflows: dict[int, workflow_pb2.Workflow] = {}
    now = datetime.now(UTC)
    with psycopg.connect(libpq_url) as conn:
        with (
            conn.cursor() as cur,
            cur.copy(f"COPY trigger.automation_index ({', '.join(INDEX_COLUMNS)}) FROM STDIN") as copy,
        ):
            for j in range(start, stop):
                k = j // orgs
                wf = workflows.get(k) or workflows.setdefault(k, three_step_workflow(f"bench.e{k}"))
                org = match_org(j % orgs)
                entry = index_entry(upserted(org, f"bm{j:06d}", wf), org)
                copy.write_row(
                    (
                        entry.automation_id, entry.org_id, entry.revision, entry.version, entry.active,
                        entry.deleted, entry.trigger_type, entry.event_type, entry.priority, entry.run_once,
                        entry.max_executions, entry.reentry, entry.max_concurrent_per_contact, entry.workflow,
                        now,
                    )
                )  # fmt: skip
        conn.execute("ANALYZE trigger.automation_index")
    return time.perf_counter() - began


async def matching_cost(driver: Driver, active: int, orgs: int, events: int) -> dict[str, Any]:
    """Per-event cost of ``PublishEvent`` (one event, one RPC at a time) matching one automation."""
    with_automations = min(active, orgs)
    times: list[float] = []
    accepted = 0
    rng = random.Random(active)
    async with grpc.aio.insecure_channel(driver.trigger_address) as channel:
        stub = trigger_pb2_grpc.EventServiceStub(channel)
        for i in range(events + 10):
            org = match_org(rng.randrange(with_automations))
            ev = driver.event("bench.e0")
            began = time.perf_counter()
            resp = await stub.PublishEvent(
                trigger_pb2.PublishEventRequest(event=ev),
                metadata=[("x-org-id", org), ("x-user-id", "bench")],
            )
            if i >= 10:  # the first few warm the channel and the compiled-trigger cache
                times.append(time.perf_counter() - began)
                accepted += int(resp.result.accepted)
    return {"active_automations": active, "orgs": orgs, "accepted": accepted, **percentiles(times)}


# --- timers --------------------------------------------------------------------------------


async def timer_lag(
    driver: Driver, libpq_url: str, count: int, spread_s: float, lead_s: float
) -> dict[str, Any]:
    """``count`` timers due over ``spread_s`` seconds, fired by the running executor.

    Rows go straight into ``executor.timers`` (COPY) with priority ``low``; each fires a
    ``Job{reason: TIMER}`` through the outbox. Two lags per timer: ``claim`` = the job's
    ``enqueued_at`` (the firing transaction's clock) - due_at, and ``publish`` = arrival of the
    job here - due_at. The jobs point at executions that do not exist, so the executor ignores
    them (after a lookup), as it ignores a stale timer.
    """
    due: dict[str, float] = {}
    claim: list[float] = []
    publish: list[float] = []

    async def on_job(msg: Msg) -> None:
        arrived = time.time()
        job = jobs_pb2.Job.FromString(msg.data)
        when = due.pop(job.token, None)
        if when is not None:
            publish.append(arrived - when)
            claim.append(job.enqueued_at.ToDatetime(tzinfo=UTC).timestamp() - when)

    sub = await driver.nc.subscribe(driver.topology.subject("jobs.low.>"), cb=on_job)
    first = datetime.now(UTC) + timedelta(seconds=lead_s)
    rows = []
    for i in range(count):
        at = first + timedelta(seconds=spread_s * i / count)
        token = f"bt{i}"
        due[token] = at.timestamp()
        rows.append((f"bench-timer-{i}", f"bt{i % 100:03d}", f"bx{i}", "delay", at, token, "s", "low"))

    def insert() -> float:
        began = time.perf_counter()
        columns = "id, org_id, execution_id, kind, due_at, token, step_id, priority"
        with (
            psycopg.connect(libpq_url) as conn,
            conn.cursor() as cur,
            cur.copy(f"COPY executor.timers ({columns}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
        return time.perf_counter() - began

    insert_s = await asyncio.to_thread(insert)
    deadline = time.monotonic() + lead_s + spread_s + 120
    while due and time.monotonic() < deadline:  # noqa: ASYNC110 - polled on purpose
        await asyncio.sleep(0.2)
    await sub.unsubscribe()
    return {
        "timers": count,
        "spread_s": spread_s,
        "insert_s": round(insert_s, 2),
        "not_fired_in_time": len(due),
        "claim_lag": percentiles(claim),
        "publish_lag": percentiles(publish),
    }
