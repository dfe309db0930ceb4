"""Fires time-based triggers when due (docs/decisions/0038-time-based-triggers.md).

Every pending fire is a row of ``scheduled_fires`` with its ``due_at``. Any replica claims a due
row with ``FOR UPDATE SKIP LOCKED`` (replicas share the work and never wait on each other) and,
in one transaction:

* a deferred event (``delay``, ``time_window``, ``business_hours``) starts its contact's execution
  with the original event, enrollment key ``(automation, event id)``;
* a clock-driven fire for the organization starts one contact-less execution; for an audience it
  takes one keyset page of contacts (``schedule_page_size``), enrolls them all with one set-based
  statement (:meth:`~beez.trigger.repository.Repository.enroll_many`, the path ingestion uses) and
  writes their START jobs to the outbox (or holds them for the organization's start credit, as
  ingestion does, decision 0039), then records the last contact id in the row's
  ``cursor``; the next transaction takes the next page;
* after the last page the row is deleted and the next occurrence stored, in the same
  transaction.

Each contact's event id is derived from (automation, contact, due instant), so a page done twice
(a crash after commit but before the next, or two replicas) starts nobody twice: the enrollment
key refuses the second. A fire that fell due while the stack was down is claimed once when it
comes back; its next occurrence is computed after *now*, so missed occurrences are not replayed
one by one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from beez.api.messages.v1.events_pb2 import Event
from beez.kit.bus.outbox import OutboxMessage
from beez.kit.bus.topology import Topology
from beez.kit.clock import Clock
from beez.kit.db import Database
from beez.kit.logging import get_logger
from beez.kit.loops import repeat_rounds
from beez.trigger.credits import StartCredits
from beez.trigger.domain.index import CompiledTriggers
from beez.trigger.domain.jobs import start_job
from beez.trigger.domain.schedules import Plans, audience_query, fired_event, next_fires
from beez.trigger.projection import on_contact_deleted
from beez.trigger.repository import Repository, transactional
from beez.trigger.repository.automations import IndexedAutomation
from beez.trigger.repository.schedules import DEFERRED, RECURRENCE, DueFire
from beez.trigger.starts import plan_start
from beez.workflow.conditions import CompiledCondition, compile_conditions
from beez.workflow.context import build_context
from beez.workflow.errors import ConditionBudgetError, ConditionError
from beez.workflow.model import conditions_from_json

log = get_logger(__name__)


@on_contact_deleted
async def cancel_fires_of_deleted_contacts(
    repo: Repository, org_id: str, contact_ids: Sequence[str], now: datetime
) -> None:
    """A deleted contact's pending fires go with it, in the transaction that deleted it."""
    await repo.cancel_contact_fires(org_id, contact_ids)


@dataclass(frozen=True, slots=True)
class Fired:
    """What one transaction of the scheduler did."""

    fire_id: str
    started: int
    done: bool


class Scheduler:
    """Claims due fires and starts their executions; one per process."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        topology: Topology,
        triggers: CompiledTriggers,
        plans: Plans,
        credits: StartCredits,
        *,
        page_size: int = 1000,
        interval: float = 1.0,
    ) -> None:
        self._db = db
        self._clock = clock
        self._topology = topology
        self._triggers = triggers
        self._plans = plans
        self._credits = credits
        self._page = page_size
        self._interval = interval
        self._audiences: dict[tuple[str, int], CompiledCondition | Literal[False] | None] = {}
        self.started = 0
        """Executions this scheduler has enrolled (for tests and the bench)."""

    async def fire_once(self) -> Fired | None:
        """One transaction: one due fire (or one page of it); None when nothing is due."""
        now = self._clock.now()
        fired = await transactional(self._db, lambda repo: self._fire(repo, now))
        if fired is not None:
            self.started += fired.started
        return fired

    async def drain(self, limit: int = 1_000_000) -> int:
        """Fires everything due now; returns how many transactions it took."""
        rounds = 0
        while rounds < limit and await self.fire_once() is not None:
            rounds += 1
        return rounds

    async def run(self) -> None:
        """Drains due fires every ``interval`` seconds of wall time until cancelled."""

        async def round_() -> int:
            handled = 0
            while handled < 100 and await self.fire_once() is not None:
                handled += 1
            return handled

        await repeat_rounds(round_, interval=self._interval, full=100, what="firing schedules")

    async def cancel(self, org_id: str, fire_id: str) -> bool:
        """Cancels one of the organization's pending fires (CancelScheduledFire); False when it
        has none by that id (another organization's fire included).

        A deferred event's fire is dropped. A schedule's occurrence is skipped: its row goes and
        the next occurrence (of the same zone group) is planned, so cancelling never ends a
        recurring trigger (deactivate the automation for that). An occurrence part-way through
        its audience (a cursor) stops there: contacts already enrolled keep their executions,
        the rest are not enrolled. The lock waits for a scheduler holding the row, so a page in
        flight commits first and nothing is enrolled after the cancel returns.
        """
        now = self._clock.now()

        async def work(repo: Repository) -> bool:
            fire = await repo.lock_fire(org_id, fire_id)
            if fire is None:
                return False
            await repo.fire_done(fire.id)
            if fire.kind == RECURRENCE and fire.active and fire.workflow and fire.version is not None:
                compiled = self._triggers.get(fire.automation_id, fire.version, fire.workflow)
                plan = self._plans.get(fire.automation_id, fire.version, compiled.workflow)
                if plan is not None:
                    after = max(fire.due_at, now)
                    rows = next_fires(plan, fire.org_id, fire.automation_id, after, fire.zones)
                    await repo.store_fires(rows, now)
            log.info(
                "scheduled fire cancelled", automation_id=fire.automation_id, org_id=org_id, fire_id=fire_id
            )
            return True

        return await transactional(self._db, work)

    async def _fire(self, repo: Repository, now: datetime) -> Fired | None:
        claimed = await repo.claim_due(now, 1)
        if not claimed:
            return None
        fire = claimed[0]
        if not fire.active or not fire.workflow or fire.version is None:
            await repo.fire_done(fire.id)  # deactivated or deleted meanwhile
            return Fired(fire.id, 0, True)
        automation = IndexedAutomation(
            fire.automation_id,
            fire.version,
            None,
            fire.priority or "normal",
            bool(fire.run_once),
            fire.max_executions or 0,
            fire.reentry or "",
            fire.max_concurrent_per_contact or 1,
            fire.workflow,
        )
        compiled = self._triggers.get(fire.automation_id, fire.version, fire.workflow)
        plan = self._plans.get(fire.automation_id, fire.version, compiled.workflow)
        if fire.kind == DEFERRED:
            assert fire.event is not None
            started = await self._start(
                repo, fire, automation, [Event.FromString(bytes(fire.event))], now, False
            )
            await repo.fire_done(fire.id)
            return Fired(fire.id, started, True)
        if plan is None:
            await repo.fire_done(fire.id)
            return Fired(fire.id, 0, True)
        done = True
        if not plan.audience.per_contact:
            event = fired_event(plan, fire.org_id, fire.automation_id, fire.due_at, None)
            started = await self._start(repo, fire, automation, [event], now, True)
        else:
            query = audience_query(plan, fire.org_id, fire.due_at, fire.zones, fire.default_zone)
            page = await repo.audience_page(query, fire.cursor or "", self._page)
            audience = self._audience(fire.automation_id, fire.version, plan.audience.conditions)
            events = [fired_event(plan, fire.org_id, fire.automation_id, fire.due_at, row) for row in page]
            if audience is False:
                events = []
            elif audience is not None:
                events = [e for e in events if _holds(audience, e, now)]
            started = await self._start(repo, fire, automation, events, now, True)
            if len(page) == self._page:
                done = False
                await repo.fire_progress(fire.id, page[-1].contact_id)
        if done:
            await repo.fire_done(fire.id)
            after = max(fire.due_at, now)
            await repo.store_fires(next_fires(plan, fire.org_id, fire.automation_id, after, fire.zones), now)
        if started:
            log.info("schedule fired", automation_id=fire.automation_id, org_id=fire.org_id, started=started)
        return Fired(fire.id, started, done)

    async def _start(
        self,
        repo: Repository,
        fire: DueFire,
        automation: IndexedAutomation,
        events: list[Event],
        now: datetime,
        check_conditions: bool,
    ) -> int:
        """Enrolls one execution per event (entry conditions holding) and writes their STARTs."""
        compiled = self._triggers.get(automation.automation_id, automation.version, automation.workflow)
        planned = [
            plan_start(fire.org_id, automation, compiled.workflow, event, now)
            for event in events
            if not check_conditions or compiled.conditions_hold(build_context(event, None), now)
        ]
        if not planned:
            return 0
        enrolled = await repo.enroll_many([request for request, _ in planned])
        new = [
            (fire.org_id, request.enrollment.execution_id)
            for request, _ in planned
            if request.enrollment.execution_id in enrolled
        ]
        held, released = await self._credits.admit(repo, new, now)  # decision 0039, as ingestion
        jobs: list[OutboxMessage] = [
            start_job(self._topology, fire.org_id, request.enrollment.execution_id, start, now)
            for request, start in planned
            if request.enrollment.execution_id in enrolled and request.enrollment.execution_id not in held
        ]
        await repo.enqueue([*jobs, *released])
        return len(new)

    def _audience(
        self, automation_id: str, version: int, conditions: tuple[object, ...]
    ) -> CompiledCondition | Literal[False] | None:
        """The compiled conditions of a condition audience (None: no conditions; False: they do
        not compile, and nobody is started rather than everybody)."""
        key = (automation_id, version)
        if key not in self._audiences:
            compiled: CompiledCondition | Literal[False] | None = None
            if conditions:
                parsed, issues = conditions_from_json(list(conditions), "audience.conditions")
                try:
                    compiled = False if issues else compile_conditions(parsed)
                except ConditionError as exc:
                    log.error(
                        "audience conditions do not compile", automation_id=automation_id, error=str(exc)
                    )
                    compiled = False
            if len(self._audiences) > 4096:
                self._audiences.clear()
            self._audiences[key] = compiled
        return self._audiences[key]


def _holds(audience: CompiledCondition, event: Event, now: datetime) -> bool:
    """Whether a contact is in a condition audience; conditions too costly for it say no."""
    try:
        return audience.evaluate(build_context(event, None), now)
    except ConditionBudgetError:
        return False
