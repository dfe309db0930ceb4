"""The step engine: runs executions step by step, durably, exactly once in effect.

A job (START, TIMER, SIGNAL, RESUME, RETRY) only points at an execution; the execution row says
where it is and what it waits for. :meth:`Engine.handle` first applies the job (creates the
execution, or wakes it if the job's token is the one it waits for), then runs steps until the
execution waits, ends, or has run ``max_steps_per_job`` steps (then it hands itself to a fresh
RESUME job so one long execution never hogs a worker).

Durability: every change is made in a transaction of the :mod:`store <.store>` that commits the
state, the step log, the next timer or wait and the outbox messages announcing them together.
External calls happen between two commits, under an idempotency key committed before the call
(:mod:`.attempts`). A crash anywhere rolls back to the last commit; the job is redelivered and
resumes from there.

The layers, each importing only the ones above it:

* :mod:`.events`: lifecycle events and the messages one transaction sends;
* :mod:`.store`: the unit of work (interface), with :mod:`.sql_store` (PostgreSQL) and
  :mod:`.memory_store` (tests);
* :mod:`.workflows`: the workflow version an execution runs, and what its steps see;
* :mod:`.steplog` and :mod:`.state`: the step log and the state transitions;
* :mod:`.control` and :mod:`.attempts`: control steps, and the action step protocol;
* :mod:`.steps`: running steps; :mod:`.jobs`: applying jobs;
* this module: :class:`Engine`, the facade the consumers and the RPCs use.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager

from beez.api.messages.v1 import jobs_pb2
from beez.executor.actions.base import Action
from beez.executor.engine import state
from beez.executor.engine.attempts import ActionSteps, json_safe
from beez.executor.engine.events import Outbox
from beez.executor.engine.integrations import Integrations
from beez.executor.engine.jobs import Continuation, Jobs
from beez.executor.engine.limits import LimitOverride, OrganizationLimits
from beez.executor.engine.memory_store import MemoryStore
from beez.executor.engine.send_limits import SendLimits
from beez.executor.engine.sql_store import SessionStore
from beez.executor.engine.state import hand_to_resume_job, rearm_wake
from beez.executor.engine.steplog import step_key
from beez.executor.engine.steps import StepRunner
from beez.executor.engine.store import Store, Transaction, Unit, run_unit_of_work, unit_of_work
from beez.executor.engine.workflows import Workflows
from beez.kit.bus.topology import Topology
from beez.kit.clock import Clock
from beez.workflow.status import CANCELLABLE

__all__ = [
    "Continuation",
    "Engine",
    "LimitOverride",
    "MemoryStore",
    "OrganizationLimits",
    "SessionStore",
    "Store",
    "Unit",
    "hand_to_resume_job",
    "json_safe",
    "rearm_wake",
    "step_key",
]


class Engine:
    """Runs jobs against executions, and the operations the RPCs make on them."""

    def __init__(
        self,
        store: Store,
        topology: Topology,
        clock: Clock,
        actions: Mapping[str, Action],
        *,
        max_steps_per_job: int = 200,
        limits: OrganizationLimits | None = None,
        send_limits: SendLimits | None = None,
        integrations: Integrations | None = None,
    ) -> None:
        self._store = store
        self.limits = limits or OrganizationLimits()
        self._topology = topology
        self._clock = clock
        self.clock = clock
        """The engine's clock (the RPCs that change rows beside executions use it too)."""
        self._workflows = Workflows()
        self._steps = StepRunner(
            store,
            topology,
            clock,
            self._workflows,
            ActionSteps(actions, integrations),
            max_steps_per_job=max_steps_per_job,
            limits=self.limits,
            send_limits=send_limits,
            integrations=integrations,
        )
        self._jobs = Jobs(self._steps)

    # --- jobs ------------------------------------------------------------------------------

    async def handle(self, job: jobs_pb2.Job) -> None:
        """Applies one job and runs the execution as far as it goes."""
        await self._jobs.handle(job)

    async def start_batch(self, jobs: Sequence[jobs_pb2.Job]) -> list[Continuation]:
        """Creates many START jobs' executions in one transaction (:meth:`.jobs.Jobs.start_batch`)."""
        return await self._jobs.start_batch(jobs)

    async def wake_batch(self, jobs: Sequence[jobs_pb2.Job]) -> list[Continuation]:
        """Applies many wake-up jobs in one transaction; see :meth:`.jobs.Jobs.wake_batch`."""
        return await self._jobs.wake_batch(jobs)

    async def continue_job(self, job: jobs_pb2.Job, after: Continuation) -> None:
        """Finishes a job after its batch committed: its external action, then the rest."""
        await self._jobs.continue_job(job, after)

    async def run(self, execution_id: str, driver: str = "", done: int = 0) -> None:
        """Runs steps until the execution waits or ends, then hands over if the bound was hit."""
        await self._steps.run(execution_id, driver, done)

    # --- operations for the RPCs -----------------------------------------------------------

    @asynccontextmanager
    async def execution(self, org_id: str, execution_id: str) -> AsyncIterator[Unit | None]:
        """The organization's execution, locked in a transaction that commits when the block ends
        (None when it is missing or another organization's)."""
        async with unit_of_work(self._store, self._topology) as (tx, outbox):
            execution = await tx.lock_org_execution(org_id, execution_id)
            if execution is None:
                yield None
                return
            yield Unit(tx, outbox, execution, tx.rows(execution.id), self._clock.now())

    async def cancel(self, unit: Unit, reason: str) -> None:
        """Cancels the locked execution (which has not ended): timers deleted, waits withdrawn."""
        await state.cancel(unit, reason)

    async def requeue(self, unit: Unit) -> None:
        """Queues the locked, failed execution again from the step that failed (a RETRY job)."""
        await self._workflows.load(unit)
        await state.requeue(unit)

    async def cancel_scheduled(self, org_id: str, timer_id: str) -> bool:
        """Deletes the organization's timer, cancelling its execution; False when there is no such timer.

        Without its timer the execution would wait forever, and a half-run execution resumed
        early is rarely what the person cancelling wants.
        """

        async def work(tx: Transaction, outbox: Outbox) -> bool:
            execution_id = await tx.timer_execution(org_id, timer_id)
            if execution_id is None:
                return False
            execution = await tx.lock_org_execution(org_id, execution_id)
            if execution is not None and execution.status in CANCELLABLE:
                unit = Unit(tx, outbox, execution, tx.rows(execution.id), self._clock.now())
                await state.cancel(unit, "scheduled work cancelled")
            else:
                await tx.rows(execution_id).delete_timers()
            return True

        return await run_unit_of_work(self._store, self._topology, work)
