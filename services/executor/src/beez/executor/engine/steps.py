"""Running steps: from an execution's position until it waits, ends, or meets an external action.

Internal steps (control types and local actions, ``catalog.is_local``) follow each
other in one transaction, up to ``CHAIN_MAX`` steps: they have no effect outside this database,
so a crash rolls them back together and the redelivered job runs them again. An external action
ends the chain: its ``running`` attempt is committed with whatever preceded it before the
provider is called, as the step protocol requires (see :mod:`.attempts`).

* ``delay`` applies to any step, control types included, before it runs.
* Each step run and each message sent counts against the organization's caps
  (:mod:`.limits`); a step that would go past one fails the execution with ``limit_exceeded``.
* Quiet hours hold back the steps that reach a contact on a channel (email, WhatsApp, SMS:
  ``catalog.channel``); Slack goes to the team and is not held back.
* Send limits (:mod:`.send_limits`) hold back an external action over its organization's rate, on a
  ``rate_limit`` timer, before any attempt begins; so does the rate limit of the organization's
  connection the step uses (:mod:`.integrations`, timer kind ``rate_limit:<provider>``).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, timedelta

from beez.executor.engine import state
from beez.executor.engine.attempts import ActionSteps, Call, is_local
from beez.executor.engine.control import ControlSteps, goal_conditions_hold
from beez.executor.engine.events import Outbox
from beez.executor.engine.integrations import Binding, BindingError, Integrations
from beez.executor.engine.limits import LIMIT_EXCEEDED, OrganizationLimits, messages_exceeded, steps_exceeded
from beez.executor.engine.send_limits import SendLimits
from beez.executor.engine.steplog import may_drive
from beez.executor.engine.store import Store, Transaction, Unit, run_unit_of_work
from beez.executor.engine.workflows import Workflows, quiet_hours_over
from beez.kit.bus.topology import Topology
from beez.kit.clock import Clock
from beez.workflow import catalog, navigation
from beez.workflow.amplification import is_message
from beez.workflow.errors import ConditionError
from beez.workflow.intervals import add_interval
from beez.workflow.retry import MAX_BACKOFF_SECONDS
from beez.workflow.status import ExecutionStatus
from beez.workflow.waits import WaitKind

CHAIN_MAX = 50
"""Most internal steps one transaction runs, so a long internal loop still commits now and then."""


class StepRunner:
    """Runs the steps of executions; see the module docstring."""

    def __init__(
        self,
        store: Store,
        topology: Topology,
        clock: Clock,
        workflows: Workflows,
        actions: ActionSteps,
        *,
        max_steps_per_job: int,
        limits: OrganizationLimits,
        send_limits: SendLimits | None = None,
        integrations: Integrations | None = None,
    ) -> None:
        self.store = store
        self.integrations = integrations
        self.send_limits = send_limits
        self.topology = topology
        self.clock = clock
        self.workflows = workflows
        self.actions = actions
        self.control = ControlSteps(workflows)
        self.max_steps = max_steps_per_job
        self.limits = limits

    async def run(self, execution_id: str, driver: str = "", done: int = 0) -> None:
        """Runs steps until the execution waits or ends, then hands over if the bound was hit."""
        while done < self.max_steps:
            more, steps = await self.step(execution_id, driver, self.max_steps - done)
            if not more:
                return
            done += steps
            await asyncio.sleep(0)
        await self.hand_over(execution_id, driver)

    async def step(self, execution_id: str, driver: str, budget: int = 1) -> tuple[bool, int]:
        """Runs steps from the execution's position: (whether the next may run at once, steps run)."""

        async def work(tx: Transaction, outbox: Outbox) -> tuple[bool | Call, int]:
            execution = await tx.lock_execution(execution_id)
            if execution is None or not may_drive(execution, driver):
                return False, 0
            unit = Unit(tx, outbox, execution, tx.rows(execution.id), self.clock.now())
            return await self.chain(unit, budget)

        advanced, done = await run_unit_of_work(self.store, self.topology, work)
        if not isinstance(advanced, Call):
            return advanced, done
        return await self.complete(execution_id, advanced), done

    async def chain(self, unit: Unit, budget: int) -> tuple[bool | Call, int]:
        """Runs steps of the locked execution in the caller's transaction; see :meth:`step`."""
        done = 0
        while True:
            advanced = await self.advance(unit)
            done += 1
            if isinstance(advanced, Call) or not advanced or done >= min(budget, CHAIN_MAX):
                return advanced, done
            unit.now = self.clock.now()

    async def complete(self, execution_id: str, call: Call) -> bool:
        """Performs a committed ``running`` attempt, then settles it in a new transaction."""
        outcome = await self.actions.perform(call)

        async def work(tx: Transaction, outbox: Outbox) -> bool:
            execution = await tx.lock_execution(execution_id)
            if execution is None:
                return False
            unit = Unit(tx, outbox, execution, tx.rows(execution.id), self.clock.now())
            workflow = await self.workflows.load(unit)
            return await self.actions.settle(
                unit, call, navigation.action_at(workflow, call.position), outcome
            )

        return await run_unit_of_work(self.store, self.topology, work)

    async def advance(self, unit: Unit) -> bool | Call:
        """One step at the position of the locked execution, in the caller's transaction.

        True when the next step may run at once; a :class:`Call` when the step is an external
        action whose ``running`` attempt must be committed before it is performed.
        """
        execution = unit.execution
        workflow = await self.workflows.load(unit)
        if execution.status == ExecutionStatus.QUEUED:
            state.mark_running(unit)
        if execution.position is None:
            await state.finish(unit, ExecutionStatus.COMPLETED, reason="completed")
            return False
        try:
            reached = goal_conditions_hold(unit)
        except ConditionError as exc:  # e.g. too costly to evaluate on this contact's data
            await state.fail(unit, None, str(exc), "configuration")
            return False
        if reached:
            await state.finish(unit, ExecutionStatus.COMPLETED, reason="goal reached", converted=True)
            return False
        try:
            action = navigation.action_at(workflow, execution.position)
        except navigation.PositionError as exc:
            await state.fail(unit, None, str(exc), "configuration")
            return False
        if execution.phase == "start":
            limits = await self.limits.of(unit.tx, execution.org_id)
            if execution.steps_run >= limits.max_steps:
                await state.fail(unit, action, steps_exceeded(limits), LIMIT_EXCEEDED)
                return False
            execution.steps_run += 1  # this visit of the step, once whatever waits or retries follow
            execution.phase = "ready"
            looping = execution.position in execution.loops  # a loop step comes back once per iteration
            if action.HasField("delay") and action.delay.value > 0 and not looping:
                try:
                    due = add_interval(unit.now, action.delay).astimezone(UTC)
                except ValueError as exc:
                    await state.fail(unit, action, f"delay: {exc}", "configuration")
                    return False
                await state.wait_on_timer(unit, action, WaitKind.DELAY, "delay", due)
                return False
        if catalog.channel(action.type) is not None:
            quiet_end = quiet_hours_over(unit)
            if quiet_end is not None:
                await state.wait_on_timer(unit, action, WaitKind.QUIET_HOURS, "quiet_hours", quiet_end)
                return False
        if catalog.is_control(action.type):
            return await self.control.run(unit, action)
        if is_message(action.type):
            limits = await self.limits.of(unit.tx, execution.org_id)
            if execution.messages_sent >= limits.max_messages:
                await state.fail(unit, action, messages_exceeded(limits), LIMIT_EXCEEDED)
                return False
        binding: Binding | None = None
        if self.integrations is not None and not is_local(action.type):
            named = action.config.fields.get("connection")
            try:
                binding = await self.integrations.bind(
                    execution.org_id, action.type, named.string_value if named is not None else ""
                )
            except BindingError as exc:
                await state.fail(unit, action, str(exc), exc.category)
                return False
            if binding is not None:
                wait_s = await self.integrations.wait(execution.org_id, binding, unit.now)
                if wait_s is not None:  # the connection's limit: the same timer, no attempt
                    due = unit.now + timedelta(seconds=min(wait_s, MAX_BACKOFF_SECONDS))
                    kind = f"rate_limit:{binding.provider}"  # counted per provider (waiting steps)
                    await state.wait_on_timer(unit, action, WaitKind.RATE_LIMIT, kind, due)
                    return False
        if self.send_limits is not None and not is_local(action.type):
            wait_s = await self.send_limits.wait(execution.org_id, action.type)
            if wait_s is not None:  # deferred: no attempt begins, none is counted
                due = unit.now + timedelta(seconds=min(wait_s, MAX_BACKOFF_SECONDS))
                await state.wait_on_timer(unit, action, WaitKind.RATE_LIMIT, "rate_limit", due)
                return False
        call = await self.actions.begin(unit, action, binding)
        if call.local:
            outcome = await self.actions.perform(call)
            return await self.actions.settle(unit, call, action, outcome)
        return call

    async def hand_over(self, execution_id: str, driver: str) -> None:
        """Bound reached: a RESUME job (through the outbox) continues in a fresh job."""

        async def work(tx: Transaction, outbox: Outbox) -> None:
            execution = await tx.lock_execution(execution_id)
            if execution is not None and may_drive(execution, driver):
                outbox.emit(state.hand_to_resume_job(self.topology, execution, self.clock.now()))

        await run_unit_of_work(self.store, self.topology, work)
