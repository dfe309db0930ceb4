"""Job handling: START jobs create executions, wake-up jobs end their waits, both run steps.

A job (START, TIMER, SIGNAL, RESUME, RETRY) only points at an execution; the execution row says
where it is and what it waits for. A job is first applied (it creates the execution, or wakes it
if the job's token is the one it waits for), then steps run until the execution waits, ends, or
has run ``max_steps_per_job`` steps (then it hands itself to a fresh RESUME job so one long
execution never hogs a worker).

Who may drive an execution: a START job (its own, or a redelivery of it), or the job that woke
it (``driver_token``, so a wake-up job redelivered after a crash can finish what it began).
Everything else is stale and changes nothing.

* The event that satisfied a ``wait_for_event`` (or a ``wait_until``) is kept as
  ``vars.last_event`` (``{id, type, occurred_at, contact_id, data}``); ``event`` stays the
  triggering event. When that event carries a contact snapshot it refreshes the execution's
  contact (the owner of contact data knows best), keeping the assignment the run made.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from beez.api.messages.v1 import events_pb2, jobs_pb2
from beez.api.workflow.v1 import workflow_pb2
from beez.executor import messages
from beez.executor.engine import state
from beez.executor.engine.attempts import Call
from beez.executor.engine.events import Outbox
from beez.executor.engine.steplog import finish_waiting_step, may_drive, may_run
from beez.executor.engine.steps import StepRunner
from beez.executor.engine.store import Transaction, Unit, run_unit_of_work
from beez.executor.models import Execution
from beez.kit.bus.topology import priority_name
from beez.kit.logging import get_logger
from beez.workflow import navigation
from beez.workflow.branches import ARRIVED
from beez.workflow.context import contact_to_dict, event_to_dict
from beez.workflow.digest import digest_of, workflow_bytes
from beez.workflow.model import assign_ids
from beez.workflow.status import TERMINAL, ExecutionStatus
from beez.workflow.triggering import started_workflow
from beez.workflow.waits import GOAL, SIGNALS, TIMEOUT, WaitKind

log = get_logger(__name__)

TIMER_WAITS = frozenset({WaitKind.DELAY, WaitKind.QUIET_HOURS, WaitKind.RETRY, WaitKind.RATE_LIMIT})
"""Waits a TIMER job simply ends, after which the step at the position runs."""


@dataclass(frozen=True)
class Prepared:
    """A START job turned into its execution row and workflow, before any transaction."""

    job: jobs_pb2.Job
    values: dict[str, Any]
    workflow: workflow_pb2.Workflow
    digest: str
    definition: bytes


@dataclass(frozen=True)
class Continuation:
    """What a job still has to do after its batch committed (see :meth:`Jobs.start_batch`).

    ``alone``: the execution was not created by the batch (a redelivery, or a duplicate in the
    batch); the job is handled on its own as before. ``call``: an external action whose
    ``running`` attempt the batch committed, to be performed now. ``more``: the chain bound was
    hit with steps left to run.
    """

    execution_id: str
    driver: str
    alone: bool = False
    call: Call | None = None
    steps: int = 0
    more: bool = False


def when(ts: Any) -> datetime | None:
    """A set protobuf Timestamp as an aware datetime, else None."""
    if ts is None or (ts.seconds == 0 and ts.nanos == 0):
        return None
    moment: datetime = ts.ToDatetime(tzinfo=UTC)
    return moment


def prepare_start(job: jobs_pb2.Job, now: datetime) -> Prepared:
    """The execution row a START job creates, and the workflow version it runs: the announced
    one, or for ``cart_abandoned`` the one :func:`~beez.workflow.triggering.started_workflow`
    derives from it (the automation's actions behind a wait for the checkout)."""
    start = job.start
    workflow = assign_ids(started_workflow(start.workflow))
    definition = workflow_bytes(workflow)
    digest = digest_of(definition)
    event = start.event
    contact = event.contact if event.HasField("contact") else events_pb2.Contact()
    contact_id = start.contact_id or event.contact_id or contact.id
    if not contact.id:
        contact.id = contact_id
    created_at = when(start.created_at) or when(job.enqueued_at) or now
    values: dict[str, Any] = {
        "id": job.execution_id,
        "org_id": job.organization_id,
        "automation_id": start.automation_id,
        "automation_version": start.automation_version,
        "contact_id": contact_id,
        "workflow_digest": digest,
        "priority": messages.priority_of(priority_name(start.priority_level), workflow.settings.priority),
        "status": ExecutionStatus.QUEUED,
        "position": navigation.first(workflow),
        "phase": "start",
        "attempt_base": 0,
        "run": 1,
        "steps_run": 0,
        "messages_sent": 0,
        "trigger_event_id": event.id,
        "trigger_event": event_to_dict(event),
        "contact": contact_to_dict(contact),
        "vars": {},
        "loops": {},
        "converted": False,
        "created_at": created_at,
        "queued_at": when(job.enqueued_at) or now,
        "updated_at": now,
    }
    return Prepared(job, values, workflow, digest, definition)


def continuation(job: jobs_pb2.Job, advanced: bool | Call, steps: int) -> Continuation:
    """What is left of ``job`` after its batch ran ``steps`` steps and came to ``advanced``."""
    return Continuation(
        job.execution_id,
        job.token,
        call=advanced if isinstance(advanced, Call) else None,
        steps=steps,
        more=advanced is True,
    )


class Jobs:
    """Applies jobs to executions and runs the steps they unblock."""

    def __init__(self, steps: StepRunner) -> None:
        self._steps = steps
        self._workflows = steps.workflows

    async def handle(self, job: jobs_pb2.Job) -> None:
        """Applies one job and runs the execution as far as it goes."""
        if job.reason == jobs_pb2.JOB_REASON_START:
            if await self._start(job):
                await self._steps.run(job.execution_id, job.token)
            return
        [after] = await self.wake_batch([job])
        await self.continue_job(job, after)

    async def continue_job(self, job: jobs_pb2.Job, after: Continuation) -> None:
        """Finishes a job after its batch committed: its external action, then the rest."""
        if after.alone:
            await self.handle(job)
            return
        more = after.more
        if after.call is not None:
            more = await self._steps.complete(after.execution_id, after.call)
        if more:
            await self._steps.run(after.execution_id, after.driver, after.steps)

    async def start_batch(self, jobs: Sequence[jobs_pb2.Job]) -> list[Continuation]:
        """Creates the executions of many START jobs in one transaction and runs their internal steps.

        One look-up finds which executions exist already; the others are created
        (:meth:`~.store.Transaction.create_execution`, written when the transaction ends) and
        driven through their internal steps, up to the first external action, wait or end.
        Executions are created in id order, so two batches that race on a redelivered START
        wait on each other in one order and never deadlock; the loser fails on the unique key,
        and its items are retried alone (see :class:`beez.kit.batching.Batcher`), where they
        find the execution and take the ordinary path. Nothing an external action needs is
        weakened: its ``running`` attempt commits with the batch, before it is performed.
        """
        steps = self._steps

        async def work(tx: Transaction, outbox: Outbox) -> tuple[list[Continuation], dict[str, bytes]]:
            now = steps.clock.now()
            prepared = [prepare_start(job, now) for job in jobs]
            outcomes = [Continuation(job.execution_id, job.token, alone=True) for job in jobs]
            unsaved = {
                start.digest: start.definition
                for start in prepared
                if not self._workflows.is_saved(start.digest)
            }
            if unsaved:
                await tx.save_workflows(unsaved)
            existing = await tx.existing_executions(sorted({start.job.execution_id for start in prepared}))
            for index in sorted(range(len(prepared)), key=lambda i: prepared[i].job.execution_id):
                start = prepared[index]
                if start.job.execution_id in existing:
                    continue
                existing.add(start.job.execution_id)
                self._workflows.remember(start.digest, start.workflow)
                execution = tx.create_execution(start.values)
                unit = Unit(tx, outbox, execution, tx.rows(execution.id), now, start.workflow)
                state.mark_running(unit)
                state.register_goal(unit)
                advanced, done = await steps.chain(unit, steps.max_steps)
                outcomes[index] = continuation(start.job, advanced, done)
            return outcomes, unsaved

        outcomes, saved = await run_unit_of_work(steps.store, steps.topology, work)
        self._workflows.remember_saved(saved)
        return outcomes

    async def wake_batch(self, jobs: Sequence[jobs_pb2.Job]) -> list[Continuation]:
        """Applies many TIMER, SIGNAL, RESUME and RETRY jobs in one transaction, with the steps after them.

        One statement locks every execution the batch names, in id order (so batches racing on
        the same executions wait for each other rather than deadlock); each job is then applied
        as :meth:`handle` would, in id order, and the steps it unblocks run in the same
        transaction up to the first external action, whose ``running`` attempt commits with the
        batch and which :meth:`continue_job` performs afterwards. Two jobs for one execution see
        each other's effect, as one after the other would.
        """
        steps = self._steps

        async def work(tx: Transaction, outbox: Outbox) -> list[Continuation]:
            outcomes = [Continuation(job.execution_id, job.token) for job in jobs]
            locked = await tx.lock_executions(sorted({job.execution_id for job in jobs}))
            for index in sorted(range(len(jobs)), key=lambda i: jobs[i].execution_id):
                job = jobs[index]
                unit = await self._apply_wake(tx, outbox, job, locked.get(job.execution_id))
                if unit is None:
                    continue
                unit.now = steps.clock.now()  # the steps that follow share the wake-up's transaction
                advanced, done = await steps.chain(unit, steps.max_steps)
                outcomes[index] = continuation(job, advanced, done)
            return outcomes

        return await run_unit_of_work(steps.store, steps.topology, work)

    async def _start(self, job: jobs_pb2.Job) -> bool:
        """Creates the execution of one START job (unless it exists); whether it may run now."""
        steps = self._steps

        async def work(tx: Transaction, outbox: Outbox) -> tuple[bool, str]:
            now = steps.clock.now()
            start = prepare_start(job, now)
            if not self._workflows.is_saved(start.digest):
                await tx.save_workflows({start.digest: start.definition})
            created = await tx.insert_execution(start.values)
            execution = await tx.lock_execution(job.execution_id)
            if execution is None:
                return False, start.digest
            if execution.org_id != job.organization_id:
                log.warning("start job for another organization's execution", execution_id=execution.id)
                return False, start.digest
            if created:
                self._workflows.remember(start.digest, start.workflow)
                unit = Unit(tx, outbox, execution, tx.rows(execution.id), now, start.workflow)
                state.mark_running(unit)
                state.register_goal(unit)
            return may_run(execution), start.digest

        runnable, digest = await run_unit_of_work(steps.store, steps.topology, work)
        self._workflows.remember_saved([digest])
        return runnable

    async def _apply_wake(
        self, tx: Transaction, outbox: Outbox, job: jobs_pb2.Job, execution: Execution | None
    ) -> Unit | None:
        """Applies a TIMER, SIGNAL, RESUME or RETRY job to its locked execution; the unit when
        the job may now drive it."""
        if execution is None or execution.org_id != job.organization_id:
            log.info("job for an unknown execution ignored", execution_id=job.execution_id)
            return None
        if execution.status in TERMINAL or not job.token:
            return None
        unit = Unit(tx, outbox, execution, tx.rows(execution.id), self._steps.clock.now())
        reason, kind = job.reason, execution.wait_kind or ""
        if reason == jobs_pb2.JOB_REASON_SIGNAL and job.signal_kind == SIGNALS[GOAL]:
            if job.token == execution.goal_token:
                await state.reach_goal(unit, job.event if job.HasField("event") else None)
            return None
        if job.token != execution.wait_token:
            # stale, or a redelivery of the job that woke it and then crashed
            return unit if may_drive(execution, job.token) else None
        branch = ARRIVED.get(kind)
        if (reason == jobs_pb2.JOB_REASON_TIMER and kind in TIMER_WAITS) or (
            reason == jobs_pb2.JOB_REASON_RESUME and kind == WaitKind.RESUME
        ):
            state.clear_wait(unit, job.token)
        elif reason == jobs_pb2.JOB_REASON_RETRY and kind == WaitKind.RETRY_EXECUTION:
            state.clear_wait(unit, job.token, status=ExecutionStatus.QUEUED)
            await self._workflows.load(unit)
            state.mark_running(unit)
        elif reason == jobs_pb2.JOB_REASON_TIMER and kind == WaitKind.WAIT:
            state.clear_wait(unit, job.token)
            await self._workflows.load(unit)
            await finish_waiting_step(unit, {})
            await state.move_on(unit)
        elif branch is not None and (
            reason == jobs_pb2.JOB_REASON_TIMER
            or (reason == jobs_pb2.JOB_REASON_SIGNAL and job.signal_kind == jobs_pb2.JOB_SIGNAL_TIMEOUT)
        ):
            state.clear_wait(unit, job.token)
            state.cancel_registration(unit, job.token, kind)
            await unit.rows.delete_timers()
            await self._workflows.load(unit)
            await finish_waiting_step(unit, {"branch": TIMEOUT})
            await state.take_branch(unit, TIMEOUT)
        elif branch is not None and reason == jobs_pb2.JOB_REASON_SIGNAL:
            state.clear_wait(unit, job.token)
            await unit.rows.delete_timers()
            await self._workflows.load(unit)
            state.receive_event(unit, job.event)
            await finish_waiting_step(unit, {"branch": branch, "event_id": job.event.id})
            await state.take_branch(unit, branch)
        else:
            log.warning(
                "job does not answer what the execution waits for",
                execution_id=execution.id,
                reason=jobs_pb2.JobReason.Name(reason),
                signal=job.signal_kind,
                wait_kind=kind,
            )
            return None
        return unit if may_run(execution) else None
