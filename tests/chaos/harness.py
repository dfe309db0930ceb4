"""The chaos harness: a whole stack we may break, provider stand-ins, and a ledger.

:class:`ChaosStack` is a :class:`beez.kit.stack.Stack` with its own embedded PostgreSQL
(``fsync=on``) and nats-server (file storage, ``sync_interval: always``) on fixed ports, so a
scenario can kill and restart either on the same data, and runs the automation, trigger, executor
and analytics services as processes (``python -m beez.<name>``) that it can SIGTERM, SIGKILL and
restart on the same gRPC port.

:class:`Receiver` is an HTTP server standing in for a webhook receiver that deduplicates like a
real provider: the first request with an ``X-Beez-Idempotency-Key`` is an *effect*; a later
request with the same key is a *redelivery*, answered the same and changing nothing.

:class:`Ledger` settles the books after a fault, for one organization (every scenario has its
own). Definitions:

* **expected**: the executions the accepted events must start (events x matching automations);
  **lost**: expected executions that do not exist, or exist but are not terminal by the deadline
  (**stuck**: the latter, by status).
* **effect**: a distinct idempotency key the receiver saw; **redeliveries**: requests beyond
  the first per key (at-least-once delivery by design: a crash after the call and before the
  result's commit re-sends the same key, and the receiver drops it).
* **per-step duplicates**: for one execution and one step position, effects beyond the first,
  that is the same step performed under two different keys (attempt n and n+1). This is the
  duplicate a key cannot catch; by docs/decisions/0007 the engine makes it only when an attempt
  *failed* (an error answer, or the call's own timeout) and the retry schedule ran it again, never
  for a crash (a crashed attempt is reused with its key). The stand-in never fails, so every
  scenario expects 0. "Once in effect" means: per execution and step, exactly one effect.
* **missing effects**: a completed execution whose webhook step has no effect.

:class:`WireTap` watches subjects on core NATS, where every publish passes, re-sends included
(the stream's duplicate window drops a re-send from the stream, not from the wire), and
:func:`stored` reads what a stream actually kept: together they tell "sent twice" from "stored
twice". :meth:`ChaosStack.cpu_seconds` says where the CPU time of a phase went.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import nats
import psutil
import psycopg
from aiohttp import web
from google.protobuf import json_format
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from beez.api.automation.v1 import automation_pb2, automation_pb2_grpc
from beez.api.messages.v1 import events_pb2
from beez.api.trigger.v1 import trigger_pb2, trigger_pb2_grpc
from beez.api.workflow.v1 import workflow_pb2
from beez.kit.bus.permissions import OPS
from beez.kit.bus.topology import Topology
from beez.kit.embedded import EmbeddedNats, EmbeddedPostgres, free_port
from beez.kit.stack import Dependencies, ServiceProcess, Stack, libpq_url, migrate_all
from beez.workflow.status import TERMINAL
from tests.support.providers import serving
from tests.support.servers import pg_data_root

ROOT = Path(__file__).resolve().parents[2]
REPORT = ROOT / ".beez" / "chaos" / "results.jsonl"
SERVICES = ("automation", "trigger", "executor", "analytics")
KEY = re.compile(r"^exec:(?P<execution>[^:]+):step:(?P<position>[^:]+):attempt:(?P<attempt>\d+)$")


# --- the webhook receiver -------------------------------------------------------------------


@dataclass
class Receiver:
    """A deduplicating webhook receiver; ``delay_s`` slows the answers to paths under ``/slow``."""

    port: int = field(default_factory=free_port)
    delay_s: float = 0.0
    requests: list[str] = field(default_factory=list)
    """The idempotency key of every request, in arrival order ("" when it had none)."""
    answered: list[str] = field(default_factory=list)
    """The key of every request answered (a request the caller gave up on first is not)."""
    arrivals: dict[str, float] = field(default_factory=dict)
    """When (``time.monotonic()``) each idempotency key first arrived."""
    in_flight: Counter[str] = field(default_factory=Counter)
    max_concurrent_same_key: int = 0
    on_request: Callable[[str], None] | None = None
    """Called with each request's key before it is answered (a scenario may kill the caller)."""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def handle(self, request: web.Request) -> web.Response:
        await request.read()
        key = request.headers.get("X-Beez-Idempotency-Key", "")
        self.requests.append(key)
        self.arrivals.setdefault(key, time.monotonic())
        self.in_flight[key] += 1
        self.max_concurrent_same_key = max(self.max_concurrent_same_key, self.in_flight[key])
        if self.on_request is not None:
            self.on_request(key)
        try:
            if self.delay_s and request.path.startswith("/slow"):
                await asyncio.sleep(self.delay_s)
        finally:
            self.in_flight[key] -= 1
        self.answered.append(key)
        return web.json_response({"ok": True})

    def effects(self) -> set[str]:
        return {k for k in self.requests if k}

    def redeliveries(self) -> int:
        return len([k for k in self.requests if k]) - len(self.effects())


@asynccontextmanager
async def receiver(delay_s: float = 0.0) -> AsyncIterator[Receiver]:
    stand_in = Receiver(delay_s=delay_s)
    async with serving(stand_in.handle, stand_in.port):
        yield stand_in


# --- the stack ------------------------------------------------------------------------------


@dataclass
class ChaosStack:
    """Embedded PostgreSQL and NATS plus the services, each restartable in place."""

    root: Path
    receiver: Receiver
    executor_env: dict[str, str] = field(default_factory=dict)
    trigger_env: dict[str, str] = field(default_factory=dict)
    prefix: str = "chaos"
    offset_s: float = 0.0
    nc: NATS | None = None
    stack: Stack | None = field(default=None, init=False)
    clients: dict[str, NATS] = field(default_factory=dict, init=False)
    _connecting: asyncio.Lock = field(default_factory=asyncio.Lock, init=False)

    def __post_init__(self) -> None:
        self.offset_file = self.root / "clock-offset"
        self.offset_file.write_text("0")
        self.topology = Topology(self.prefix)

    @property
    def deps(self) -> Dependencies:
        assert self.stack is not None, "the stack is not started"
        return self.stack.deps

    @property
    def pg(self) -> EmbeddedPostgres:
        assert self.deps.pg is not None
        return self.deps.pg

    @property
    def nats_server(self) -> EmbeddedNats:
        assert self.deps.nats is not None
        return self.deps.nats

    @property
    def procs(self) -> dict[str, ServiceProcess]:
        return self.stack.services if self.stack is not None else {}

    @property
    def database_url(self) -> str:
        return self.deps.database_url

    @property
    def libpq(self) -> str:
        return libpq_url(self.database_url)

    @property
    def js(self) -> JetStreamContext:
        assert self.nc is not None
        return self.nc.jetstream()

    async def start(self) -> None:
        deps = Dependencies.start(self.root, nats_sync_always=True, bus_prefix=self.prefix)
        self.stack = Stack.plan(
            deps,
            self.root / "logs",
            names=SERVICES,
            prefix=self.prefix,
            env={"BEEZ_CLOCK_OFFSET_FILE": str(self.offset_file), "BEEZ_LOG_LEVEL": "WARNING"},
            service_env={
                "trigger": {"BEEZ_CONSUMER_ACK_WAIT_S": "5", **self.trigger_env},
                "executor": {
                    "BEEZ_ACTIONS__SSRF_ALLOWLIST": '["127.0.0.1/32"]',
                    "BEEZ_JOB_ACK_WAIT_S": "2",
                    "BEEZ_JOB_CONCURRENCY": "40",
                    "BEEZ_JOB_TIMEOUT_S": "10",
                    "BEEZ_SWEEPER_STALE_AFTER_S": "30",
                    "BEEZ_SWEEPER_INTERVAL_S": "1",
                    **self.executor_env,
                },
            },
        )
        migrate_all(deps.database_url)
        self.stack.start()
        await self.serving()
        self.nc = await self._connect(OPS)

    async def _connect(self, role: str) -> NATS:
        return await nats.connect(
            self.nats_server.url,
            max_reconnect_attempts=-1,
            reconnect_time_wait=0.2,
            **self.deps.nats_options(role),
        )

    async def js_as(self, role: str) -> JetStreamContext:
        """JetStream as the NATS user ``role`` (the stack runs the production permission model:
        ``self.nc``/``self.js`` are the ``ops`` observer, which publishes no data subject)."""
        async with self._connecting:  # many concurrent first callers share one connection
            if role not in self.clients:
                self.clients[role] = await self._connect(role)
        return self.clients[role].jetstream()

    async def serving(self, names: Iterable[str] | None = None, timeout: float = 60.0) -> None:
        assert self.stack is not None
        await self.stack.serving(names, timeout)

    async def close(self) -> None:
        for client in [*self.clients.values(), *([self.nc] if self.nc is not None else [])]:
            await client.close()
        if self.stack is not None:
            self.stack.stop()

    def advance(self, seconds: float) -> None:
        self.offset_s += seconds
        self.offset_file.write_text(str(self.offset_s))

    def channel(self, name: str) -> grpc.aio.Channel:
        return grpc.aio.insecure_channel(self.procs[name].address)

    # --- driving it ---

    async def create_automation(self, org: str, doc: dict[str, Any]) -> str:
        workflow = json_format.ParseDict(doc, workflow_pb2.Workflow())
        async with self.channel("automation") as ch:
            resp = await automation_pb2_grpc.AutomationServiceStub(ch).CreateAutomation(
                automation_pb2.CreateAutomationRequest(automation=workflow, active=True),
                metadata=meta(org),
            )
        await self.indexed()
        return str(resp.automation.id)

    async def indexed(self, timeout: float = 30.0) -> None:
        """Waits until the trigger has applied every automation change published so far."""
        stream = self.topology.stream("AUTOMATIONS")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            info = await self.js.consumer_info(stream, "trigger-automations")
            last = (await self.js.stream_info(stream)).state.last_seq
            if info.num_ack_pending == 0 and info.delivered.stream_seq >= last > 0:
                return
            await asyncio.sleep(0.05)
        raise AssertionError("the trigger never indexed the automation")

    async def publish_batch(self, org: str, events: list[dict[str, Any]]) -> list[bool]:
        """PublishEvents; the accepted flag of each event."""
        batch = [json_format.ParseDict(e, events_pb2.Event()) for e in events]
        async with self.channel("trigger") as ch:
            resp = await trigger_pb2_grpc.EventServiceStub(ch).PublishEvents(
                trigger_pb2.PublishEventsRequest(events=batch), metadata=meta(org), timeout=60
            )
        return [r.accepted for r in resp.results]

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.libpq, connect_timeout=3) as conn:
            return conn.execute(sql, params).fetchall()  # type: ignore[arg-type]

    def cpu_seconds(self) -> dict[str, float]:
        """CPU seconds (user + system) used so far by each live service process, by PostgreSQL
        (the postmaster, its live children and the children it reaped), by nats-server and by
        this test process (the driver and the webhook receiver). A restarted process starts
        again from 0, so compare two readings only across a phase without restarts."""
        used = {
            name: _cpu(proc.proc.pid) if proc.proc is not None and proc.proc.poll() is None else 0.0
            for name, proc in self.procs.items()
        }
        used["postgres"] = _cpu(self.pg.proc.pid, children=True) if self.pg.proc is not None else 0.0
        used["nats"] = _cpu(self.nats_server.proc.pid) if self.nats_server.proc is not None else 0.0
        used["test"] = _cpu(os.getpid())
        return used


def _cpu(pid: int, *, children: bool = False) -> float:
    try:
        process = psutil.Process(pid)
        times = process.cpu_times()
        total = times.user + times.system
        if children:
            total += times.children_user + times.children_system
            for child in process.children():
                try:
                    child_times = child.cpu_times()
                except psutil.Error:  # exited meanwhile: the postmaster reaps it into children_*
                    continue
                total += child_times.user + child_times.system
        return total
    except psutil.Error:
        return 0.0


def cpu_split(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """CPU seconds each component used between two :meth:`ChaosStack.cpu_seconds` readings."""
    return {name: round(after[name] - before.get(name, 0.0), 1) for name in after}


# --- the wire and the streams ---------------------------------------------------------------


@dataclass
class WireTap:
    """Every copy of every message published on some subjects, seen on core NATS as it passes.

    ``copies`` counts the copies per ``Nats-Msg-Id`` (a relay re-send shows up as a second copy
    here even when the stream drops it); ``first`` keeps each id's subject and payload.
    ``on_message`` is called with the subject and id of each copy, in the client's callback, so
    a scenario may kill a process the moment something appears.
    """

    copies: Counter[str] = field(default_factory=Counter)
    first: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    on_message: Callable[[str, str], None] | None = None

    async def handle(self, msg: Msg) -> None:
        msg_id = (msg.headers or {}).get("Nats-Msg-Id", "")
        self.copies[msg_id] += 1
        self.first.setdefault(msg_id, (msg.subject, msg.data))
        if self.on_message is not None:
            self.on_message(msg.subject, msg_id)


@asynccontextmanager
async def wire_tap(stack: ChaosStack, *subjects: str) -> AsyncIterator[WireTap]:
    """Taps ``subjects`` (raw, unprefixed, wildcards allowed) until the block ends."""
    assert stack.nc is not None
    tap = WireTap()
    subs = [await stack.nc.subscribe(stack.topology.subject(s), cb=tap.handle) for s in subjects]
    await stack.nc.flush()
    try:
        yield tap
    finally:
        await stack.nc.flush()
        for sub in subs:
            await sub.unsubscribe()


async def stored(stack: ChaosStack, stream: str, subject: str) -> list[Msg]:
    """Every message ``stream`` holds on ``subject`` (raw, wildcards allowed), oldest first."""
    sub = await stack.js.pull_subscribe(
        stack.topology.subject(subject),
        stream=stack.topology.stream(stream),
        config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL, ack_policy=AckPolicy.NONE),
    )
    found: list[Msg] = []
    try:
        while True:
            try:
                found += await sub.fetch(500, timeout=1.0)
            except TimeoutError:
                return found
    finally:
        await sub.unsubscribe()


async def analytics_counts(
    stack: ChaosStack, org: str, expected: int, deadline_s: float = 60.0
) -> tuple[int, int]:
    """Analytics' (total, succeeded) over the organization's automations, once they reach
    ``expected`` (it consumes the lifecycle asynchronously) or at the deadline."""
    deadline = time.monotonic() + deadline_s
    while True:
        ((total, succeeded),) = stack.query(
            "SELECT coalesce(sum(total), 0), coalesce(sum(succeeded), 0)"
            " FROM analytics.automation_counters WHERE org_id = %s",
            org,
        )
        if (int(total) >= expected and int(succeeded) >= expected) or time.monotonic() > deadline:
            return int(total), int(succeeded)
        await asyncio.sleep(0.5)


def meta(org: str) -> list[tuple[str, str]]:
    return [("x-org-id", org), ("x-user-id", "u_chaos")]


def event(event_id: str, type_: str, contact_id: str, **data: Any) -> dict[str, Any]:
    return {
        "id": event_id,
        "type": type_,
        "contactId": contact_id,
        "data": data,
        "contact": {"id": contact_id, "email": f"{contact_id}@example.com", "firstName": "C"},
    }


def webhook_automation(
    event_type: str, url: str, *, delays_s: Iterable[int] = (1, 1), settings: dict[str, Any] | None = None
) -> dict[str, Any]:
    """One webhook step per delay, each after its delay: ``{trigger, actions, settings}``."""
    return {
        "name": f"chaos {event_type}",
        "trigger": {"type": "custom_event", "event": event_type},
        "actions": [
            {
                "id": f"hook{i}",
                "type": "webhook",
                "config": {"url": f"{url}/hook/{i}", "body": {"n": i}},
                **({"delay": {"value": d, "unit": "seconds"}} if d else {}),
            }
            for i, d in enumerate(delays_s)
        ],
        "settings": settings or {"reentry": "always", "maxConcurrentPerContact": 1000},
    }


@asynccontextmanager
async def chaos_stack(
    delay_s: float = 0.0,
    executor_env: dict[str, str] | None = None,
    trigger_env: dict[str, str] | None = None,
) -> AsyncIterator[ChaosStack]:
    """A started stack in a fresh directory, closed and removed afterwards (kept on failure)."""
    root = pg_data_root()
    async with receiver(delay_s) as stand_in:
        stack = ChaosStack(root, stand_in, executor_env=executor_env or {}, trigger_env=trigger_env or {})
        ok = False
        try:
            await stack.start()
            yield stack
            ok = True
        finally:
            await stack.close()
            if ok and not os.environ.get("BEEZ_CHAOS_KEEP"):
                shutil.rmtree(root, ignore_errors=True)
            else:
                print(f"chaos stack kept at {root}")


# --- the ledger -----------------------------------------------------------------------------


@dataclass
class Figures:
    scenario: str
    expected: int
    executions: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    lost: int = 0
    stuck: int = 0
    effects: int = 0
    requests: int = 0
    redeliveries: int = 0
    step_duplicates: int = 0
    missing_effects: int = 0
    recovery_s: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def line(self) -> str:
        extra = " ".join(f"{k}={v}" for k, v in self.extra.items())
        return (
            f"CHAOS {self.scenario}: expected={self.expected} executions={self.executions} "
            f"statuses={self.by_status} lost={self.lost} stuck={self.stuck} effects={self.effects} "
            f"requests={self.requests} redeliveries(same key)={self.redeliveries} "
            f"step_duplicates(across keys)={self.step_duplicates} missing_effects={self.missing_effects} "
            f"recovery_s={self.recovery_s:.2f} {extra}"
        ).rstrip()

    def report(self) -> None:
        print("\n" + self.line())
        REPORT.parent.mkdir(parents=True, exist_ok=True)
        with REPORT.open("a") as out:
            out.write(json.dumps({"at": time.time(), **self.__dict__}) + "\n")


@dataclass
class Ledger:
    """Accounts for one organization's executions and the receiver's effects."""

    stack: ChaosStack
    org: str

    def statuses(self) -> dict[str, str]:
        rows = self.stack.query("SELECT id, status FROM executor.executions WHERE org_id = %s", self.org)
        return {str(i): str(s) for i, s in rows}

    async def settle(self, expected: int, deadline_s: float = 120.0, webhook_steps: int = 0) -> Figures:
        """Waits until ``expected`` executions are terminal (or the deadline), then counts."""
        start = time.monotonic()
        statuses: dict[str, str] = {}
        while time.monotonic() - start < deadline_s:
            statuses = self.statuses()
            if len(statuses) >= expected and all(s in TERMINAL for s in statuses.values()):
                break
            await asyncio.sleep(0.5)
        return self.count(expected, statuses, webhook_steps)

    def count(self, expected: int, statuses: dict[str, str], webhook_steps: int) -> Figures:
        figures = Figures(scenario="", expected=expected)
        figures.executions = len(statuses)
        figures.by_status = dict(Counter(statuses.values()))
        figures.stuck = sum(1 for s in statuses.values() if s not in TERMINAL)
        figures.lost = max(0, expected - len(statuses)) + figures.stuck
        ours = set(statuses)
        keys = [k for k in self.stack.receiver.requests if (m := KEY.match(k)) and m["execution"] in ours]
        effects = set(keys)
        figures.requests = len(keys)
        figures.effects = len(effects)
        figures.redeliveries = len(keys) - len(effects)
        per_step: dict[tuple[str, str], int] = defaultdict(int)
        for k in effects:
            m = KEY.match(k)
            assert m is not None
            per_step[(m["execution"], m["position"])] += 1
        figures.step_duplicates = sum(n - 1 for n in per_step.values())
        if webhook_steps:
            done = {e for e, s in statuses.items() if s == "completed"}
            per_execution = Counter(e for e, _ in per_step)
            figures.missing_effects = sum(max(0, webhook_steps - per_execution[e]) for e in done)
        return figures


def assert_clean(figures: Figures, *, allow_step_duplicates: bool = False) -> None:
    assert figures.lost == 0, figures.line()
    assert figures.stuck == 0, figures.line()
    assert figures.executions == figures.expected, figures.line()
    assert figures.missing_effects == 0, figures.line()
    if not allow_step_duplicates:
        assert figures.step_duplicates == 0, figures.line()
