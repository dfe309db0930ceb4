"""The step engine: runs executions step by step, durably, exactly once in effect.

A job (START, TIMER, SIGNAL, RESUME, RETRY) only points at an execution; the execution row in
PostgreSQL says where it is and what it waits for. :meth:`Engine.handle` first applies the job
(creates the execution, or wakes it if the job's token is the one it waits for), then runs
steps until the execution waits, ends, or has run ``max_steps_per_job`` steps (then it hands
itself to a fresh RESUME job so one long execution never hogs a worker).

The step protocol (architecture.md, "Exactly once in effect"), per action step:

a. one transaction: lock the execution row, check it may still run at this position, insert
   the attempt row ``running`` with key ``exec:<id>:step:<position>:attempt:<n>`` (a ``running``
   row left by a crash is reused, same key and attempt), commit;
b. render the config and call the action with that key, outside any transaction;
c. one transaction: lock the row again, record the attempt's outcome (masked), and, if the
   execution is still at that step, apply its variables and contact changes, write its
   commands, events and lifecycle events to the outbox, and move on: the next position, or a
   retry timer, or the failure with its dead letter. The job is acked after that.

Actions without external effects (the CRM, task, data, automation and notification families:
they only return commands and events for the outbox) and control types run (a)+(c) in one
transaction, and consecutive ones share it (up to ``CHAIN_MAX`` steps): an external action that
follows has its ``running`` attempt committed together with them, before it is called. The
messages a transaction emits are buffered and written to the outbox in one statement just
before it commits. A crash anywhere rolls back to the last commit; the job is redelivered and
resumes from there.

Who may drive an execution: a START job (its own, or a redelivery of it), or the job that woke
it (``driver_token``, so a wake-up job redelivered after a crash can finish what it began).
Everything else is stale and changes nothing.

Decisions the format leaves open:

* The event that satisfied a ``wait_for_event`` (or a ``wait_until``) is kept as
  ``vars.last_event`` (``{id, type, occurred_at, contact_id, data}``); ``event`` stays the
  triggering event. When that event carries a contact snapshot it refreshes the execution's
  contact (the owner of contact data knows best), keeping the assignment the run made.
* Inside a ``loop`` body, ``vars.item`` is the current item (the index for ``{times}``) and
  ``vars.loop_index`` counts from 0; both are restored to their outer values when the loop
  ends. The items are fixed when the loop starts and stored with the execution.
* A goal written as ``{conditions}`` only is also checked by the engine before every step,
  against its own snapshot; one with an ``event`` is registered with the trigger service.
* Quiet hours hold back the steps that reach a contact on a channel (email, WhatsApp, SMS:
  ``catalog.channel``); Slack goes to the team and is not held back.
* ``delay`` applies to any step, control types included, before it runs.
* Retries follow ``beez.workflow.retry`` (default: at once, then 60, 300, 900 s later), a
  ``Retry-After`` longer than the next wait wins; a wait of 0 is a timer due at once.
* A step whose action is still in flight when the execution is cancelled or reaches its goal
  records its outcome in the log, but its variables, contact changes and commands are dropped.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import json
import math
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from beez.api.messages.v1 import commands_pb2, events_pb2, jobs_pb2, lifecycle_pb2
from beez.api.workflow.v1 import workflow_pb2
from beez.executor import messages, repository
from beez.executor.actions.base import (
    Action,
    ActionContext,
    ActionResult,
    PermanentError,
    TransientError,
)
from beez.executor.actions.crm import command_verb
from beez.executor.models import Execution, ExecutionStep, NewExecution, NewExecutionStep
from beez.kit.bus.topology import Topology
from beez.kit.clock import Clock
from beez.kit.db import Database, Statement
from beez.kit.logging import get_logger, mask_value
from beez.workflow import catalog, navigation
from beez.workflow.conditions import CompiledCondition, compile_conditions
from beez.workflow.context import build_context, contact_to_dict, event_to_dict
from beez.workflow.errors import ConditionError, TemplateError
from beez.workflow.intervals import add_interval, quiet_hours_end, wait_due, zone
from beez.workflow.model import assign_ids, conditions_from_json, plain, struct_to_dict
from beez.workflow.retry import retry_policy
from beez.workflow.templates import render_config

log = get_logger(__name__)

TERMINAL = frozenset({"completed", "failed", "cancelled"})
RUNNABLE = frozenset({"queued", "running"})
CANCELLABLE = frozenset({"pending", "queued", "running", "waiting"})

LOCAL_CATEGORIES = frozenset({"crm", "tasks", "data", "automation", "notifications"})
"""Catalog families whose actions only compute commands/events: run inside one transaction."""

OUTBOX_BUFFER = "beez.executor.outbox"
STEPS_BUFFER = "beez.executor.steps"
"""``session.info`` key of the messages a transaction emitted; written in one go before commit."""

FRESH_UNITS = "beez.executor.fresh"
"""``session.info`` key of the executions a transaction created; copied in just before commit."""

CHAIN_MAX = 50
"""Most internal steps one transaction runs, so a long internal loop still commits now and then."""

K = lifecycle_pb2
_EVENT_BRANCH = {"event": "event", "until": "met"}


def new_token() -> str:
    return uuid.uuid4().hex


@dataclass
class Unit:
    """One transaction's view of one locked execution.

    ``fresh`` marks an execution created in this very transaction: nothing else can see it yet,
    it has no step rows, timers or dead letters in the database, so its row and everything it
    writes stay in memory (plain row objects, dicts) until the transaction's flush copies
    them in with one ``COPY`` per table, instead of a statement per row.
    """

    session: AsyncSession
    ex: Execution
    now: datetime
    wf: workflow_pb2.Workflow | None = None
    fresh: bool = False
    steps: dict[str, ExecutionStep] = field(default_factory=dict)
    timers: list[dict[str, Any]] = field(default_factory=list)
    dead_letters: list[dict[str, Any]] = field(default_factory=list)


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
    """What a START job still has to do after its batch committed (see :meth:`Engine.start_batch`).

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


@dataclass
class Call:
    """An action attempt committed as ``running``, to be performed outside the transaction."""

    execution_id: str
    org_id: str
    automation_id: str
    position: str
    step_id: str
    type: str
    attempt: int
    key: str
    raw_config: dict[str, Any]
    ctx: dict[str, Any]
    now: datetime
    local: bool


@dataclass
class Outcome:
    """What an attempt came to: a result, or a failure."""

    result: ActionResult | None = None
    error: str = ""
    category: str = ""
    permanent: bool = False
    retry_after: float | None = None


class Engine:
    """Runs jobs against executions; see the module docstring for the protocol."""

    def __init__(
        self,
        db: Database,
        topology: Topology,
        clock: Clock,
        actions: Mapping[str, Action],
        *,
        max_steps_per_job: int = 200,
    ) -> None:
        self._db = db
        self._topology = topology
        self._clock = clock
        self._actions = dict(actions)
        self._max_steps = max_steps_per_job
        self._workflows: dict[str, workflow_pb2.Workflow] = {}
        self._saved: set[str] = set()
        """Digests of workflows known to be committed: their INSERT can be skipped."""
        self._conditions: dict[tuple[str, str], CompiledCondition] = {}
        """Compiled step conditions by (workflow digest, path)."""

    # --- jobs ------------------------------------------------------------------------------

    async def handle(self, job: jobs_pb2.Job) -> None:
        """Applies one job and runs the execution as far as it goes."""
        if job.reason == jobs_pb2.JOB_REASON_START:
            if await self._start(job):
                await self.run(job.execution_id, job.token)
            return
        [continuation] = await self.wake_batch([job])
        await self.continue_job(job, continuation)

    async def wake_batch(self, jobs: Sequence[jobs_pb2.Job]) -> list[Continuation]:
        """Applies many TIMER, SIGNAL, RESUME and RETRY jobs in one transaction, with the steps after them.

        One statement locks every execution the batch names, in id order (so batches racing on
        the same executions wait for each other rather than deadlock); each job is then applied
        as :meth:`handle` would, in id order, and the steps it unblocks run in the same
        transaction up to the first external action, whose ``running`` attempt commits with the
        batch and which :meth:`continue_job` performs afterwards. Two jobs for one execution see
        each other's effect, as one after the other would.
        """
        outcomes = [Continuation(job.execution_id, job.token) for job in jobs]
        async with self._transaction() as session:
            locked = await repository.lock_executions(session, sorted({job.execution_id for job in jobs}))
            for index in sorted(range(len(jobs)), key=lambda i: jobs[i].execution_id):
                job = jobs[index]
                u = await self._apply_wake(session, job, locked.get(job.execution_id))
                if u is None:
                    continue
                u.now = self._clock.now()  # the steps that follow share the wake-up's transaction
                advanced, done = await self._chain(u, self._max_steps)
                outcomes[index] = Continuation(
                    job.execution_id,
                    job.token,
                    call=advanced if isinstance(advanced, Call) else None,
                    steps=done,
                    more=advanced is True,
                )
        return outcomes

    async def continue_job(self, job: jobs_pb2.Job, continuation: Continuation) -> None:
        """Finishes a job after its batch committed: its external action, then the rest."""
        if continuation.alone:
            await self.handle(job)
            return
        more = continuation.more
        if continuation.call is not None:
            more = await self._complete(continuation.execution_id, continuation.call)
        if more:
            await self.run(continuation.execution_id, continuation.driver, continuation.steps)

    async def run(self, execution_id: str, driver: str = "", done: int = 0) -> None:
        """Runs steps until the execution waits or ends, then hands over if the bound was hit."""
        while done < self._max_steps:
            more, steps = await self._step(execution_id, driver, self._max_steps - done)
            if not more:
                return
            done += steps
            await asyncio.sleep(0)
        await self._hand_over(execution_id, driver)

    async def start_batch(self, jobs: Sequence[jobs_pb2.Job]) -> list[Continuation]:
        """Creates the executions of many START jobs in one transaction and runs their internal steps.

        One look-up finds which executions exist already; the others are created as pending
        rows and driven in memory (``Unit.fresh``) through their internal steps, up to the first
        external action, wait or end. One flush then writes every execution, step, timer and
        dead letter of the batch with a multi-row INSERT per table, and one more the outbox.
        Executions are created in id order, so two batches that race on a redelivered START
        wait on each other in one order and never deadlock; the loser fails on the unique key,
        and its items are retried alone (see :class:`beez.kit.batching.Batcher`), where they
        find the execution and take the ordinary path. Nothing an external action needs is
        weakened: its ``running`` attempt commits with the batch, before it is performed.
        """
        now = self._clock.now()
        prepared = [self._prepare_start(job, now) for job in jobs]
        outcomes = [Continuation(job.execution_id, job.token, alone=True) for job in jobs]
        unsaved = {p.digest: p.definition for p in prepared if p.digest not in self._saved}
        async with self._transaction() as session:
            if unsaved:
                await repository.save_workflows(session, unsaved)
            ids = sorted({p.job.execution_id for p in prepared})
            existing = await repository.existing_executions(session, ids)
            for index in sorted(range(len(prepared)), key=lambda i: prepared[i].job.execution_id):
                p = prepared[index]
                if p.job.execution_id in existing:
                    continue
                existing.add(p.job.execution_id)
                self._workflows[p.digest] = p.workflow
                u = Unit(session, NewExecution(**p.values), now, p.workflow, fresh=True)
                session.info.setdefault(FRESH_UNITS, []).append(u)
                await self._mark_running(u)
                await self._register_goal(u)
                advanced, done = await self._chain(u, self._max_steps)
                outcomes[index] = Continuation(
                    p.job.execution_id,
                    p.job.token,
                    call=advanced if isinstance(advanced, Call) else None,
                    steps=done,
                    more=advanced is True,
                )
        self._remember_saved(unsaved)
        return outcomes

    def _prepare_start(self, job: jobs_pb2.Job, now: datetime) -> Prepared:
        start = job.start
        workflow = assign_ids(start.workflow)
        definition = workflow.SerializeToString(deterministic=True)
        digest = hashlib.sha256(definition).hexdigest()
        event = start.event
        contact = event.contact if event.HasField("contact") else events_pb2.Contact()
        contact_id = start.contact_id or event.contact_id or contact.id
        if not contact.id:
            contact.id = contact_id
        created_at = _when(start.created_at) or _when(job.enqueued_at) or now
        values: dict[str, Any] = {
            "id": job.execution_id,
            "org_id": job.organization_id,
            "automation_id": start.automation_id,
            "automation_version": start.automation_version,
            "contact_id": contact_id,
            "workflow_digest": digest,
            "priority": messages.priority_of(start.priority, workflow.settings.priority),
            "status": "queued",
            "position": navigation.first(workflow),
            "phase": "start",
            "attempt_base": 0,
            "run": 1,
            "trigger_event_id": event.id,
            "trigger_event": event_to_dict(event),
            "contact": contact_to_dict(contact),
            "vars": {},
            "loops": {},
            "converted": False,
            "created_at": created_at,
            "queued_at": _when(job.enqueued_at) or now,
            "updated_at": now,
        }
        return Prepared(job, values, workflow, digest, definition)

    def _remember_saved(self, digests: Mapping[str, bytes]) -> None:
        if len(self._saved) > 4096:
            self._saved.clear()
        self._saved.update(digests)

    async def _start(self, job: jobs_pb2.Job) -> bool:
        now = self._clock.now()
        p = self._prepare_start(job, now)
        workflow, digest, values = p.workflow, p.digest, p.values
        async with self._transaction() as session:
            if digest not in self._saved:
                await repository.save_workflows(session, {digest: p.definition})
            created = await repository.insert_execution(session, values)
            ex = await repository.lock_execution(session, job.execution_id)
            if ex is None:
                return False
            if ex.org_id != job.organization_id:
                log.warning("start job for another organization's execution", execution_id=ex.id)
                return False
            if created:
                self._workflows[digest] = workflow
                u = Unit(session, ex, now, workflow)
                await self._mark_running(u)
                await self._register_goal(u)
            runnable = ex.status in RUNNABLE and ex.wait_token is None
        self._remember_saved({digest: p.definition})
        return runnable

    async def _apply_wake(
        self, session: AsyncSession, job: jobs_pb2.Job, ex: Execution | None
    ) -> Unit | None:
        """Applies a TIMER, SIGNAL, RESUME or RETRY job to its locked execution; the unit when the
        job may now drive it."""
        if ex is None or ex.org_id != job.organization_id:
            log.info("job for an unknown execution ignored", execution_id=job.execution_id)
            return None
        if ex.status in TERMINAL or not job.token:
            return None
        u = Unit(session, ex, self._clock.now())
        if job.reason == jobs_pb2.JOB_REASON_SIGNAL and job.signal == "goal":
            if job.token == ex.goal_token:
                await self._reach_goal(u, job)
            return None
        if job.token != ex.wait_token:
            # stale, or a redelivery of the job that woke it and then crashed
            return u if _may_drive(ex, job.token) else None
        kind = ex.wait_kind or ""
        reason = job.reason
        if (reason == jobs_pb2.JOB_REASON_TIMER and kind in ("delay", "quiet_hours", "retry")) or (
            reason == jobs_pb2.JOB_REASON_RESUME and kind == "resume"
        ):
            self._clear_wait(u, job.token)
        elif reason == jobs_pb2.JOB_REASON_RETRY and kind == "retry_execution":
            self._clear_wait(u, job.token, status="queued")
            await self._load_workflow(u)
            await self._mark_running(u)
        elif reason == jobs_pb2.JOB_REASON_TIMER and kind == "wait":
            self._clear_wait(u, job.token)
            await self._load_workflow(u)
            await self._finish_waiting_step(u, {})
            await self._move_on(u)
        elif kind in _EVENT_BRANCH and (
            reason == jobs_pb2.JOB_REASON_TIMER
            or (reason == jobs_pb2.JOB_REASON_SIGNAL and job.signal == "timeout")
        ):
            self._clear_wait(u, job.token)
            await self._cancel_registration(u, job.token, kind)
            await self._delete_timers(u)
            await self._load_workflow(u)
            await self._finish_waiting_step(u, {"branch": "timeout"})
            await self._take_branch(u, "timeout")
        elif kind in _EVENT_BRANCH and reason == jobs_pb2.JOB_REASON_SIGNAL:
            self._clear_wait(u, job.token)
            await self._delete_timers(u)
            await self._load_workflow(u)
            self._receive_event(u, job.event)
            branch = _EVENT_BRANCH[kind]
            await self._finish_waiting_step(u, {"branch": branch, "event_id": job.event.id})
            await self._take_branch(u, branch)
        else:
            log.warning(
                "job does not answer what the execution waits for",
                execution_id=ex.id,
                reason=jobs_pb2.JobReason.Name(reason),
                signal=job.signal,
                wait_kind=kind,
            )
            return None
        return u if ex.status in RUNNABLE and ex.wait_token is None else None

    async def _hand_over(self, execution_id: str, driver: str) -> None:
        """Bound reached: a RESUME job (through the outbox) continues in a fresh job."""
        async with self._transaction() as session:
            ex = await repository.lock_execution(session, execution_id)
            if ex is None or not _may_drive(ex, driver):
                return
            u = Unit(session, ex, self._clock.now())
            await self._emit(u, hand_to_resume_job(self._topology, ex, u.now))

    # --- one step --------------------------------------------------------------------------

    async def _step(self, execution_id: str, driver: str, budget: int = 1) -> tuple[bool, int]:
        """Runs steps from the execution's position: (whether the next may run at once, steps run).

        Internal steps (control types and actions of :data:`LOCAL_CATEGORIES`) follow each other
        in one transaction, up to ``budget`` (and :data:`CHAIN_MAX`) steps: they have no effect
        outside this database, so a crash rolls them back together and the redelivered job runs
        them again. An external action ends the chain: its ``running`` attempt is committed with
        whatever preceded it before the provider is called, as the step protocol requires.
        """
        async with self._transaction() as session:
            ex = await repository.lock_execution(session, execution_id)
            if ex is None or not _may_drive(ex, driver):
                return False, 0
            advanced, done = await self._chain(Unit(session, ex, self._clock.now()), budget)
        if not isinstance(advanced, Call):
            return advanced, done
        return await self._complete(execution_id, advanced), done

    async def _chain(self, u: Unit, budget: int) -> tuple[bool | Call, int]:
        """Runs steps of the locked execution in the caller's transaction; see :meth:`_step`."""
        done = 0
        while True:
            advanced = await self._advance(u)
            done += 1
            if isinstance(advanced, Call) or not advanced or done >= min(budget, CHAIN_MAX):
                return advanced, done
            u.now = self._clock.now()

    async def _complete(self, execution_id: str, call: Call) -> bool:
        """Performs a committed ``running`` attempt, then settles it in a new transaction."""
        outcome = await self._perform(call)
        async with self._transaction() as session:
            ex = await repository.lock_execution(session, execution_id)
            if ex is None:
                return False
            u = Unit(session, ex, self._clock.now())
            wf = await self._load_workflow(u)
            return await self._settle(u, call, navigation.action_at(wf, call.position), outcome)

    async def _advance(self, u: Unit) -> bool | Call:
        """One step at the position of the locked execution, in the caller's transaction.

        True when the next step may run at once; a :class:`Call` when the step is an external
        action whose ``running`` attempt must be committed before it is performed.
        """
        ex = u.ex
        wf = await self._load_workflow(u)
        if ex.status == "queued":
            await self._mark_running(u)
        if ex.position is None:
            await self._finish(u, "completed", reason="completed")
            return False
        if self._goal_conditions_hold(u):
            await self._finish(u, "completed", reason="goal reached", converted=True)
            return False
        try:
            action = navigation.action_at(wf, ex.position)
        except navigation.PositionError as exc:
            await self._fail(u, None, str(exc), "configuration")
            return False
        if ex.phase == "start":
            ex.phase = "ready"
            looping = ex.position in ex.loops  # a loop step comes back once per iteration
            if action.HasField("delay") and action.delay.value > 0 and not looping:
                try:
                    due = add_interval(u.now, action.delay).astimezone(UTC)
                except ValueError as exc:
                    await self._fail(u, action, f"delay: {exc}", "configuration")
                    return False
                await self._wait_on_timer(u, action, "delay", "delay", due)
                return False
        if catalog.channel(action.type) is not None:
            quiet_end = self._quiet_hours_end(u)
            if quiet_end is not None:
                await self._wait_on_timer(u, action, "quiet_hours", "quiet_hours", quiet_end)
                return False
        if catalog.is_control(action.type):
            return await self._control(u, action)
        call = await self._begin_attempt(u, action)
        if call.local:
            outcome = await self._perform(call)
            return await self._settle(u, call, action, outcome)
        return call

    async def _begin_attempt(self, u: Unit, action: workflow_pb2.Action) -> Call:
        ex = u.ex
        assert ex.position is not None
        last = await self._latest_attempt(u, ex.position)
        if last is not None and last.status == "running":
            attempt, key = last.attempt, last.idempotency_key  # a crashed attempt: same key
        else:
            attempt = last.attempt + 1 if last is not None else 1
            key = step_key(ex.id, ex.position, attempt)
            await self._add_step(u, self._step_row(u, action, attempt, key, "running"))
        entry = catalog.action_type(action.type)
        local = entry is not None and entry.category in LOCAL_CATEGORIES
        context = self._context(u, action)
        return Call(
            execution_id=ex.id,
            org_id=ex.org_id,
            automation_id=ex.automation_id,
            position=ex.position,
            step_id=action.id,
            type=action.type,
            attempt=attempt,
            key=key,
            raw_config=struct_to_dict(action.config),
            ctx=context if local else copy.deepcopy(context),  # a local call runs before u changes
            now=u.now,
            local=local,
        )

    async def _perform(self, call: Call) -> Outcome:
        """Renders the config and runs the action once. BaseExceptions (a crash) propagate."""
        action = self._actions.get(call.type)
        if action is None:
            return self._outcome(error=f"no action implements {call.type!r}", category="configuration")
        try:
            config = render_config(call.raw_config, call.ctx)
        except TemplateError as exc:
            return self._outcome(error=f"template: {exc}", category="template")
        ctx = ActionContext(
            org_id=call.org_id,
            execution_id=call.execution_id,
            automation_id=call.automation_id,
            step_id=call.step_id,
            step_path=call.position,
            attempt=call.attempt,
            idempotency_key=call.key,
            config=config,
            contact=call.ctx["contact"],
            event=call.ctx["event"],
            vars=call.ctx["vars"],
            now=call.now,
        )
        try:
            result = await action.run(ctx)
        except PermanentError as exc:
            return self._outcome(error=str(exc), category=exc.category)
        except TransientError as exc:
            return self._outcome(
                error=str(exc), category=exc.category, transient=True, retry_after=exc.retry_after
            )
        except Exception as exc:
            log.warning("action raised", type=call.type, key=call.key, error=repr(exc))
            return self._outcome(error=f"{type(exc).__name__}: {exc}", category="unknown", transient=True)
        return Outcome(result=result)

    def _outcome(
        self, *, error: str, category: str, transient: bool = False, retry_after: float | None = None
    ) -> Outcome:
        return Outcome(
            error=mask_value(error) or "failed",  # provider errors may quote addresses and numbers
            category=category,
            permanent=not transient,
            retry_after=retry_after,
        )

    async def _settle(self, u: Unit, call: Call, action: workflow_pb2.Action, outcome: Outcome) -> bool:
        """Step (c): records the attempt and, if the execution is still there, moves it on."""
        ex = u.ex
        row = await self._step_by_key(u, call.key)
        if row is None or row.status != "running":
            return False  # another delivery of this job settled it already
        row.finished_at = u.now
        row.duration_ms = _ms(row.started_at, u.now)
        current = ex.status == "running" and ex.position == call.position and ex.wait_token is None
        result = outcome.result
        if result is not None:
            row.status = "skipped" if result.status == "skipped" else "succeeded"
            recorded = dict(mask_value(json_safe(result.output)))
            if result.reason:
                recorded["reason"] = mask_value(result.reason)
            row.result = recorded
            if not current:
                return False
            await self._apply(u, call, result)
            await self._step_event(u, action, call.key, K.EXECUTION_EVENT_KIND_STEP_COMPLETED, row)
            await self._move_on(u)
            return ex.status in RUNNABLE and ex.wait_token is None
        row.status = "failed"
        row.error = outcome.error
        row.error_category = outcome.category
        if not current:
            return False
        await self._step_event(u, action, call.key, K.EXECUTION_EVENT_KIND_STEP_FAILED, row)
        delay = None
        if not outcome.permanent:
            delay = retry_policy(call.raw_config).delay_before(call.attempt - ex.attempt_base + 1)
        if delay is None:
            await self._fail(u, action, outcome.error, outcome.category, key=call.key)
            return False
        wait_s = max(float(delay), float(outcome.retry_after or 0.0))
        due = u.now + timedelta(seconds=wait_s)
        await self._wait_on_timer(u, action, "retry", "retry", due)
        return False

    async def _apply(self, u: Unit, call: Call, result: ActionResult) -> None:
        ex = u.ex
        if result.vars:
            ex.vars = {**ex.vars, **json_safe(result.vars)}
        if result.contact_changes:
            ex.contact = json_safe(apply_contact_changes(ex.contact, result.contact_changes))
        for index, command in enumerate(result.commands):
            if not command.WhichOneof("command"):
                log.warning("action returned an empty platform command", type=call.type, key=call.key)
                continue
            stamped = commands_pb2.PlatformCommand()
            stamped.CopyFrom(command)
            stamped.idempotency_key = stamped.idempotency_key or call.key
            stamped.organization_id = ex.org_id
            stamped.contact_id = stamped.contact_id or ex.contact_id
            stamped.execution_id = ex.id
            stamped.automation_id = ex.automation_id
            subject = self._topology.command(ex.org_id, command_verb(stamped))
            await self._emit(u, messages.Outgoing(subject, stamped, f"{call.key}:cmd:{index}", ex.org_id))
        for index, event in enumerate(result.events):
            out = events_pb2.Event()
            out.CopyFrom(event)
            out.organization_id = ex.org_id
            out.id = out.id or f"{call.key}:event:{index}"
            subject = self._topology.events(ex.org_id, out.type)
            await self._emit(u, messages.Outgoing(subject, out, out.id, ex.org_id))

    # --- control types ---------------------------------------------------------------------

    async def _control(self, u: Unit, action: workflow_pb2.Action) -> bool:
        ex = u.ex
        assert ex.position is not None
        at = navigation.path_of(ex.position)
        try:
            if action.type == "condition":
                held = self._holds(u, action, f"{at}.config.conditions")
                return await self._branch_now(u, action, "yes" if held else "no")
            if action.type == "wait_until" and self._holds(u, action, f"{at}.config.conditions"):
                return await self._branch_now(u, action, "met")
            config = struct_to_dict(action.config)
            if action.type == "wait":
                due = wait_due(config, u.now, self._zone(u))
                await self._log_control(u, action, "waiting", {"due_at": due.isoformat()})
                kind = "until" if isinstance(config.get("until"), str) else "delay"
                await self._wait_on_timer(u, action, "wait", kind, due)
                return False
            if action.type == "switch":
                chosen = "default"
                for index, branch in enumerate(action.branches):
                    if branch.name == "default":
                        continue
                    compiled = compile_conditions(branch.conditions, f"{at}.branches[{index}].conditions")
                    if compiled.evaluate(self._context(u, action), u.now):
                        chosen = branch.name
                        break
                return await self._branch_now(u, action, chosen)
            if action.type == "random_split":
                key = f"{ex.automation_id}:{action.id}:{ex.contact_id}"
                return await self._branch_now(u, action, navigation.random_split_choice(action.branches, key))
            if action.type == "loop":
                return await self._loop(u, action, config)
            if action.type == "stop":
                reason = str(config.get("reason") or "")
                await self._log_control(u, action, "succeeded", {"reason": reason} if reason else {})
                await self._finish(u, "completed", reason=f"stopped: {reason}" if reason else "stopped")
                return False
            if action.type == "wait_for_event":
                return await self._wait_for(u, action, config, "event")
            if action.type == "wait_until":
                return await self._wait_for(u, action, config, "until")
        except ValueError as exc:  # bad intervals, conditions, positions: the workflow is wrong
            await self._fail(u, action, str(exc), "configuration")
            return False
        await self._fail(u, action, f"the engine cannot run {action.type!r}", "configuration")
        return False

    def _holds(self, u: Unit, action: workflow_pb2.Action, path: str) -> bool:
        """Whether the step's ``config.conditions`` hold, compiled once per workflow version."""
        key = (u.ex.workflow_digest, path)
        compiled = self._conditions.get(key)
        if compiled is None:  # a workflow version never changes, so neither do its conditions
            raw = struct_to_dict(action.config).get("conditions")
            conditions, issues = conditions_from_json(raw if isinstance(raw, list) else [], path)
            if issues:
                raise ConditionError(issues)
            compiled = compile_conditions(conditions, path)
            if len(self._conditions) >= 4096:
                self._conditions.clear()
            self._conditions[key] = compiled
        return compiled.evaluate(self._context(u, action), u.now)

    async def _branch_now(self, u: Unit, action: workflow_pb2.Action, branch: str) -> bool:
        await self._log_control(u, action, "succeeded", {"branch": branch})
        await self._take_branch(u, branch)
        return u.ex.status in RUNNABLE and u.ex.wait_token is None

    async def _take_branch(self, u: Unit, branch: str) -> None:
        """Enters ``branch`` of the step at the position (or moves past it when it is empty)."""
        ex, wf = u.ex, await self._load_workflow(u)
        assert ex.position is not None
        entered = navigation.enter_branch(wf, ex.position, branch)
        if entered is None:
            await self._move_on(u)
        else:
            self._go_to(u, entered)

    async def _loop(self, u: Unit, action: workflow_pb2.Action, config: dict[str, Any]) -> bool:
        ex, wf = u.ex, await self._load_workflow(u)
        position = ex.position
        assert position is not None
        state = ex.loops.get(position)
        if state is None:
            items = navigation.loop_items(config, self._context(u, action))
            await self._log_control(u, action, "succeeded", {"iterations": len(items)})
            if not items or navigation.enter_branch(wf, position, "body", 0) is None:
                await self._move_on(u)
                return ex.status in RUNNABLE
            saved = {name: ex.vars[name] for name in ("item", "loop_index") if name in ex.vars}
            state = {"items": plain(items), "index": 0, "saved": saved}
        else:
            state = {**state, "index": int(state["index"]) + 1}
            if state["index"] >= len(state["items"]):
                loops = dict(ex.loops)
                loops.pop(position, None)
                ex.loops = loops
                restored = {k: v for k, v in ex.vars.items() if k not in ("item", "loop_index")}
                ex.vars = {**restored, **state.get("saved", {})}
                await self._move_on(u)
                return ex.status in RUNNABLE
        index = int(state["index"])
        ex.loops = {**ex.loops, position: state}
        ex.vars = {**ex.vars, "item": state["items"][index], "loop_index": index}
        entered = navigation.enter_branch(wf, position, "body", index)
        assert entered is not None
        self._go_to(u, entered)
        return True

    async def _wait_for(
        self, u: Unit, action: workflow_pb2.Action, config: dict[str, Any], kind: str
    ) -> bool:
        """wait_for_event (``event``) or wait_until (``until``): a registration plus a timeout."""
        ex = u.ex
        assert ex.position is not None
        timeout = config.get("timeout")
        if not isinstance(timeout, Mapping):
            raise ValueError("timeout is required")
        due = add_interval(u.now, timeout).astimezone(UTC)
        token = new_token()
        if kind == "event":
            filters = config.get("filters")
            registration = messages.wait_registration(
                self._topology,
                registration_id=token,
                kind=K.WAIT_KIND_EVENT,
                org_id=ex.org_id,
                execution_id=ex.id,
                contact_id=ex.contact_id,
                event_type=str(config.get("event") or ""),
                filters=filters if isinstance(filters, Mapping) else None,
                expires_at=due,
            )
        else:
            at = f"{navigation.path_of(ex.position)}.config.conditions"
            raw = config.get("conditions")
            conditions, issues = conditions_from_json(raw if isinstance(raw, list) else [], at)
            if issues:
                raise ConditionError(issues)
            registration = messages.wait_registration(
                self._topology,
                registration_id=token,
                kind=K.WAIT_KIND_UNTIL,
                org_id=ex.org_id,
                execution_id=ex.id,
                contact_id=ex.contact_id,
                conditions=conditions,
                expires_at=due,
            )
        await self._log_control(u, action, "waiting", {"until": due.isoformat()})
        await self._emit(u, registration)
        await self._wait_on_timer(u, action, kind, "wait_timeout", due, token=token)
        return False

    def _receive_event(self, u: Unit, event: events_pb2.Event) -> None:
        ex = u.ex
        ex.vars = {**ex.vars, "last_event": event_to_dict(event)}
        if event.HasField("contact") and event.contact.id:
            fresh = contact_to_dict(event.contact)
            kept = {k: v for k, v in ex.contact.items() if k in ("assigned_user", "assigned_team")}
            ex.contact = {**fresh, **kept}

    # --- goals -----------------------------------------------------------------------------

    async def _register_goal(self, u: Unit) -> None:
        ex, wf = u.ex, await self._load_workflow(u)
        goal = wf.goal
        if not wf.HasField("goal") or not (goal.event or len(goal.conditions)):
            return
        ex.goal_token = new_token()
        await self._emit(
            u,
            messages.wait_registration(
                self._topology,
                registration_id=ex.goal_token,
                kind=K.WAIT_KIND_GOAL,
                org_id=ex.org_id,
                execution_id=ex.id,
                contact_id=ex.contact_id,
                event_type=goal.event,
                filters=struct_to_dict(goal.filters),
                conditions=list(goal.conditions),
            ),
        )

    def _goal_conditions_hold(self, u: Unit) -> bool:
        wf = u.wf
        if wf is None or not wf.HasField("goal") or wf.goal.event or not len(wf.goal.conditions):
            return False
        try:
            compiled = compile_conditions(wf.goal.conditions, "goal.conditions")
        except ConditionError:
            return False
        return compiled.evaluate(self._context(u, None), u.now)

    async def _reach_goal(self, u: Unit, job: jobs_pb2.Job) -> None:
        if job.HasField("event"):
            u.ex.vars = {**u.ex.vars, "last_event": event_to_dict(job.event)}
        await self._finish(u, "completed", reason="goal reached", converted=True)

    # --- operations for the RPCs -----------------------------------------------------------

    async def cancel(self, session: AsyncSession, ex: Execution, reason: str) -> None:
        """Cancels a locked execution that has not ended: timers deleted, waits withdrawn."""
        u = Unit(session, ex, self._clock.now())
        await self._finish(u, "cancelled", reason=f"cancelled: {reason}" if reason else "cancelled")
        await self._flush(session)

    async def requeue(self, session: AsyncSession, ex: Execution) -> None:
        """Queues a locked, failed execution again from the step that failed (a RETRY job).

        The step's attempts start counting afresh for its retry policy; attempt numbers (and so
        idempotency keys) go on from the last one, so a provider never mistakes the new tries
        for the failed ones.
        """
        u = Unit(session, ex, self._clock.now())
        assert ex.position is not None
        last = await repository.latest_attempt(session, ex.id, ex.position)
        ex.attempt_base = last.attempt if last is not None else 0
        ex.status = "queued"
        ex.queued_at = u.now
        ex.finished_at = None
        ex.error = ex.error_category = ex.end_reason = None
        ex.run += 1
        ex.updated_at = u.now
        token = new_token()
        ex.wait_token, ex.wait_kind, ex.driver_token = token, "retry_execution", None
        await self._register_goal(u)
        await self._emit(
            u,
            messages.job(
                self._topology,
                org_id=ex.org_id,
                execution_id=ex.id,
                priority=ex.priority,
                reason=jobs_pb2.JOB_REASON_RETRY,
                token=token,
                msg_id=f"retry:{token}",
                now=u.now,
            ),
        )
        await self._flush(session)

    # --- state changes ---------------------------------------------------------------------

    async def _mark_running(self, u: Unit) -> None:
        ex = u.ex
        ex.status = "running"
        ex.updated_at = u.now
        if ex.started_at is None:
            ex.started_at = u.now
            ex.queue_wait_ms = max(0, _ms(ex.created_at, u.now))
            await self._lifecycle(
                u, K.EXECUTION_EVENT_KIND_STARTED, f"exec:{ex.id}:started", with_queue_wait=True
            )

    def _clear_wait(self, u: Unit, token: str, status: str = "running") -> None:
        ex = u.ex
        ex.wait_token = ex.wait_kind = None
        ex.driver_token = token
        ex.status = status
        ex.updated_at = u.now

    def _go_to(self, u: Unit, position: str | None) -> None:
        ex = u.ex
        ex.position = position
        ex.phase = "start"
        ex.attempt_base = 0
        ex.updated_at = u.now

    async def _move_on(self, u: Unit) -> None:
        """Goes to the step after the current one; the end of the workflow completes it."""
        ex, wf = u.ex, await self._load_workflow(u)
        assert ex.position is not None
        following = navigation.next_after(wf, ex.position)
        self._go_to(u, following)
        if following is None:
            await self._finish(u, "completed", reason="completed")

    async def _wait_on_timer(
        self,
        u: Unit,
        action: workflow_pb2.Action,
        wait_kind: str,
        timer_kind: str,
        due: datetime,
        *,
        token: str | None = None,
    ) -> None:
        ex = u.ex
        token = token or new_token()
        ex.status = "waiting"
        ex.wait_token, ex.wait_kind, ex.driver_token = token, wait_kind, None
        ex.updated_at = u.now
        await self._add_timer(
            u,
            {
                "id": f"tmr_{new_token()}",
                "org_id": ex.org_id,
                "execution_id": ex.id,
                "kind": timer_kind,
                "due_at": due,
                "token": token,
                "step_id": action.id,
                "priority": ex.priority,
            },
        )
        await self._lifecycle(u, K.EXECUTION_EVENT_KIND_WAITING, f"exec:{ex.id}:waiting:{token}", step=action)

    async def _finish(
        self,
        u: Unit,
        status: str,
        *,
        reason: str,
        error: str | None = None,
        category: str | None = None,
        converted: bool = False,
    ) -> None:
        """Ends the execution: timers deleted, waits and goal withdrawn, a terminal event sent."""
        ex = u.ex
        if ex.wait_token and ex.wait_kind in _EVENT_BRANCH:
            await self._cancel_registration(u, ex.wait_token, ex.wait_kind)
        if ex.goal_token:
            await self._cancel_registration(u, ex.goal_token, "goal")
        await self._delete_timers(u)
        for row in await self._waiting_steps(u):
            row.status = "skipped"
            row.finished_at = u.now
            row.duration_ms = _ms(row.started_at, u.now)
            row.error = reason
        ex.status = status
        ex.finished_at = u.now
        ex.end_reason = reason
        ex.error, ex.error_category = error, category
        ex.converted = ex.converted or converted
        ex.wait_token = ex.wait_kind = ex.driver_token = ex.goal_token = None
        ex.updated_at = u.now
        if status != "failed":
            ex.position = None  # a failed execution keeps its position for RetryExecution
        kind = {
            "completed": K.EXECUTION_EVENT_KIND_COMPLETED,
            "failed": K.EXECUTION_EVENT_KIND_FAILED,
            "cancelled": K.EXECUTION_EVENT_KIND_CANCELLED,
        }[status]
        await self._lifecycle(
            u,
            kind,
            f"exec:{ex.id}:{status}:{ex.run}",
            error=error or "",
            category=category or "",
            duration_ms=_ms(ex.started_at or ex.created_at, u.now),
            with_queue_wait=True,
        )

    async def _fail(
        self,
        u: Unit,
        action: workflow_pb2.Action | None,
        error: str,
        category: str,
        *,
        key: str | None = None,
    ) -> None:
        """Fails the execution at its step, leaving a dead letter."""
        ex = u.ex
        log.info("execution failed", execution_id=ex.id, step=action.id if action else "", category=category)
        if action is not None and key is None:  # a control step: show the failure in the log too
            key = step_key(ex.id, ex.position or "", 1)
            row = self._step_row(u, action, 1, key, "failed")
            row.update(finished_at=u.now, duration_ms=0, error=error, error_category=category)
            await self._add_step(u, row)
        await self._add_dead_letter(
            u,
            {
                "org_id": ex.org_id,
                "execution_id": ex.id,
                "automation_id": ex.automation_id,
                "step_id": action.id if action is not None else "",
                "position": ex.position or "",
                "idempotency_key": key,
                "error": error,
                "category": category,
                "created_at": u.now,
            },
        )
        await self._finish(u, "failed", reason="failed", error=error, category=category)

    async def _cancel_registration(self, u: Unit, registration_id: str, kind: str) -> None:
        wait_kind = {"event": K.WAIT_KIND_EVENT, "until": K.WAIT_KIND_UNTIL, "goal": K.WAIT_KIND_GOAL}[kind]
        await self._emit(
            u,
            messages.wait_cancellation(
                self._topology,
                registration_id=registration_id,
                kind=wait_kind,
                org_id=u.ex.org_id,
                execution_id=u.ex.id,
            ),
        )

    # --- step log --------------------------------------------------------------------------

    def _step_row(
        self, u: Unit, action: workflow_pb2.Action, attempt: int, key: str, status: str
    ) -> dict[str, Any]:
        ex = u.ex
        assert ex.position is not None
        return {
            "execution_id": ex.id,
            "org_id": ex.org_id,
            "step_id": action.id,
            "position": ex.position,
            "path": navigation.path_of(ex.position),
            "type": action.type,
            "status": status,
            "attempt": attempt,
            "idempotency_key": key,
            "started_at": u.now,
            "result": {},
        }

    async def _log_control(
        self, u: Unit, action: workflow_pb2.Action, status: str, result: dict[str, Any]
    ) -> None:
        """Logs a control step (once per visit of its position) and, when done, its event."""
        ex = u.ex
        key = step_key(ex.id, ex.position or "", 1)
        row = self._step_row(u, action, 1, key, status)
        row["result"] = mask_value(result)
        if status != "waiting":
            row.update(finished_at=u.now, duration_ms=0)
        if await self._add_step(u, row) and status == "succeeded":
            await self._lifecycle(
                u, K.EXECUTION_EVENT_KIND_STEP_COMPLETED, f"{key}:step_completed", step=action
            )

    async def _finish_waiting_step(self, u: Unit, result: dict[str, Any]) -> None:
        ex, wf = u.ex, await self._load_workflow(u)
        assert ex.position is not None
        key = step_key(ex.id, ex.position, 1)
        row = await self._step_by_key(u, key)
        if row is None or row.status != "waiting":
            return
        row.status = "succeeded"
        row.finished_at = u.now
        row.duration_ms = _ms(row.started_at, u.now)
        row.result = {**row.result, **mask_value(result)}
        action = navigation.action_at(wf, ex.position)
        await self._step_event(u, action, key, K.EXECUTION_EVENT_KIND_STEP_COMPLETED, row)

    async def _step_event(
        self,
        u: Unit,
        action: workflow_pb2.Action,
        key: str,
        kind: lifecycle_pb2.ExecutionEventKind,
        row: ExecutionStep,
    ) -> None:
        await self._lifecycle(
            u,
            kind,
            f"{key}:{messages.KIND_NAMES[kind]}",
            step=action,
            error=row.error or "",
            category=row.error_category or "",
            duration_ms=row.duration_ms or 0,
        )

    # --- rows: in memory for a fresh execution, statements otherwise ------------------------

    async def _add_step(self, u: Unit, values: dict[str, Any]) -> bool:
        """Adds a step row unless its idempotency key exists; True when this call created it."""
        if not u.fresh:
            return await repository.add_step(u.session, values)
        key = values["idempotency_key"]
        if key in u.steps:
            return False
        u.steps[key] = NewExecutionStep(**values)
        return True

    async def _latest_attempt(self, u: Unit, position: str) -> ExecutionStep | None:
        if not u.fresh:
            return await repository.latest_attempt(u.session, u.ex.id, position)
        rows = [row for row in u.steps.values() if row.position == position]
        return max(rows, key=lambda row: row.attempt, default=None)

    async def _step_by_key(self, u: Unit, key: str) -> ExecutionStep | None:
        if not u.fresh:
            return await repository.step_by_key(u.session, key)
        return u.steps.get(key)

    async def _waiting_steps(self, u: Unit) -> list[ExecutionStep]:
        if not u.fresh:
            return await repository.waiting_steps(u.session, u.ex.id)
        return [row for row in u.steps.values() if row.status == "waiting"]

    async def _add_timer(self, u: Unit, values: dict[str, Any]) -> None:
        if not u.fresh:
            await repository.add_timer(u.session, values)
            return
        u.timers.append(values)

    async def _delete_timers(self, u: Unit) -> None:
        if not u.fresh:
            await repository.delete_timers(u.session, u.ex.id)
            return
        u.timers.clear()

    async def _add_dead_letter(self, u: Unit, values: dict[str, Any]) -> None:
        if not u.fresh:
            await repository.add_dead_letter(u.session, values)
            return
        u.dead_letters.append(values)

    # --- helpers ---------------------------------------------------------------------------

    async def _lifecycle(
        self,
        u: Unit,
        kind: lifecycle_pb2.ExecutionEventKind,
        event_id: str,
        *,
        step: workflow_pb2.Action | None = None,
        error: str = "",
        category: str = "",
        duration_ms: int = 0,
        with_queue_wait: bool = False,
    ) -> None:
        ex = u.ex
        if kind == K.EXECUTION_EVENT_KIND_STEP_COMPLETED and step is not None:
            completed = lifecycle_pb2.StepCompleted(
                id=event_id,
                step_id=step.id,
                step_type=step.type,
                occurred_at=messages.timestamp(u.now),
                duration_ms=duration_ms,
            )
            u.session.info.setdefault(STEPS_BUFFER, {}).setdefault(ex.id, (u, []))[1].append(completed)
            return
        event = _execution_event(
            ex,
            kind,
            event_id,
            step_id=step.id if step is not None else "",
            step_type=step.type if step is not None else "",
            error=error,
            error_category=category,
            occurred_at=messages.timestamp(u.now),
            duration_ms=duration_ms,
            queue_wait_ms=(ex.queue_wait_ms or 0) if with_queue_wait else 0,
        )
        self._emit_steps(u.session, ex.id)  # on the stream, the steps completed before it go first
        await self._emit(u, messages.lifecycle(self._topology, event))

    async def _emit(self, u: Unit, outgoing: messages.Outgoing) -> None:
        """Adds ``outgoing`` to the transaction's outbox buffer (see :meth:`_transaction`)."""
        u.session.info.setdefault(OUTBOX_BUFFER, []).append(outgoing)

    def _emit_steps(self, session: AsyncSession, execution_id: str | None = None) -> None:
        """Turns the steps completed so far (by one execution, or all) into STEP_COMPLETED messages.

        One message per execution and transaction carries all its completed steps (decision
        0012): they commit together, and a message per step cost the benchmark's automation a
        sixth of the stack's CPU per execution. A single step keeps the id its own event always
        had. On the executions stream the message keeps its place: it goes before the execution's
        next lifecycle event of the transaction (or last); other streams' messages (commands,
        jobs) never had an order with it.
        """
        pending: dict[str, tuple[Unit, list[lifecycle_pb2.StepCompleted]]] = session.info.get(
            STEPS_BUFFER, {}
        )
        for key in [execution_id] if execution_id is not None else list(pending):
            entry = pending.pop(key, None)
            if entry is None:
                continue
            u, steps = entry
            ex, last = u.ex, steps[-1]
            event = _execution_event(
                ex,
                K.EXECUTION_EVENT_KIND_STEP_COMPLETED,
                last.id if len(steps) == 1 else f"{steps[0].id}+{len(steps) - 1}",
                step_id=last.step_id,
                step_type=last.step_type,
                occurred_at=last.occurred_at,
                duration_ms=last.duration_ms,
                steps=steps,
            )
            session.info.setdefault(OUTBOX_BUFFER, []).append(messages.lifecycle(self._topology, event))

    async def _flush(self, session: AsyncSession) -> None:
        """Writes the executions the transaction created, with their rows, and its messages.

        One COPY per table for many new executions (see :class:`Unit`), then the outbox: one
        write and one NOTIFY. A few new executions' rows go with the outbox rows, in one round
        trip when they are published directly.
        """
        units: list[Unit] = session.info.pop(FRESH_UNITS, [])
        rows: list[Statement] = []
        if units:
            rows = await repository.write_new_executions(
                session,
                [u.ex for u in units],
                [step for u in units for step in u.steps.values()],
                [timer for u in units for timer in u.timers],
                [letter for u in units for letter in u.dead_letters],
            )
        self._emit_steps(session)
        pending: list[messages.Outgoing] = session.info.pop(OUTBOX_BUFFER, [])
        await repository.enqueue_all(session, pending, before=rows)

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[AsyncSession]:
        """A transaction whose emitted messages reach the outbox just before it commits.

        Only a block that ends normally (a ``return`` included) flushes; an exception rolls the
        state and its messages back together, as writing them one by one did.
        """
        async with self._db.transaction() as session:
            yield session
            await self._flush(session)

    async def _load_workflow(self, u: Unit) -> workflow_pb2.Workflow:
        if u.wf is None:
            digest = u.ex.workflow_digest
            cached = self._workflows.get(digest)
            if cached is None:
                definition = await repository.load_workflow(u.session, digest)
                if definition is None:
                    raise RuntimeError(f"workflow {digest} of execution {u.ex.id} is missing")
                cached = workflow_pb2.Workflow.FromString(definition)
                if len(self._workflows) >= 512:
                    self._workflows.pop(next(iter(self._workflows)))
                self._workflows[digest] = cached
            u.wf = cached
        return u.wf

    def _context(self, u: Unit, action: workflow_pb2.Action | None) -> dict[str, Any]:
        ex = u.ex
        ctx = build_context(
            None,
            None,
            ex.vars,
            {
                "id": ex.id,
                "automation_id": ex.automation_id,
                "automation_version": ex.automation_version,
                "contact_id": ex.contact_id,
                "step_id": action.id if action is not None else "",
                "position": ex.position or "",
                "started_at": ex.started_at.isoformat() if ex.started_at else "",
            },
        )
        ctx["contact"] = ex.contact
        ctx["event"] = ex.trigger_event
        return ctx

    def _zone(self, u: Unit) -> Any:
        wf = u.wf
        return zone(str(u.ex.contact.get("timezone") or ""), wf.settings.timezone if wf else "")

    def _quiet_hours_end(self, u: Unit) -> datetime | None:
        wf = u.wf
        if wf is None or not wf.settings.HasField("quiet_hours"):
            return None
        quiet = wf.settings.quiet_hours
        if not quiet.start or not quiet.end:
            return None
        try:
            return quiet_hours_end(u.now, quiet.start, quiet.end, self._zone(u))
        except ValueError:
            return None


def hand_to_resume_job(topology: Topology, ex: Execution, now: datetime) -> messages.Outgoing:
    """Makes the locked execution wait for a fresh RESUME job, and returns that job for the outbox.

    Used when one job has run its share of steps (the step bound) and by the sweeper for an
    execution nothing drives any more; only the job carrying the new token may drive it next.
    """
    token = new_token()
    ex.wait_token, ex.wait_kind, ex.driver_token = token, "resume", None
    ex.updated_at = now
    return messages.job(
        topology,
        org_id=ex.org_id,
        execution_id=ex.id,
        priority=ex.priority,
        reason=jobs_pb2.JOB_REASON_RESUME,
        token=token,
        msg_id=f"resume:{token}",
        now=now,
    )


def step_key(execution_id: str, position: str, attempt: int) -> str:
    """The idempotency key of one attempt of one step."""
    return f"exec:{execution_id}:step:{position}:attempt:{attempt}"


def apply_contact_changes(contact: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """The snapshot with an action's ``contact_changes`` applied (see ``ActionResult``)."""
    result = dict(contact)  # shallow: every change below replaces a value, none edits one in place
    for key, add, remove in (("tags", "add_tags", "remove_tags"), ("lists", "add_lists", "remove_lists")):
        values = list(result.get(key) or [])
        for item in changes.get(add) or []:
            if item not in values:
                values.append(item)
        dropped = set(changes.get(remove) or [])
        result[key] = [item for item in values if item not in dropped]
    fields = changes.get("fields")
    if isinstance(fields, Mapping):
        result["fields"] = {**(result.get("fields") or {}), **plain(dict(fields))}
    if isinstance(changes.get("score"), int | float):
        result["score"] = changes["score"]
    if isinstance(changes.get("score_delta"), int | float):
        result["score"] = (result.get("score") or 0) + changes["score_delta"]
    for key in ("assigned_user", "assigned_team"):
        if changes.get(key):
            result[key] = changes[key]
    return result


def _may_drive(ex: Execution, driver: str) -> bool:
    return ex.status in RUNNABLE and ex.wait_token is None and (not driver or driver == ex.driver_token)


def _when(ts: Any) -> datetime | None:
    """A set protobuf Timestamp as an aware datetime, else None."""
    if ts is None or (ts.seconds == 0 and ts.nanos == 0):
        return None
    moment: datetime = ts.ToDatetime(tzinfo=UTC)
    return moment


def _ms(start: datetime, end: datetime) -> int:
    return max(0, math.floor((end - start).total_seconds() * 1000))


def _execution_event(
    ex: Execution, kind: lifecycle_pb2.ExecutionEventKind, event_id: str, **fields: Any
) -> lifecycle_pb2.ExecutionEvent:
    """A lifecycle event of ``ex``: its identity fields, and the event's own ``fields``."""
    return lifecycle_pb2.ExecutionEvent(
        id=event_id,
        kind=kind,
        organization_id=ex.org_id,
        execution_id=ex.id,
        automation_id=ex.automation_id,
        automation_version=ex.automation_version,
        contact_id=ex.contact_id,
        converted=ex.converted,
        **fields,
    )


def json_safe(value: Any) -> Any:
    """``value`` as plain JSON (whole floats as ints); anything else JSON lacks becomes text.

    The same as a round trip through ``json.dumps(value, default=str)`` and :func:`plain`, which
    it takes only for what is not already plain JSON: action outputs, variables and contacts
    nearly always are, and walking them costs a fraction of serializing and parsing them.
    """
    kind = type(value)
    if value is None or kind is str or kind is bool or kind is int:
        return value
    if kind is float:
        return int(value) if value.is_integer() and abs(value) < 2**53 else value
    if kind is list or kind is tuple:
        return [json_safe(item) for item in value]
    if kind is dict and all(type(key) is str for key in value):
        return {key: json_safe(item) for key, item in value.items()}
    return plain(json.loads(json.dumps(value, default=str)))
