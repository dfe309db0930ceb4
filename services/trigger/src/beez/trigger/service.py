"""What the trigger does with automation changes, wait registrations and execution lifecycle,
and the event history behind ListEvents. Ingestion, the hot path, is :mod:`beez.trigger.ingest`.

Each function is one unit of work (one transaction) and is idempotent by key, so the
at-least-once consumers in :mod:`beez.trigger.consumers` can run it again on a redelivery:

- an automation change applies only when its revision is newer than the row's;
- a registration is inserted by wait id, never over an existing row (open, fired or a
  cancellation tombstone); a cancellation leaves a tombstone, also before its registration
  arrives, so the two may come in either order;
- an ended execution's slots are deleted, its enrollment marked ended once and its waits
  closed: doing it again finds nothing left to do. Lifecycle events come in batches, each
  applied in one transaction with set-based statements
  (:meth:`~beez.trigger.repository.Repository.apply_lifecycle`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from beez.api.messages.v1.events_pb2 import Event
from beez.api.messages.v1.lifecycle_pb2 import (
    AutomationChanged,
    ExecutionEvent,
    ExecutionEventKind,
    WaitRegistration,
)
from beez.kit.bus.outbox import OutboxMessage
from beez.kit.bus.topology import Topology
from beez.kit.clock import Clock
from beez.kit.db import Database
from beez.kit.logging import get_logger
from beez.kit.paging import PageLimits, cut_page, decode_moment_key, read_page
from beez.trigger.credits import StartCredits
from beez.trigger.domain.index import AUTOMATION_COMPLETED, index_entry
from beez.trigger.domain.schedules import next_fires, plan_of
from beez.trigger.domain.waits import registration
from beez.trigger.repository import Repository, transactional
from beez.trigger.repository.schedules import ListedFire
from beez.workflow.schedules import DEFAULT_MIN_INTERVAL_S
from beez.workflow.status import OUTCOMES

log = get_logger(__name__)


async def apply_automation_change(
    db: Database,
    clock: Clock,
    change: AutomationChanged,
    org_id: str,
    *,
    min_schedule_interval_s: float = DEFAULT_MIN_INTERVAL_S,
) -> bool:
    """Projects ``change`` into the index; False when the index already has this revision or newer.

    In the same transaction, a time-based trigger's fires follow (decision 0038): an active
    version's recurrence is planned again from now (a fire already due or fanning out finishes;
    deferred events stay, and start with the version current when they fire); a deactivated or
    deleted automation loses every pending fire.
    """
    entry = index_entry(change, org_id)
    now = clock.now()

    async def work(repo: Repository) -> bool:
        if not await repo.upsert_automation(entry, now):
            return False
        if not entry.active:
            await repo.drop_fires(entry.automation_id)
            return True
        await repo.drop_recurrences(entry.automation_id, now)
        time_plan = plan_of(
            change.workflow, min_interval_s=min_schedule_interval_s, automation_id=entry.automation_id
        )
        if time_plan is not None:
            await repo.store_fires(next_fires(time_plan, org_id, entry.automation_id, now), now)
        return True

    applied = await transactional(db, work)
    log.info(
        "automation indexed" if applied else "stale automation change ignored",
        automation_id=entry.automation_id,
        org_id=org_id,
        revision=entry.revision,
        version=entry.version,
        active=entry.active,
        event_type=entry.event_type,
    )
    return applied


async def apply_wait_registration(db: Database, clock: Clock, message: WaitRegistration, org_id: str) -> None:
    """Stores a registration, or records its cancellation.

    A registration that has already expired is not stored: it could never fire.
    """
    wait = registration(message, org_id)
    now = clock.now()
    if message.cancel:
        await transactional(db, lambda repo: repo.cancel_wait(wait, now))
        log.debug("wait cancelled", wait_id=wait.id, execution_id=wait.execution_id)
        return
    if wait.expires_at is not None and wait.expires_at <= now:
        log.info("expired wait registration ignored", wait_id=wait.id, execution_id=wait.execution_id)
        return
    await transactional(db, lambda repo: repo.register_wait(wait, now))
    log.debug("wait registered", wait_id=wait.id, kind=wait.kind, execution_id=wait.execution_id)


@dataclass(frozen=True, slots=True)
class Lifecycle:
    """What the trigger needs of one execution event: whose (the execution and the organization
    its subject named), how it ended (None: it started), and, for ``automation.completed``, the
    automation and contact it ran for."""

    execution_id: str
    org_id: str
    outcome: str | None
    automation_id: str = ""
    automation_version: int = 0
    contact_id: str = ""
    converted: bool = False


Execution = tuple[str, str]
"""(execution id, organization): the statements of a lifecycle batch touch only rows of both."""


def lifecycle(event: ExecutionEvent, org_id: str) -> Lifecycle | None:
    """The event, published under ``org_id``, as the trigger applies it; None for kinds it ignores
    or without an execution id."""
    if not event.execution_id:
        return None
    outcome = OUTCOMES.get(event.kind)
    if outcome is not None:
        return Lifecycle(
            event.execution_id,
            org_id,
            outcome,
            automation_id=event.automation_id,
            automation_version=event.automation_version,
            contact_id=event.contact_id,
            converted=event.converted,
        )
    if event.kind == ExecutionEventKind.EXECUTION_EVENT_KIND_STARTED:
        return Lifecycle(event.execution_id, org_id, None)
    return None


def merge(batch: Sequence[Lifecycle]) -> tuple[dict[Execution, str], list[Execution]]:
    """``(ended: (execution, org) -> outcome, started)`` with the effect of applying ``batch`` in order.

    An end makes a start of the same execution redundant, in either order (both drop the start
    payload, and only the end does more). Of two ends of one execution the first wins, as the
    ``ended_at IS NULL`` guard would have it one event at a time. An execution id named under
    two organizations is two keys: at most one of them matches its rows.
    """
    ended: dict[Execution, str] = {}
    for item in batch:
        if item.outcome is not None:
            ended.setdefault((item.execution_id, item.org_id), item.outcome)
    started = sorted(
        {(item.execution_id, item.org_id) for item in batch if item.outcome is None} - ended.keys()
    )
    return ended, started


def completion_event(item: Lifecycle, now: datetime) -> Event:
    """The ``automation.completed`` event of an ended execution; its id is the execution's, so
    however often the end is applied the event is ingested once."""
    event = Event(
        id=f"evt_completed_{item.execution_id}",
        type=AUTOMATION_COMPLETED,
        organization_id=item.org_id,
        contact_id=item.contact_id,
    )
    event.occurred_at.FromDatetime(now)
    event.data.update(
        {
            "automation_id": item.automation_id,
            "automation_version": item.automation_version,
            "execution_id": item.execution_id,
            "outcome": item.outcome or "",
            "converted": item.converted,
        }
    )
    return event


async def apply_lifecycle(
    db: Database,
    clock: Clock,
    batch: Sequence[Lifecycle],
    credits: StartCredits | None = None,
    topology: Topology | None = None,
) -> list[None]:
    """Applies lifecycle events in one transaction: releases what ended executions held, and drops
    the start payload of those that started; with ``credits``, the organizations of the batch
    dispatch the STARTs they held back as far as the credit this gave back allows. Returns one
    (empty) outcome per event.

    With a ``topology``, each ended execution of an organization where an active automation
    listens to ``automation.completed`` also writes that event to the outbox, in the same
    transaction, onto ``events.<org>.automation.completed``: it comes back through the events
    consumer like any event (recorded, matched, limited). Organizations without such an
    automation cost one indexed lookup per batch and no event.
    """
    ended, started = merge(batch)
    if not (ended or started):
        return [None] * len(batch)
    now = clock.now()
    orgs = sorted({org for _, org in (*ended, *started)})
    endings: dict[Execution, Lifecycle] = {}
    for item in batch:
        if item.outcome is not None and item.automation_id:
            endings.setdefault((item.execution_id, item.org_id), item)

    async def work(repo: Repository) -> None:
        await repo.apply_lifecycle(ended, started, now)
        if credits is not None and (jobs := await credits.release(repo, orgs, now)):
            await repo.enqueue(jobs)
        if topology is None or not endings:
            return
        listening = await repo.orgs_listening({org for _, org in endings}, AUTOMATION_COMPLETED)
        completions = [
            OutboxMessage(
                topology.events(item.org_id, AUTOMATION_COMPLETED),
                completion_event(item, now),
                f"automation.completed:{item.org_id}:{item.execution_id}",
                item.org_id,
            )
            for item in endings.values()
            if item.org_id in listening
        ]
        if completions:
            await repo.enqueue(completions)

    await transactional(db, work)
    log.debug("execution lifecycle applied", events=len(batch), ended=len(ended), started=len(started))
    return [None] * len(batch)


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """An event of the history and the executions it started."""

    event: Event
    received_at: datetime
    execution_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class HistoryPage:
    """One page of the history and the token of the next (empty on the last)."""

    entries: list[HistoryEntry]
    next_page_token: str


async def list_events(
    db: Database,
    org_id: str,
    *,
    type_: str = "",
    contact_id: str = "",
    since: datetime | None = None,
    page_size: int = 0,
    page_token: str = "",
    limits: PageLimits,
) -> HistoryPage:
    """One page of ``org_id``'s events with the executions each started (ListEvents).

    ``page_size`` 0 asks for ``limits.default``; a bad size or token is INVALID_ARGUMENT.

    Newest first. The cursor is the ``(received_at, event_id)`` of the last event of a page, so
    pages stay consistent while new events arrive (they land before the first page, not in the
    middle). ``since`` bounds ``received_at``, the time the trigger took the event in.
    """
    page = read_page(
        page_size, page_token, decode=decode_moment_key, default=limits.default, maximum=limits.maximum
    )
    async with db.transaction() as session:
        repo = await Repository.of(session)
        rows = await repo.list_events(
            org_id, type_=type_, contact_id=contact_id, since=since, before=page.after, limit=page.size + 1
        )
        served, token = cut_page(rows, page.size, lambda row: (row.received_at, row.event_id))
        started = await repo.executions_started_by(org_id, [row.event_id for row in served])
    entries = [
        HistoryEntry(Event.FromString(row.payload), row.received_at, tuple(started.get(row.event_id, ())))
        for row in served
    ]
    return HistoryPage(entries, token)


@dataclass(frozen=True, slots=True)
class FiresPage:
    """One page of upcoming fires and the token of the next (empty on the last)."""

    fires: list[ListedFire]
    next_page_token: str


async def list_fires(
    db: Database,
    org_id: str,
    *,
    automation_id: str = "",
    page_size: int = 0,
    page_token: str = "",
    limits: PageLimits,
) -> FiresPage:
    """One page of ``org_id``'s pending fires of time-based triggers (ListScheduledFires), soonest
    first by ``(due_at, id)``: the same cursor as the executor's timers, so ListScheduled can
    merge both lists page by page with one token."""
    page = read_page(
        page_size, page_token, decode=decode_moment_key, default=limits.default, maximum=limits.maximum
    )
    async with db.transaction() as session:
        repo = await Repository.of(session)
        rows = await repo.list_fires(org_id, automation_id or None, page.after, page.size + 1)
    served, token = cut_page(rows, page.size, lambda row: (row.due_at, row.id))
    return FiresPage(served, token)
