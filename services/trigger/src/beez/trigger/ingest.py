"""Ingestion: one function turns events into enrollments, start jobs and wait signals.

Both ways in (the PublishEvent(s) RPCs and the ``events.>`` consumer) call :meth:`Ingestor.ingest`.
For a list of events of one organization it runs ONE transaction (retried whole after a
deadlock) which, per event in order (docs/decisions/0004):

1. records the event in ``events`` keyed ``(org_id, event_id)``; a known key (or the same id
   earlier in the list) is a duplicate: it is answered ``accepted=False`` and does nothing else;
2. finds the active automations indexed under ``(org, type)`` (plus, for
   ``automation.triggered``, the automation named by ``data.automation_id`` whatever its trigger
   type), checks trigger filters on the event data and entry conditions on the event's context,
   then takes the enrollment keys (see :class:`~beez.trigger.domain.index.EnrollmentPolicy`) and the
   enrollment row, unique ``(automation_id, event_id)``;
3. writes ``Job{START}`` for each enrollment to the outbox, unless its organization is over its
   start credit: then the START waits in its enrollment row (:mod:`beez.trigger.credits`);
4. matches the event against the open waits of its contact, closes each matching wait and
   writes ``Job{SIGNAL}`` for it.

Events of one list share one transaction, and later events see what earlier ones did (a slot
taken, a wait closed), so per-event semantics are those of one transaction per event, at a
fraction of the round trips.

``automation.triggered`` starts its target through the same settings and entry conditions,
but not the target's trigger filters, which describe the target's own trigger event.

``automation.completed`` (published by the lifecycle consumer when an execution ends) never
starts the automation whose execution ended, so an automation cannot retrigger itself.

Events without a contact id start contact-less executions: runOnce, reentry and
maxConcurrentPerContact need a contact and do not apply; maxExecutions does. They match no
waits.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from beez.api.messages.v1.events_pb2 import Event
from beez.api.messages.v1.jobs_pb2 import ExecutionStart
from beez.kit.bus.outbox import OutboxMessage
from beez.kit.bus.topology import Topology
from beez.kit.clock import Clock
from beez.kit.db import Database
from beez.kit.grpc.errors import FieldViolation, InvalidArgument
from beez.kit.logging import get_logger
from beez.kit.telemetry import span, tracer
from beez.trigger.credits import StartCredits
from beez.trigger.domain.index import (
    AUTOMATION_COMPLETED,
    AUTOMATION_TRIGGERED,
    CompiledTriggers,
)
from beez.trigger.domain.jobs import signal_job, start_job
from beez.trigger.domain.schedules import Plans, deferral
from beez.trigger.domain.validation import normalize_event
from beez.trigger.domain.waits import OpenWait, WaitMatcher
from beez.trigger.projection import Projector
from beez.trigger.repository import Repository, transactional
from beez.trigger.repository.automations import IndexedAutomation
from beez.trigger.repository.enrollments import EnrollRequest
from beez.trigger.repository.schedules import FireRow
from beez.trigger.starts import plan_start
from beez.workflow.context import build_context
from beez.workflow.model import struct_to_dict
from beez.workflow.schedules import DEFAULT_MIN_INTERVAL_S, EVENT_DEFERRED

log = get_logger(__name__)
_tracer = tracer(__name__)


@dataclass(frozen=True, slots=True)
class Ingested:
    """What became of one event."""

    event_id: str
    accepted: bool
    execution_ids: tuple[str, ...] = ()
    signals: int = 0


class Ingestor:
    """Validates and ingests events; one instance per process (it holds the compiled caches)."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        topology: Topology,
        *,
        max_event_bytes: int | Callable[[], int],
        compiled_cache_size: int,
        credits: StartCredits | None = None,
        counter_retention_days: int = 90,
        condition_cache_size: int = 100_000,
        min_schedule_interval_s: float = DEFAULT_MIN_INTERVAL_S,
    ) -> None:
        """``credits``: the organizations' start credits (decision 0039); None sends every START."""
        self._db = db
        self.credits = credits or StartCredits(topology, 0)
        self._clock = clock
        self._topology = topology
        self._max_event_bytes = max_event_bytes if callable(max_event_bytes) else (lambda: max_event_bytes)
        """The event size limit, read at each call (it follows the server's max_payload)."""
        self.triggers = CompiledTriggers(compiled_cache_size)
        self.plans = Plans(min_schedule_interval_s, compiled_cache_size)
        """Plans of time-based triggers an event sets off (delay, time window, business hours)."""
        self.waits = WaitMatcher()
        self.projector = Projector(
            self.triggers, retention_days=counter_retention_days, cache_size=condition_cache_size
        )

    def prepare(self, org_id: str, events: Sequence[Event], paths: Sequence[str]) -> list[Event]:
        """Completed copies of ``events``; raises InvalidArgument listing every problem.

        ``paths`` name each event in violations (``events[3]``); nothing is written.
        """
        now = self._clock.now()
        max_bytes = self._max_event_bytes()
        prepared: list[Event] = []
        violations: list[FieldViolation] = []
        for event, path in zip(events, paths, strict=True):
            normalized, problems = normalize_event(event, org_id, now, path, max_bytes)
            prepared.append(normalized)
            violations.extend(problems)
        if violations:
            raise InvalidArgument(f"{len(violations)} invalid field(s) in the events", violations)
        return prepared

    async def ingest(self, org_id: str, events: Sequence[Event]) -> list[Ingested]:
        """Ingests prepared events of ``org_id`` in one transaction; one result per event, in order."""
        return await self.ingest_many([(org_id, event) for event in events])

    async def ingest_many(self, items: Sequence[tuple[str, Event]]) -> list[Ingested]:
        """Ingests prepared events of one or more organizations in one transaction.

        Each organization's events are ingested together, organizations in sorted order; one
        result per item, in order. Many organizations sharing one commit is what keeps the cost
        per event low when events come from many tenants at once, one or two each.
        """
        by_org: dict[str, list[Event]] = defaultdict(list)
        for org_id, event in items:
            by_org[org_id].append(event)

        async def work(repo: Repository) -> dict[str, list[Ingested]]:
            return await self._ingest(repo, {org_id: by_org[org_id] for org_id in sorted(by_org)})

        with span(
            _tracer,
            "trigger.ingest",
            attributes=lambda: {"beez.orgs": len(by_org), "beez.events": len(items)},
        ):
            results = await transactional(self._db, work)
        for org_id, ingested in results.items():
            started = sum(len(outcome.execution_ids) for outcome in ingested)
            signals = sum(outcome.signals for outcome in ingested)
            if started or signals:
                log.info(
                    "events ingested", org_id=org_id, events=len(ingested), started=started, signals=signals
                )
        ordered = {org_id: iter(ingested) for org_id, ingested in results.items()}
        return [next(ordered[org_id]) for org_id, _ in items]

    async def _ingest(self, repo: Repository, by_org: dict[str, list[Event]]) -> dict[str, list[Ingested]]:
        """Ingests each organization's events, in the given order of organizations.

        The work is set-based across organizations: one round trip records every event and
        reads what matching needs, one statement enrolls every match, one writes every job.
        What differs per organization (its automations, its waits) is matched in memory.
        """
        now = self._clock.now()
        unique = {org_id: _first_of_each_id(events) for org_id, events in by_org.items()}
        lookups = await repo.ingest_lookups(
            [
                (org_id, events, {named for named in map(_triggered_automation, events) if named is not None})
                for org_id, events in unique.items()
            ],
            now,
        )
        closed: set[str] = set()
        outgoing: list[OutboxMessage] = []
        planned: list[tuple[str, str, EnrollRequest, ExecutionStart]] = []
        deferred: list[FireRow] = []
        signals: dict[tuple[str, str], int] = {}  # by (organization, event id): ids are per organization
        fresh_of: dict[str, list[Event]] = {}
        projected: list[tuple[str, str, EnrollRequest, ExecutionStart]] = []
        for (org_id, events), (new_ids, automations, open_waits, contacts) in zip(
            unique.items(), lookups, strict=True
        ):
            fresh = fresh_of[org_id] = [event for event in events if event.id in new_ids]
            if not fresh:
                continue
            if contacts:
                outcome = await self.projector.apply(repo, org_id, fresh, contacts, now)
                projected.extend(
                    (org_id, event_id, request, start) for event_id, request, start in outcome.starts
                )
            by_type: dict[str, list[IndexedAutomation]] = defaultdict(list)
            by_id: dict[str, IndexedAutomation] = {}
            for automation in automations:
                by_id[automation.automation_id] = automation
                if automation.event_type:
                    by_type[automation.event_type].append(automation)
            waits: dict[str, list[OpenWait]] = defaultdict(list)
            for wait in open_waits:
                waits[wait.contact_id].append(wait)
            for event in fresh:
                data = struct_to_dict(event.data)
                context = build_context(event, None)
                planned.extend(
                    (org_id, event.id, request, start)
                    for request, start in self._plan(
                        org_id, event, data, context, by_type, by_id, now, deferred
                    )
                )
                signals[org_id, event.id] = await self._signal(
                    repo, org_id, event, data, context, waits.get(event.contact_id, []), closed, outgoing, now
                )
        planned.extend(projected)
        enrolled = await repo.enroll_many([request for _, _, request, _ in planned]) if planned else set()
        new = [
            (org_id, r.enrollment.execution_id)
            for org_id, _, r, _ in planned
            if r.enrollment.execution_id in enrolled
        ]
        held, released = await self.credits.admit(repo, new, now)
        started: dict[tuple[str, str], list[str]] = defaultdict(list)
        for org_id, event_id, request, start in planned:
            execution_id = request.enrollment.execution_id
            if execution_id in enrolled:
                if execution_id not in held:
                    outgoing.append(start_job(self._topology, org_id, execution_id, start, now))
                started[org_id, event_id].append(execution_id)
        outgoing.extend(released)
        if outgoing:
            await repo.enqueue(outgoing)
        if deferred:
            await repo.store_fires(deferred, now)
        results: dict[str, list[Ingested]] = {}
        for org_id, events in by_org.items():
            outcomes: dict[str, Ingested | None] = {
                event.id: Ingested(
                    event.id, True, tuple(started[org_id, event.id]), signals[org_id, event.id]
                )
                for event in fresh_of[org_id]
            }
            # a repeated id is accepted once, the first time
            results[org_id] = [outcomes.pop(event.id, None) or Ingested(event.id, False) for event in events]
        return results

    def _plan(
        self,
        org_id: str,
        event: Event,
        data: dict[str, Any],
        context: dict[str, Any],
        by_type: dict[str, list[IndexedAutomation]],
        by_id: dict[str, IndexedAutomation],
        now: datetime,
        deferred: list[FireRow],
    ) -> Iterator[tuple[EnrollRequest, ExecutionStart]]:
        """The enrollments ``event`` asks for: each matching automation whose filters and entry
        conditions hold, with the keys its policy takes and the START it would send.

        A time-based trigger an event sets off (``delay``, or ``time_window``/``business_hours``
        outside their hours) is added to ``deferred`` instead: the scheduler starts it when due
        (decision 0038)."""
        candidates: dict[str, tuple[IndexedAutomation, bool]] = {}
        for automation in by_type.get(event.type, []):
            candidates[automation.automation_id] = (automation, True)
        target = _triggered_automation(event)
        if target is not None and target in by_id and target not in candidates:
            candidates[target] = (by_id[target], False)
        for automation, check_filters in candidates.values():
            compiled = self.triggers.get(automation.automation_id, automation.version, automation.workflow)
            if check_filters and not compiled.filters_hold(data):
                continue
            if event.type == AUTOMATION_COMPLETED and data.get("automation_id") == automation.automation_id:
                continue  # an automation never fires on its own executions' ends: that would loop
            if not compiled.conditions_hold(context, now):
                continue
            if compiled.workflow.trigger.type in EVENT_DEFERRED and check_filters:
                time_plan = self.plans.get(automation.automation_id, automation.version, compiled.workflow)
                if time_plan is None:
                    continue
                later = deferral(time_plan, org_id, automation.automation_id, event, now)
                if later is not None:
                    deferred.append(later)
                    continue
            yield plan_start(org_id, automation, compiled.workflow, event, now)

    async def _signal(
        self,
        repo: Repository,
        org_id: str,
        event: Event,
        data: dict[str, Any],
        context: dict[str, Any],
        waits: list[OpenWait],
        closed: set[str],
        outgoing: list[OutboxMessage],
        now: datetime,
    ) -> int:
        fired = 0
        for wait in waits:
            if wait.id in closed:
                continue
            signal = self.waits.signal(wait, event.type, data, context, now)
            if signal is None:
                continue
            closed.add(wait.id)
            if await repo.close_wait(org_id, wait.id, "fired", now):
                outgoing.append(
                    signal_job(
                        self._topology, org_id, wait.execution_id, wait.id, signal, event, wait.priority, now
                    )
                )
                fired += 1
        return fired


def _first_of_each_id(events: Sequence[Event]) -> list[Event]:
    """``events`` without the repeats of an id, in order."""
    seen: set[str] = set()
    unique: list[Event] = []
    for event in events:
        if event.id not in seen:
            seen.add(event.id)
            unique.append(event)
    return unique


def _triggered_automation(event: Event) -> str | None:
    """The automation an ``automation.triggered`` event names, if any."""
    if event.type != AUTOMATION_TRIGGERED:
        return None
    value = event.data.fields.get("automation_id")
    if value is None or value.WhichOneof("kind") != "string_value" or not value.string_value:
        return None
    return value.string_value
