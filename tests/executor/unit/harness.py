"""The engine on a :class:`~beez.executor.engine.MemoryStore`: no PostgreSQL, no NATS, no clock.

:class:`Harness` plays the parts around the engine: it hands START jobs to it, delivers the jobs
the engine put in its outbox (RESUME, RETRY), fires due timers when the test moves the clock (as
the timer loop would), and sends SIGNAL jobs (as the trigger would). Actions are the fakes of
``tests.executor.engine.fakes`` plus the real internal ones (CRM, variables).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

from beez.api.messages.v1 import jobs_pb2, lifecycle_pb2
from beez.executor.actions import crm, internal
from beez.executor.actions.base import Action
from beez.executor.engine import Engine, MemoryStore, OrganizationLimits
from beez.executor.engine.memory_store import MemoryTransaction
from beez.executor.models import Execution
from beez.kit.bus.topology import Topology
from beez.kit.clock import ManualClock
from beez.workflow.context import event_from_json
from beez.workflow.model import workflow_from_json
from tests.executor.engine import fakes
from tests.executor.samples import ADA, START_TIME

T = TypeVar("T")

ORG = "org_unit"


def internal_actions() -> dict[str, Action]:
    actions: list[Action] = [
        crm.AddTag(),
        crm.RemoveTag(),
        crm.UpdateField(),
        crm.UpdateScore(),
        crm.AssignUser(),
        internal.SetVariable(),
    ]
    return {action.type: action for action in actions}


def record(step_id: str, **config: Any) -> dict[str, Any]:
    """A step of the fake ``test_record`` action, which echoes its rendered config."""
    return {"id": step_id, "type": "test_record", "config": config}


class Aborted(Exception):
    """What a :class:`RehearsingStore` aborts its rehearsals with."""


class RehearsingStore(MemoryStore):
    """A store whose every unit of work (:meth:`run`) is first rolled back, then runs for real.

    As PostgreSQL may abort a transaction for a deadlock and the engine then runs it again from
    scratch, this runs each one twice: the first attempt goes all the way and is rolled back, so
    a unit of work that keeps anything from an aborted attempt (an outcome, a message, a row it
    did not read again) shows up as a difference in what the engine does.
    """

    rehearsals = 0

    async def run(self, work: Callable[[MemoryTransaction], Awaitable[T]]) -> T:
        try:
            async with self.transaction() as tx:
                await work(tx)
                raise Aborted
        except Aborted:
            self.rehearsals += 1
        return await super().run(work)


class Harness:
    """One engine on one in-memory store, and the parts of the stack around it.

    ``rehearse``: with a :class:`RehearsingStore`. ``limits``: the organizations' caps;
    ``actions``: more actions (or stand-ins for the built-in ones).
    """

    def __init__(
        self,
        *,
        max_steps_per_job: int = 200,
        rehearse: bool = False,
        limits: OrganizationLimits | None = None,
        actions: dict[str, Action] | None = None,
    ) -> None:
        self.store = RehearsingStore() if rehearse else MemoryStore()
        self.clock = ManualClock(START_TIME)
        fakes.PROVIDER = fakes.Provider()
        self.provider = fakes.PROVIDER
        self.engine = Engine(
            self.store,
            Topology(),
            self.clock,
            {**internal_actions(), **fakes.plugin(None), **(actions or {})},
            max_steps_per_job=max_steps_per_job,
            limits=limits,
        )
        self._delivered = 0

    # --- driving -------------------------------------------------------------------------------

    def start_job(
        self,
        workflow: dict[str, Any],
        *,
        contact: dict[str, Any] | None = None,
        data: dict[str, Any] | None = None,
        execution_id: str | None = None,
    ) -> jobs_pb2.Job:
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
            execution_id=execution_id or f"ex_{uuid.uuid4().hex[:12]}",
            reason=jobs_pb2.JOB_REASON_START,
            organization_id=ORG,
            start=jobs_pb2.ExecutionStart(
                automation_id="auto_1",
                automation_version=1,
                workflow=workflow_from_json({"name": "test", "trigger": {"type": "list_joined"}, **workflow}),
                event=event,
                contact_id=person["id"],
            ),
        )
        job.enqueued_at.FromDatetime(self.clock.now())
        return job

    async def start(self, workflow: dict[str, Any], **options: Any) -> str:
        """Runs the START job of ``workflow`` as far as it goes; the execution id."""
        job = self.start_job(workflow, **options)
        await self.engine.handle(job)
        await self.deliver()
        return job.execution_id

    async def deliver(self) -> None:
        """Hands every job the engine committed to its outbox back to it, in order."""
        while self._delivered < len(self.store.outbox):
            message = self.store.outbox[self._delivered].message
            self._delivered += 1
            if isinstance(message, jobs_pb2.Job):
                await self.engine.handle(message)

    async def advance(self, **delta: float) -> None:
        """Moves the clock, then fires the timers due (as the timer loop would)."""
        self.clock.advance(timedelta(**delta))
        for timer in self.store.claim_due_timers(self.clock.now()):
            await self.timer(timer["execution_id"], timer["token"])

    async def timer(self, execution_id: str, token: str) -> None:
        await self.engine.handle(
            jobs_pb2.Job(
                execution_id=execution_id, reason=jobs_pb2.JOB_REASON_TIMER, organization_id=ORG, token=token
            )
        )
        await self.deliver()

    async def signal(
        self,
        execution_id: str,
        token: str,
        signal: jobs_pb2.JobSignal = jobs_pb2.JOB_SIGNAL_EVENT,
        event: dict[str, Any] | None = None,
    ) -> None:
        """The SIGNAL job the trigger sends when an event matches a registration."""
        job = jobs_pb2.Job(
            execution_id=execution_id,
            reason=jobs_pb2.JOB_REASON_SIGNAL,
            organization_id=ORG,
            signal_kind=signal,
            token=token,
        )
        if event is not None:
            job.event.CopyFrom(event_from_json(event))
        await self.engine.handle(job)
        await self.deliver()

    # --- observing -----------------------------------------------------------------------------

    def execution(self, execution_id: str) -> Execution:
        return self.store.execution(execution_id)

    def steps(self, execution_id: str) -> list[tuple[str, str]]:
        """(step id, status) of the execution's step log, in order."""
        return [(row.step_id, row.status) for row in self.store.steps_of(execution_id)]

    def step_ids(self, execution_id: str) -> list[str]:
        return [row.step_id for row in self.store.steps_of(execution_id)]

    def lifecycle(self, execution_id: str) -> list[lifecycle_pb2.ExecutionEvent]:
        return [
            out.message
            for out in self.store.outbox
            if isinstance(out.message, lifecycle_pb2.ExecutionEvent)
            and out.message.execution_id == execution_id
        ]

    def kinds(self, execution_id: str) -> list[str]:
        """The kinds of the execution's lifecycle events in order, a completed step each."""
        return [
            lifecycle_pb2.ExecutionEventKind.Name(event.kind).removeprefix("EXECUTION_EVENT_KIND_").lower()
            for event in self.lifecycle(execution_id)
            for _ in (
                event.steps if event.kind == lifecycle_pb2.EXECUTION_EVENT_KIND_STEP_COMPLETED else [event]
            )
        ]

    def registrations(self, execution_id: str) -> list[lifecycle_pb2.WaitRegistration]:
        return [
            out.message
            for out in self.store.outbox
            if isinstance(out.message, lifecycle_pb2.WaitRegistration)
            and out.message.execution_id == execution_id
        ]

    def registration(self, execution_id: str, kind: int) -> lifecycle_pb2.WaitRegistration:
        """The last registration of ``kind`` the execution made (not a cancellation)."""
        [*_, found] = [r for r in self.registrations(execution_id) if r.kind == kind and not r.cancel]
        return found
