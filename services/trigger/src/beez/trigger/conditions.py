"""The condition sweep: time-dependent condition triggers re-evaluated as days pass.

A ``date_range`` condition ("renewal_date within the next 30 days") becomes true or false for a
contact without any change to the contact. Every ``interval`` seconds, for each active
``date_range`` automation, :class:`ConditionSweep` asks the ``contact_dates`` index (never a scan
of contacts) for the contacts whose date now lies in the range and whose state is not matched
(they enter: the automation starts for them, through the same enrollment as an event would) and
for the matched ones whose date left it (they re-arm). Each automation's round is one
transaction and handles at most ``batch`` contacts each way; the rest wait for the next round.

Rolling windows (``behavior_pattern``, ``engagement_level``: N events within the last D days)
lose counts as days pass with no change to the contact. Once per UTC day (per process) the sweep
pages, for each such automation, the contacts whose state is matched (``condition_states``, by
``contact_id``; never a scan of contacts), re-evaluates them on their locked rows and flips
those it no longer holds for to not matched: they re-arm, and the next time the condition
becomes true starts them again as the automation's re-entry settings allow. A state that is not
matched and becomes true by the window sliding (``engagement_level`` ``low``) is not looked for:
that would be a scan; the contact's next event evaluates it.

A sweep's start is keyed by ``condition:<automation>:<contact>:<day>`` as its event id, so two
replicas sweeping at once, or a sweep retried after a crash, start it once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date

from beez.api.messages.v1.events_pb2 import Event
from beez.kit.bus.topology import Topology
from beez.kit.clock import Clock
from beez.kit.db import Database
from beez.kit.logging import get_logger
from beez.kit.loops import repeat_rounds
from beez.trigger.domain.conditions import ROLLING_WINDOW, TIME_DEPENDENT, date_range_bounds
from beez.trigger.domain.jobs import start_job
from beez.trigger.domain.projection import view
from beez.trigger.projection import Projector, contact_proto, subject_of
from beez.trigger.repository import Repository, transactional
from beez.trigger.repository.contacts import ConditionAutomation, states_statement
from beez.trigger.starts import plan_start
from beez.workflow.context import build_context
from beez.workflow.model import struct_to_dict

log = get_logger(__name__)

CONDITION_MATCHED = "condition.matched"
"""The type of the event a sweep's start carries (it was no event of the contact's)."""

_FAR_PAST = date(1, 1, 1)
_FAR_FUTURE = date(9999, 12, 31)


@dataclass(frozen=True, slots=True)
class SweepRound:
    """What one round did: starts enrolled and states re-armed."""

    started: int = 0
    rearmed: int = 0


class ConditionSweep:
    """Re-evaluates time-dependent condition triggers through the ``contact_dates`` index."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        topology: Topology,
        projector: Projector,
        *,
        interval: float = 300.0,
        batch: int = 10_000,
    ) -> None:
        self._db = db
        self._clock = clock
        self._topology = topology
        self._projector = projector
        self._interval = interval
        self._batch = batch
        self._windows: dict[str, tuple[date, str]] = {}
        """Per rolling-window automation: the UTC day of its pass and the last contact it paged
        (``""`` once the pass is done)."""

    async def sweep(self) -> SweepRound:
        """One round over every active time-dependent condition automation."""
        swept = await transactional(
            self._db, lambda repo: repo.swept_condition_automations(sorted(TIME_DEPENDENT | ROLLING_WINDOW))
        )
        started = rearmed = 0
        for org_id, automation in swept:
            done = await transactional(self._db, self._round_of(org_id, automation))
            started += done.started
            rearmed += done.rearmed
        if started or rearmed:
            log.info("condition sweep", started=started, rearmed=rearmed)
        return SweepRound(started, rearmed)

    def _round_of(
        self, org_id: str, automation: ConditionAutomation
    ) -> Callable[[Repository], Awaitable[SweepRound]]:
        if automation.trigger_type in ROLLING_WINDOW:
            return lambda repo: self._window(repo, org_id, automation)
        return lambda repo: self._one(repo, org_id, automation)

    async def _window(self, repo: Repository, org_id: str, automation: ConditionAutomation) -> SweepRound:
        """One page of the day's pass over the contacts a rolling-window condition holds for:
        those it no longer holds for (the window emptied) re-arm."""
        now = self._clock.now()
        today = now.astimezone(UTC).date()
        day, after = self._windows.get(automation.automation_id, (None, ""))
        if day == today and not after:
            return SweepRound()  # today's pass is done: a count within a window only moves by day
        if day != today:
            after = ""
        condition = self._projector.condition(automation)
        page = await repo.matched_contacts(automation.automation_id, after, self._batch)
        self._windows[automation.automation_id] = (today, page[-1] if len(page) == self._batch else "")
        if not page or condition is None:
            return SweepRound()
        leaving = [
            state.contact_id
            for state in await repo.lock_contacts(org_id, page, now)
            if state.deleted or not condition.holds(subject_of(state, view(state)), now)
        ]
        if leaving:
            states = {(automation.automation_id, contact_id): False for contact_id in leaving}
            await repo.run([states_statement(org_id, states, now)])
        return SweepRound(0, len(leaving))

    async def _one(self, repo: Repository, org_id: str, automation: ConditionAutomation) -> SweepRound:
        now = self._clock.now()
        today = now.astimezone(UTC).date()
        compiled = self._projector.triggers.get(
            automation.automation_id, automation.version, automation.workflow
        )
        config = struct_to_dict(compiled.workflow.trigger.config)
        low, high = date_range_bounds(config, today)
        entering, leaving = await repo.date_range_changes(
            org_id,
            automation.automation_id,
            str(config.get("field", "")),
            low or _FAR_PAST,
            high or _FAR_FUTURE,
            self._batch,
        )
        states = {(automation.automation_id, c): True for c in entering}
        states.update({(automation.automation_id, c): False for c in leaving})
        if not states:
            return SweepRound()
        requests = []
        outgoing = []
        if entering:
            contacts = {s.contact_id: s for s in await repo.lock_contacts(org_id, entering, now)}
            for contact_id in entering:
                state = contacts.get(contact_id)
                if state is None or state.deleted:
                    continue
                event = Event(
                    id=f"condition:{automation.automation_id}:{contact_id}:{today.isoformat()}",
                    type=CONDITION_MATCHED,
                    contact_id=contact_id,
                    contact=contact_proto(state),
                )
                event.occurred_at.FromDatetime(now)
                event.data.update(
                    {"automation_id": automation.automation_id, "trigger_type": automation.trigger_type}
                )
                if not compiled.conditions_hold(build_context(event, None), now):
                    continue
                requests.append(plan_start(org_id, automation, compiled.workflow, event, now))
        await repo.run([states_statement(org_id, states, now)])
        enrolled = await repo.enroll_many([request for request, _ in requests]) if requests else set()
        for request, start in requests:
            execution_id = request.enrollment.execution_id
            if execution_id in enrolled:
                outgoing.append(start_job(self._topology, org_id, execution_id, start, now))
        if outgoing:
            await repo.enqueue(outgoing)
        return SweepRound(len(outgoing), len(leaving))

    async def run(self) -> None:
        """Sweeps every ``interval`` seconds of wall time until cancelled; failures are logged."""

        async def round_() -> int:
            done = await self.sweep()
            return done.started + done.rearmed

        await repeat_rounds(
            round_, interval=self._interval, full=self._batch, what="sweeping condition triggers"
        )
