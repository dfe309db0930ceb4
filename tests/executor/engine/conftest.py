"""A real executor (PostgreSQL, NATS, gRPC) in the test process, driven like the trigger drives it.

One executor serves the whole package, with a ManualClock the tests move; every test works in
an organization of its own, so tests never see one another's executions. Tests publish START
(and SIGNAL, TIMER) jobs onto the JOBS stream and observe through the RPCs, the outbox and the
EXECUTIONS stream.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import nats
import pytest
from google.protobuf.message import Message
from nats.js import JetStreamContext
from sqlalchemy import select

from beez.api.executor.v1 import executor_pb2, executor_pb2_grpc
from beez.api.messages.v1 import jobs_pb2, lifecycle_pb2
from beez.executor import models
from beez.executor.actions.registry import build_registry
from beez.executor.config import ExecutorSettings
from beez.executor.engine import Engine, SessionStore
from beez.kit.bus.publisher import Publisher
from beez.kit.bus.topology import Topology, priority_name, priority_value
from beez.kit.clock import ManualClock
from beez.workflow.context import event_from_json
from beez.workflow.digest import workflow_digest
from beez.workflow.model import workflow_from_json
from tests.executor.engine import fakes
from tests.executor.samples import ADA, START_TIME
from tests.support.inproc import InProcService, running_service
from tests.support.servers import create_database, drop_database, unique_prefix


@dataclass
class Executor:
    """The shared executor and what tests need to drive it."""

    svc: InProcService
    clock: ManualClock
    js: JetStreamContext
    topology: Topology
    stub: executor_pb2_grpc.ExecutionServiceAsyncStub


@asynccontextmanager
async def start_executor(admin_url: str, nats_url: str, **settings: Any) -> AsyncIterator[Executor]:
    """A fresh database and stream prefix, and an executor on them.

    It runs the fake actions of :mod:`tests.executor.engine.fakes` unless ``settings`` say
    otherwise (``action_plugins=[]`` for the real actions alone); ``settings`` override the rest.
    """
    database_url = create_database(admin_url)
    clock = ManualClock(START_TIME)
    nc = await nats.connect(nats_url)
    options: dict[str, Any] = {
        "action_plugins": ["tests.executor.engine.fakes:plugin"],
        "timer_poll_interval_s": 0.05,
        **settings,
    }
    try:
        async with running_service(
            "executor", database_url, nats_url, unique_prefix(), clock=clock, **options
        ) as svc:
            stub: Any = executor_pb2_grpc.ExecutionServiceStub(svc.channel)
            yield Executor(svc, clock, nc.jetstream(), svc.runtime.topology, stub)
    finally:
        await nc.drain()
        drop_database(admin_url, database_url)


@pytest.fixture(scope="package")
async def executor(admin_url: str, nats_url: str) -> AsyncIterator[Executor]:
    """The executor most tests share; a small step bound so hand-over is exercised."""
    async with start_executor(admin_url, nats_url, max_steps_per_job=50) as shared:
        yield shared


@pytest.fixture
async def engine(executor: Executor) -> AsyncIterator[Engine]:
    """A second engine on the shared executor's database: its batches are driven by the test."""
    settings = executor.svc.runtime.settings
    assert isinstance(settings, ExecutorSettings)
    registry = build_registry(settings.actions)
    try:
        yield Engine(
            SessionStore(executor.svc.runtime.db),
            executor.topology,
            executor.clock,
            {**registry, **fakes.plugin(settings)},
        )
    finally:
        await registry.aclose()


@pytest.fixture
def provider() -> fakes.Provider:
    """A fresh record of what the fake providers were asked to do."""
    fakes.PROVIDER = fakes.Provider()
    return fakes.PROVIDER


class Flow:
    """One test's organization on the shared executor."""

    def __init__(self, executor: Executor, org: str) -> None:
        self.executor = executor
        self.org = org
        self.stub = executor.stub
        self.clock = executor.clock
        self.metadata = [("x-org-id", org)]
        self._publisher = Publisher(executor.js)
        self._announced: set[tuple[str, int, str]] = set()

    # --- driving ---------------------------------------------------------------------------

    async def start(self, workflow: dict[str, Any], **options: Any) -> str:
        """Publishes the START job the trigger would (see :meth:`start_job`); the execution id."""
        job = self.start_job(workflow, **options)
        await self.publish(
            job, f"start:{job.execution_id}", priority_name(job.start.priority_level) or "normal"
        )
        return job.execution_id

    def start_job(
        self,
        workflow: dict[str, Any],
        *,
        contact: dict[str, Any] | None = None,
        data: dict[str, Any] | None = None,
        automation_id: str = "auto_1",
        execution_id: str | None = None,
        priority: str = "normal",
        created_at: datetime | None = None,
    ) -> jobs_pb2.Job:
        """The START job the trigger would send for ``workflow``."""
        execution_id = execution_id or f"ex_{uuid.uuid4().hex[:12]}"
        person = contact if contact is not None else ADA
        event = event_from_json(
            {
                "id": f"evt_{uuid.uuid4().hex[:12]}",
                "type": "list.joined",
                "occurredAt": self.clock.now().isoformat(),
                "contactId": person["id"],
                "data": data or {"list": "New Customers"},
                "contact": person,
            }
        )
        job = jobs_pb2.Job(
            execution_id=execution_id,
            reason=jobs_pb2.JOB_REASON_START,
            organization_id=self.org,
            start=jobs_pb2.ExecutionStart(
                automation_id=automation_id,
                automation_version=1,
                workflow=workflow_from_json({"name": "test", "trigger": {"type": "list_joined"}, **workflow}),
                event=event,
                contact_id=person["id"],
                priority_level=priority_value(priority),
            ),
        )
        job.enqueued_at.FromDatetime(self.clock.now())
        job.start.created_at.FromDatetime(created_at or self.clock.now())
        return job

    async def publish(
        self, job: jobs_pb2.Job, msg_id: str, priority: str = "normal", *, announce: bool = True
    ) -> None:
        """Publishes ``job``; a START's workflow is announced first (unless ``announce`` is False),
        as the automation service does."""
        if announce and job.reason == jobs_pb2.JOB_REASON_START:
            await self.announce(job.start)
        await self._publisher.publish(
            self.executor.topology.jobs(priority, self.org), job, msg_id=msg_id, org_id=self.org
        )

    async def announce(self, start: jobs_pb2.ExecutionStart) -> None:
        """Announces ``start``'s workflow for its version on ``automations.<org>.changed``, and waits
        until the executor has recorded it (so the START never waits for it)."""
        key = (start.automation_id, start.automation_version, workflow_digest(start.workflow))
        if key in self._announced:
            return
        change = lifecycle_pb2.AutomationChanged(
            kind=lifecycle_pb2.CHANGE_KIND_UPSERTED,
            organization_id=self.org,
            automation_id=start.automation_id,
            version=start.automation_version,
            active=True,
            workflow=start.workflow,
            workflow_digest=key[2],
            revision=len(self._announced) + 1,
        )
        await self._publisher.publish(
            self.executor.topology.automation_changed(self.org),
            change,
            msg_id=f"announce:{self.org}:{':'.join(map(str, key))}",
            org_id=self.org,
        )
        await self.announced(*key)
        self._announced.add(key)

    async def announced(self, automation_id: str, version: int, digest: str, timeout: float = 5.0) -> None:
        """Waits until the executor has recorded ``digest`` for the organization's automation version."""
        t = models.AnnouncedWorkflow
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            async with self.executor.svc.runtime.db.transaction() as session:
                found = await session.scalar(
                    select(t.digest).where(
                        t.org_id == self.org,
                        t.automation_id == automation_id,
                        t.version == version,
                        t.digest == digest,
                    )
                )
            if found is not None:
                return
            await asyncio.sleep(0.01)
        raise AssertionError(f"the executor never recorded {automation_id} v{version} ({digest})")

    async def signal(
        self,
        execution_id: str,
        token: str,
        signal: jobs_pb2.JobSignal = jobs_pb2.JOB_SIGNAL_EVENT,
        event: dict[str, Any] | None = None,
    ) -> None:
        """Publishes the SIGNAL job the trigger sends when an event matches a registration."""
        job = jobs_pb2.Job(
            execution_id=execution_id,
            reason=jobs_pb2.JOB_REASON_SIGNAL,
            organization_id=self.org,
            signal_kind=signal,
            token=token,
        )
        if event is not None:
            job.event.CopyFrom(event_from_json(event))
        await self.publish(job, f"signal:{uuid.uuid4().hex}")

    async def timer(self, execution_id: str, token: str) -> None:
        """Publishes a TIMER job, as the timer loop would."""
        job = jobs_pb2.Job(
            execution_id=execution_id, reason=jobs_pb2.JOB_REASON_TIMER, organization_id=self.org, token=token
        )
        await self.publish(job, f"timer:{uuid.uuid4().hex}")

    async def advance(self, **delta: float) -> None:
        self.clock.advance(timedelta(**delta))

    # --- observing -------------------------------------------------------------------------

    async def get(self, execution_id: str) -> executor_pb2.Execution:
        response = await self.stub.GetExecution(
            executor_pb2.GetExecutionRequest(execution_id=execution_id), metadata=self.metadata
        )
        execution: executor_pb2.Execution = response.execution
        return execution

    async def until(
        self,
        execution_id: str,
        predicate: Callable[[executor_pb2.Execution], bool],
        what: str = "the expected state",
        timeout: float = 5.0,
    ) -> executor_pb2.Execution:
        """Polls GetExecution until ``predicate`` holds."""
        deadline = asyncio.get_running_loop().time() + timeout
        last: executor_pb2.Execution | None = None
        while asyncio.get_running_loop().time() < deadline:
            try:
                last = await self.get(execution_id)
            except Exception:  # not created yet
                last = None
            if last is not None and predicate(last):
                return last
            await asyncio.sleep(0.02)
        raise AssertionError(f"execution {execution_id} never reached {what}; last seen: {last}")

    async def settled(
        self, execution_id: str, *statuses: str, timeout: float = 5.0
    ) -> executor_pb2.Execution:
        """Waits until the execution's status is one of ``statuses`` (names like ``completed``)."""
        wanted = {executor_pb2.ExecutionStatus.Value(f"EXECUTION_STATUS_{s.upper()}") for s in statuses}
        return await self.until(
            execution_id, lambda ex: ex.status in wanted, f"status {'/'.join(statuses)}", timeout
        )

    async def outbox(self, subject_part: str) -> list[tuple[str, str, bytes]]:
        """(subject, msg id, payload) of the org's outbox rows whose subject contains ``subject_part``."""
        t = models.outbox
        async with self.executor.svc.runtime.db.transaction() as session:
            rows = await session.execute(
                select(t.c.subject, t.c.msg_id, t.c.payload)
                .where(t.c.org_id == self.org, t.c.subject.contains(subject_part))
                .order_by(t.c.id)
            )
            return [(row.subject, row.msg_id or "", bytes(row.payload)) for row in rows]

    async def lifecycle(self, execution_id: str) -> list[lifecycle_pb2.ExecutionEvent]:
        events = [
            lifecycle_pb2.ExecutionEvent.FromString(payload)
            for _, _, payload in await self.outbox(".executions.")
        ]
        return [event for event in events if event.execution_id == execution_id]

    async def kinds(self, execution_id: str) -> list[str]:
        """The kinds of the execution's lifecycle events in order, a completed step each."""
        return [
            lifecycle_pb2.ExecutionEventKind.Name(e.kind).removeprefix("EXECUTION_EVENT_KIND_").lower()
            for e in await self.lifecycle(execution_id)
            for _ in (e.steps if e.kind == lifecycle_pb2.EXECUTION_EVENT_KIND_STEP_COMPLETED else [e])
        ]

    async def registrations(self, execution_id: str) -> list[lifecycle_pb2.WaitRegistration]:
        found = [
            lifecycle_pb2.WaitRegistration.FromString(payload)
            for _, _, payload in await self.outbox(".waits.")
        ]
        return [r for r in found if r.execution_id == execution_id]

    async def registration(self, execution_id: str, kind: int) -> lifecycle_pb2.WaitRegistration:
        """The (last) registration of ``kind`` the execution made, waiting for it to appear."""
        for _ in range(100):
            found = [r for r in await self.registrations(execution_id) if r.kind == kind and not r.cancel]
            if found:
                return found[-1]
            await asyncio.sleep(0.02)
        raise AssertionError(f"no registration of kind {kind} for {execution_id}")

    async def scheduled(self, execution_id: str | None = None) -> list[executor_pb2.ScheduledWork]:
        response = await self.stub.ListScheduled(executor_pb2.ListScheduledRequest(), metadata=self.metadata)
        return [w for w in response.scheduled if execution_id is None or w.execution_id == execution_id]


def step_ids(execution: executor_pb2.Execution) -> list[str]:
    return [step.step_id for step in execution.steps]


def decode(message: type[Message], payload: bytes) -> Any:
    return message.FromString(payload)


@pytest.fixture
def flow(executor: Executor, provider: fakes.Provider) -> Flow:
    """A fresh organization on the shared executor."""
    return Flow(executor, f"org_{uuid.uuid4().hex[:10]}")
