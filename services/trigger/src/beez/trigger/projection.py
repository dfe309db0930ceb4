"""The contact projection, applied inside ingestion's transaction, and the condition triggers it fires.

:meth:`Projector.apply` runs once per organization and ingestion transaction, on the events that
transaction recorded as new (the ``events`` table dedupes ids, so a redelivered event reaches
nothing here and changes nothing). The contacts of the batch were already locked and read in
ingestion's first round trip (:func:`beez.trigger.repository.contacts.lock_statements`). Then:

1. each event is merged into its contact in memory, in order
   (:func:`beez.trigger.domain.projection.apply_event`), noting the fields it changed;
2. one statement per table writes the batch back: contacts, their dates (only where they changed),
   new custom fields into the registry (a process-wide cache skips those already registered), and
   the deltas of the numeric fields' sketches;
3. when fields changed, one statement finds the active condition automations reading one of them
   (a GIN index on ``automation_index.reads``), one reads their states for the contacts concerned,
   and each (event, automation) pair whose fields changed is evaluated in order: a condition that
   becomes true plans a start (:func:`beez.trigger.starts.plan_start`, keyed by the event id), one
   that becomes false re-arms; the states are written back in one statement;
4. for deleted contacts: their condition states go, their open waits are closed
   (``contact_deleted``), and every hook registered with :func:`on_contact_deleted` runs in the
   same transaction.

The bulk import (:mod:`beez.trigger.contacts`) goes through the same merge and writes, without
firing conditions: an import is a baseline, not a change.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from beez.api.messages.v1.events_pb2 import Contact, Event
from beez.api.messages.v1.jobs_pb2 import ExecutionStart
from beez.api.workflow.v1.workflow_pb2 import Workflow
from beez.kit.cache import BoundedCache
from beez.kit.logging import get_logger
from beez.trigger.domain import sketch
from beez.trigger.domain.conditions import ConditionTrigger, NotACondition, Subject, compile_condition
from beez.trigger.domain.index import CompiledTriggers
from beez.trigger.domain.projection import (
    ContactState,
    apply_event,
    apply_snapshot,
    changed_fields,
    custom_fields,
    dates_of,
    is_new,
    numeric_fields,
    view,
)
from beez.trigger.domain.signals import Signals
from beez.trigger.repository import Repository
from beez.trigger.repository.contacts import (
    DELETE_STATES,
    END_WAITS,
    UPSERT_CONTACTS,
    ConditionAutomation,
    condition_automation,
    conditions_statement,
    dates_statements,
    fields_statement,
    sketch_statement,
    states_statement,
    upsert_params,
)
from beez.trigger.repository.enrollments import EnrollRequest
from beez.trigger.starts import plan_start
from beez.workflow.context import build_context
from beez.workflow.model import struct_to_dict

log = get_logger(__name__)

ContactDeletedHook = Callable[[Repository, str, Sequence[str], datetime], Awaitable[None]]
"""``(repository, org_id, contact_ids, now)``: runs in the transaction that deleted the contacts."""

_ON_CONTACT_DELETED: list[ContactDeletedHook] = []


def on_contact_deleted(hook: ContactDeletedHook) -> ContactDeletedHook:
    """Registers ``hook`` to run whenever contacts are deleted, in the deleting transaction.

    For state other modules keep per contact (the scheduler's pending fires): the hook deletes
    or cancels it with the repository's connection (``repo.conn``), so a deletion and its
    consequences commit together, and a redelivered ``contact.deleted`` (already recorded) never
    runs them twice. Usable as a decorator; registering the same function twice keeps one.
    """
    if hook not in _ON_CONTACT_DELETED:
        _ON_CONTACT_DELETED.append(hook)
    return hook


def contact_deleted_hooks() -> tuple[ContactDeletedHook, ...]:
    """The registered hooks, in registration order."""
    return tuple(_ON_CONTACT_DELETED)


@dataclass(slots=True)
class _Change:
    """One event's effect on one contact, kept for evaluating conditions in order."""

    event: Event
    contact_id: str
    changed: set[str]
    subject: Subject | None
    snapshot: Contact | None


@dataclass(slots=True)
class Projected:
    """What :meth:`Projector.apply` leaves for ingestion: the starts it planned, and counts."""

    starts: list[tuple[str, EnrollRequest, ExecutionStart]] = field(default_factory=list)
    """(event id, enrollment, START) per condition that became true."""
    contacts: int = 0
    deleted: int = 0


def contact_proto(state: ContactState) -> Contact:
    """A projected contact as the snapshot an execution's context reads."""
    contact = Contact(
        id=state.contact_id,
        email=state.email or "",
        phone=state.phone or "",
        first_name=str(state.fields.get("first_name") or ""),
        last_name=str(state.fields.get("last_name") or ""),
        tags=state.tags,
        lists=state.lists,
        score=int(state.score or 0),
        timezone=state.timezone or "",
    )
    consent = state.fields.get("consent") or {}
    contact.consent.email = bool(consent.get("email"))
    contact.consent.sms = bool(consent.get("sms"))
    contact.consent.whatsapp = bool(consent.get("whatsapp"))
    extra = {k: v for k, v in state.fields.items() if k not in ("first_name", "last_name", "consent")}
    if state.country:
        extra["country"] = state.country
    if state.lifecycle_stage:
        extra["lifecycle_stage"] = state.lifecycle_stage
    contact.fields.update(extra)
    return contact


def subject_of(state: ContactState, current: dict[str, Any]) -> Subject:
    """What conditions read of a contact (counters copied: later events of the batch change them)."""
    custom = {k: v for k, v in state.fields.items() if k not in ("first_name", "last_name", "consent")}
    return Subject(current, {k: dict(v) for k, v in state.counters.items()}, custom)


class Projector:
    """Applies events to the projection and evaluates condition triggers; one per process."""

    def __init__(self, triggers: CompiledTriggers, *, retention_days: int, cache_size: int = 100_000) -> None:
        self.triggers = triggers
        self.retention_days = retention_days
        self.signals = Signals()
        self._conditions: BoundedCache[tuple[str, int], ConditionTrigger | None] = BoundedCache(
            max_entries=max(cache_size, 16), max_bytes=1 << 40, sizeof=lambda _: 1
        )
        self._registered: BoundedCache[tuple[str, str, str], bool] = BoundedCache(
            max_entries=100_000, max_bytes=1 << 40, sizeof=lambda _: 1
        )

    def condition(self, automation: ConditionAutomation) -> ConditionTrigger | None:
        """The compiled condition of an automation version (None: it does not compile).

        Kept in a cache of its own, apart from the workflows of :class:`CompiledTriggers`: an
        organization may have tens of thousands of condition automations, and a compiled
        condition is a few hundred bytes where a workflow may be a megabyte.
        """
        key = (automation.automation_id, automation.version)
        found = self._conditions.get(key)
        if found is not None:
            return found
        trigger = Workflow.FromString(automation.workflow).trigger
        try:
            compiled: ConditionTrigger | None = compile_condition(
                trigger.type, struct_to_dict(trigger.config)
            )
        except NotACondition as exc:
            log.error(
                "condition trigger does not compile", automation_id=automation.automation_id, error=str(exc)
            )
            compiled = None
        self._conditions.put(key, compiled)
        return compiled

    async def apply(
        self,
        repo: Repository,
        org_id: str,
        events: Sequence[Event],
        rows: Sequence[ContactState],
        now: datetime,
    ) -> Projected:
        """Applies ``org_id``'s new ``events`` (in order) to its locked contact ``rows``."""
        states = {row.contact_id: row for row in rows}
        first: dict[str, tuple[dict[str, float], dict[str, date]]] = {}
        changes: list[_Change] = []
        touched: dict[str, ContactState] = {}
        deleted: list[str] = []
        for event in events:
            state = states.get(event.contact_id) if event.contact_id else None
            if state is None:
                continue
            before = view(state)
            new = is_new(state)
            if event.contact_id not in first:
                first[event.contact_id] = (numeric_fields(before), dates_of(state))
            applied = apply_event(state, event, struct_to_dict(event.data), self.retention_days, self.signals)
            if not applied.changed:
                continue
            touched[state.contact_id] = state
            if applied.deleted:
                deleted.append(state.contact_id)
                changes.append(_Change(event, state.contact_id, set(), None, None))
                continue
            after = view(state)
            fields = changed_fields(before, after, applied, new=new)
            if fields:
                changes.append(_Change(event, state.contact_id, fields, subject_of(state, after), None))
        result = Projected(contacts=len(touched), deleted=len(set(deleted)))
        if not touched:
            return result
        statements = self._writes(org_id, touched, first, now)
        changed = set().union(*(change.changed for change in changes)) if changes else set()
        if changed:
            statements.append(conditions_statement(org_id, changed, (c.contact_id for c in changes)))
        results = await repo.run(statements)
        if changed and results[-1]:
            found = [condition_automation(row) for row in results[-1]]
            result.starts = await self._evaluate(repo, org_id, changes, states, found, now)
        if deleted:
            await self.delete(repo, org_id, sorted(set(deleted)), now)
        return result

    def _writes(
        self,
        org_id: str,
        touched: dict[str, ContactState],
        first: dict[str, tuple[dict[str, float], dict[str, date]]],
        now: datetime,
    ) -> list[Any]:
        """The statements writing the touched contacts, their dates, new fields and sketch deltas."""
        ordered = [touched[c] for c in sorted(touched)]
        statements: list[Any] = [(UPSERT_CONTACTS, upsert_params(org_id, ordered, now))]
        new_dates: dict[str, dict[str, date]] = {}
        delta: sketch.Delta = {}
        new_fields: dict[str, str] = {}
        for state in ordered:
            numbers, dates = first[state.contact_id]
            final_dates = dates_of(state)
            if final_dates != dates:
                new_dates[state.contact_id] = final_dates
            sketch.move(delta, numbers, {} if state.deleted else numeric_fields(view(state)))
            for name, kind in custom_fields(state).items():
                if self._registered.get((org_id, name, kind)) is None:
                    new_fields[name] = kind
        statements += dates_statements(org_id, new_dates)
        if new_fields:
            statements.append(fields_statement(org_id, new_fields, now))
            for name, kind in new_fields.items():
                self._registered.put((org_id, name, kind), True)
        sketched = sketch_statement(org_id, delta)
        if sketched is not None:
            statements.append(sketched)
        return statements

    async def _evaluate(
        self,
        repo: Repository,
        org_id: str,
        changes: list[_Change],
        states: dict[str, ContactState],
        found: list[tuple[ConditionAutomation, set[str]]],
        now: datetime,
    ) -> list[tuple[str, EnrollRequest, ExecutionStart]]:
        """Evaluates the condition automations reading a changed field, edge by edge, in order."""
        automations = [automation for automation, _ in found]
        matched = {(a.automation_id, contact) for a, contacts in found for contact in contacts}
        compiled = [(a, c) for a in automations if (c := self.condition(a)) is not None]
        work: list[tuple[_Change, ConditionAutomation, ConditionTrigger]] = [
            (change, automation, condition)
            for change in changes
            if change.subject is not None
            for automation, condition in compiled
            if condition.reads & change.changed
        ]
        if not work:
            return []
        pairs = {(a.automation_id, ch.contact_id) for ch, a, _ in work}
        sketch_fields = sorted({f for _, _, c in work for f in c.sketch_fields})
        sketches = await repo.sketches(org_id, sketch_fields) if sketch_fields else {}
        current = {pair: pair in matched for pair in pairs}
        written: dict[tuple[str, str], bool] = {}
        starts: list[tuple[str, EnrollRequest, ExecutionStart]] = []
        for change, automation, condition in work:
            assert change.subject is not None
            subject = change.subject
            if condition.sketch_fields:
                subject = Subject(subject.view, subject.counters, subject.custom, sketches)
            holds = condition.holds(subject, now)
            key = (automation.automation_id, change.contact_id)
            if holds == current[key]:
                continue
            current[key] = written[key] = holds
            if holds:
                start = self._start(org_id, automation, change, states[change.contact_id], now)
                if start is not None:
                    starts.append(start)
        if written:
            await repo.run([states_statement(org_id, written, now)])
        return starts

    def _start(
        self,
        org_id: str,
        automation: ConditionAutomation,
        change: _Change,
        state: ContactState,
        now: datetime,
    ) -> tuple[str, EnrollRequest, ExecutionStart] | None:
        """The start of ``automation`` for the change that made its condition true, unless its
        entry conditions refuse it. The START's event carries the projected contact when the
        triggering event had no snapshot."""
        compiled = self.triggers.get(automation.automation_id, automation.version, automation.workflow)
        event = change.event
        if not event.HasField("contact"):
            event = Event()
            event.CopyFrom(change.event)
            event.contact.CopyFrom(contact_proto(state))
        if not compiled.conditions_hold(build_context(event, None), now):
            return None
        request, start = plan_start(org_id, automation, compiled.workflow, event, now)
        return change.event.id, request, start

    async def import_snapshots(
        self,
        repo: Repository,
        org_id: str,
        snapshots: Sequence[Contact],
        observed_at: datetime,
        now: datetime,
    ) -> tuple[int, int]:
        """Applies complete snapshots taken at ``observed_at`` (the bulk import); fires nothing.

        Returns (imported, unchanged): a deleted contact, or one holding a newer snapshot, is
        left as it is.
        """
        rows = {
            row.contact_id: row for row in await repo.lock_contacts(org_id, [c.id for c in snapshots], now)
        }
        first: dict[str, tuple[dict[str, float], dict[str, date]]] = {}
        touched: dict[str, ContactState] = {}
        for snapshot in snapshots:
            state = rows[snapshot.id]
            if state.deleted:
                continue
            first.setdefault(state.contact_id, (numeric_fields(view(state)), dates_of(state)))
            if apply_snapshot(state, snapshot, observed_at, complete=True):
                touched[state.contact_id] = state
        if touched:
            await repo.run(self._writes(org_id, touched, first, now))
        return len(touched), len(snapshots) - len(touched)

    async def delete(self, repo: Repository, org_id: str, contact_ids: Sequence[str], now: datetime) -> int:
        """What a deletion does beyond the tombstone: condition states, open waits, the hooks.
        Returns how many waits it closed."""
        _, closed = await repo.run(
            [
                (DELETE_STATES, {"org_id": org_id, "contacts": list(contact_ids)}),
                (END_WAITS, {"org_id": org_id, "contacts": list(contact_ids), "now": now}),
            ]
        )
        for hook in contact_deleted_hooks():
            await hook(repo, org_id, contact_ids, now)
        if closed:
            log.info("waits of deleted contacts ended", org_id=org_id, waits=len(closed))
        return len(closed)


def utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
