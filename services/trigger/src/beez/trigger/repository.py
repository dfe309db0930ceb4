"""Every query of the trigger service.

A :class:`Repository` works inside the caller's transaction (the connection of a session from
``Database.transaction()``) and never commits. :func:`transactional` runs a unit of work on a
repository with :func:`beez.kit.transactions.in_transaction`, which retries it when PostgreSQL
aborted it for a deadlock or a serialization failure, which concurrent enrollments on the same
keys can cause; a retried unit starts from scratch.

Queries are Core statements on the tables of :mod:`beez.trigger.models`, run on the session's
connection: the hot path runs a few of them per event and gains nothing from the ORM. The
statements run per enrollment are built once, with bind parameters, which halves their cost.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar, cast

from sqlalchemy import (
    CursorResult,
    DateTime,
    Integer,
    Text,
    and_,
    any_,
    bindparam,
    delete,
    func,
    literal,
    null,
    or_,
    select,
    text,
    tuple_,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from beez.api.messages.v1.events_pb2 import Event
from beez.kit.bus.outbox import OutboxMessage, enqueue_many
from beez.kit.db import Database, Statement, pipelined
from beez.kit.logging import get_logger
from beez.kit.transactions import in_transaction
from beez.trigger import models
from beez.trigger.index import IndexEntry
from beez.trigger.models import (
    automation_counters,
    automation_index,
    concurrency_slots,
    enrollments,
    events,
    run_once,
    waits,
)
from beez.trigger.waits import OpenWait, Registration

log = get_logger(__name__)

T = TypeVar("T")


async def transactional(db: Database, work: Callable[[Repository], Awaitable[T]]) -> T:
    """Runs ``work`` on a :class:`Repository` in one transaction, retried after a deadlock."""

    async def on_session(session: AsyncSession) -> T:
        return await work(await Repository.of(session))

    return await in_transaction(db, on_session)


@dataclass(frozen=True, slots=True)
class IndexedAutomation:
    """An active automation as matching needs it."""

    automation_id: str
    version: int
    event_type: str | None
    priority: str
    run_once: bool
    max_executions: int
    reentry: str
    max_concurrent_per_contact: int
    workflow: bytes


@dataclass(frozen=True, slots=True)
class NewEnrollment:
    """The enrollment row of an execution about to start."""

    execution_id: str
    org_id: str
    automation_id: str
    automation_version: int
    event_id: str
    contact_id: str | None
    priority: str
    created_at: datetime
    start: bytes


@dataclass(frozen=True, slots=True)
class EnrollRequest:
    """An enrollment and the keys its automation's policy makes it take (see ``Repository.enroll``)."""

    enrollment: NewEnrollment
    once_contact: str | None
    slot_contact: str | None
    slots: int
    max_executions: int

    @property
    def set_based(self) -> bool:
        """Whether :meth:`Repository.enroll_many` can take its keys in its one statement."""
        return self.once_contact is None and self.max_executions <= 0


@dataclass(frozen=True, slots=True)
class PendingStart:
    """An enrollment whose START the executor has not reported started."""

    execution_id: str
    org_id: str
    start: bytes
    redispatches: int
    priority: str
    """The enrollment's job priority, for START payloads stored before ``priority_level`` existed."""


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An event of the history."""

    event_id: str
    payload: bytes
    received_at: datetime


def _param(name: str, type_: Any = Text) -> Any:
    return bindparam(name, type_=type_)


_TAKE_RUN_ONCE = (
    pg_insert(run_once)
    .values(
        automation_id=_param("automation_id"),
        contact_id=_param("contact_id"),
        execution_id=_param("execution_id"),
        created_at=_param("now", DateTime(timezone=True)),
    )
    .on_conflict_do_nothing()
    .returning(run_once.c.automation_id)
)
_GIVE_RUN_ONCE = delete(run_once).where(
    run_once.c.automation_id == _param("automation_id"), run_once.c.contact_id == _param("contact_id")
)

_mine = (
    concurrency_slots.c.automation_id == _param("automation_id"),
    concurrency_slots.c.contact_id == _param("contact_id"),
)
_candidates = union_all(
    select(literal(0, Integer).label("slot")),
    select((concurrency_slots.c.slot + 1).label("slot")).where(*_mine),
).subquery("candidates")
"""Where the lowest free slot can be: 0, or just above a held one (the slot below the lowest free
slot above 0 is held). So the search costs what the contact holds, not ``slots``: a
``generate_series(0, slots - 1)`` cost 18 ms per enrolment at ``maxConcurrentPerContact`` 100,000."""
_held = (
    select(concurrency_slots.c.slot).where(*_mine, concurrency_slots.c.slot == _candidates.c.slot).exists()
)
_TAKE_SLOT = (
    pg_insert(concurrency_slots)
    .from_select(
        ["automation_id", "contact_id", "slot", "execution_id", "acquired_at"],
        select(
            _param("automation_id"),
            _param("contact_id"),
            _candidates.c.slot,
            _param("execution_id"),
            _param("now", DateTime(timezone=True)),
        )
        .where(_candidates.c.slot < _param("slots", Integer), ~_held)
        .order_by(_candidates.c.slot)
        .limit(1),
    )
    .on_conflict_do_nothing()
    .returning(concurrency_slots.c.slot)
)
"""Takes the lowest free slot below ``slots``; nothing when none is free or it was just taken."""
_SLOTS_HELD = select(func.count()).where(
    concurrency_slots.c.automation_id == _param("automation_id"),
    concurrency_slots.c.contact_id == _param("contact_id"),
)
_GIVE_SLOT = delete(concurrency_slots).where(concurrency_slots.c.execution_id == _param("execution_id"))

_count = pg_insert(automation_counters).values(automation_id=_param("automation_id"), started=1)
_TAKE_COUNT = _count.on_conflict_do_update(
    index_elements=[automation_counters.c.automation_id],
    set_={"started": automation_counters.c.started + 1},
    where=automation_counters.c.started < _param("max_executions", Integer),
).returning(automation_counters.c.started)
_GIVE_COUNT = (
    update(automation_counters)
    .where(automation_counters.c.automation_id == _param("automation_id"))
    .values(started=automation_counters.c.started - 1)
)

_ENROLL = (
    pg_insert(enrollments)
    .values(
        execution_id=_param("execution_id"),
        org_id=_param("org_id"),
        automation_id=_param("automation_id"),
        automation_version=_param("automation_version", Integer),
        event_id=_param("event_id"),
        contact_id=_param("contact_id"),
        priority=_param("priority"),
        created_at=_param("now", DateTime(timezone=True)),
        start=_param("start", enrollments.c.start.type),
        dispatched_at=_param("now", DateTime(timezone=True)),
    )
    .on_conflict_do_nothing()
    .returning(enrollments.c.execution_id)
)

_ENROLL_MANY = text(
    f"""
    WITH req AS (
        SELECT * FROM unnest(
            CAST(:execution_ids AS text[]), CAST(:org_ids AS text[]), CAST(:automation_ids AS text[]),
            CAST(:versions AS integer[]), CAST(:event_ids AS text[]), CAST(:contact_ids AS text[]),
            CAST(:slot_contacts AS text[]), CAST(:slots AS integer[]), CAST(:priorities AS text[]),
            CAST(:starts AS bytea[])
        ) WITH ORDINALITY AS r(execution_id, org_id, automation_id, automation_version, event_id,
                               contact_id, slot_contact, slots, priority, start, n)
    ),
    slotted AS (
        INSERT INTO {concurrency_slots.fullname} (automation_id, contact_id, slot, execution_id, acquired_at)
        SELECT r.automation_id, r.slot_contact, free.slot, r.execution_id, :now
        FROM req r
        CROSS JOIN LATERAL (
            SELECT c.slot
            FROM (
                SELECT 0 AS slot
                UNION ALL
                SELECT s.slot + 1 FROM {concurrency_slots.fullname} s
                WHERE s.automation_id = r.automation_id AND s.contact_id = r.slot_contact
            ) c
            WHERE c.slot < r.slots AND NOT EXISTS (
                SELECT 1 FROM {concurrency_slots.fullname} h
                WHERE h.automation_id = r.automation_id AND h.contact_id = r.slot_contact
                  AND h.slot = c.slot
            )
            ORDER BY c.slot
            LIMIT 1
        ) free
        WHERE r.slot_contact IS NOT NULL
        ORDER BY r.n
        ON CONFLICT DO NOTHING
        RETURNING execution_id
    ),
    enrolled AS (
        INSERT INTO {enrollments.fullname} (execution_id, org_id, automation_id, automation_version,
            event_id, contact_id, priority, created_at, start, dispatched_at)
        SELECT r.execution_id, r.org_id, r.automation_id, r.automation_version, r.event_id,
               r.contact_id, r.priority, :now, r.start, :now
        FROM req r
        WHERE r.slot_contact IS NULL OR r.execution_id IN (SELECT execution_id FROM slotted)
        ORDER BY r.n
        ON CONFLICT DO NOTHING
        RETURNING execution_id
    )
    SELECT r.execution_id,
           r.execution_id IN (SELECT execution_id FROM slotted) AS slotted,
           r.execution_id IN (SELECT execution_id FROM enrolled) AS enrolled
    FROM req r
    """
)
"""Takes a free slot (where the policy has slots) and inserts the enrollment, for a whole batch in
one statement. Every sub-statement sees the same snapshot, so two requests of one batch for the
same (automation, contact) pick the same slot and one of them is refused: the caller retries the
refused ones with the one-at-a-time path, which sees this statement's rows."""

_RECORD_EVENTS = text(
    f"""
    INSERT INTO {events.fullname} (org_id, event_id, type, contact_id, occurred_at, received_at, payload)
    SELECT :org_id, e.event_id, e.type, e.contact_id, e.occurred_at, :received_at, e.payload
    FROM unnest(
        CAST(:event_ids AS text[]), CAST(:types AS text[]), CAST(:contact_ids AS text[]),
        CAST(:occurred AS timestamptz[]), CAST(:payloads AS bytea[])
    ) AS e(event_id, type, contact_id, occurred_at, payload)
    ON CONFLICT DO NOTHING
    RETURNING event_id
    """
)
"""One statement text whatever the batch size, so it is compiled and prepared once."""

_ACTIVE_AUTOMATIONS = (
    select(
        automation_index.c.automation_id,
        automation_index.c.version,
        automation_index.c.event_type,
        automation_index.c.priority,
        automation_index.c.run_once,
        automation_index.c.max_executions,
        automation_index.c.reentry,
        automation_index.c.max_concurrent_per_contact,
        automation_index.c.workflow,
    )
    .where(
        automation_index.c.org_id == _param("org_id"),
        automation_index.c.active,
        or_(
            automation_index.c.event_type == any_(bindparam("types", type_=ARRAY(Text))),
            automation_index.c.automation_id == any_(bindparam("automation_ids", type_=ARRAY(Text))),
        ),
    )
    .order_by(automation_index.c.automation_id)
)

_OPEN_WAITS = (
    select(
        waits.c.id,
        waits.c.execution_id,
        waits.c.contact_id,
        waits.c.kind,
        waits.c.event_type,
        waits.c.filters,
        waits.c.conditions,
        waits.c.expires_at,
        func.coalesce(enrollments.c.priority, literal("normal")),
    )
    .select_from(waits.outerjoin(enrollments, enrollments.c.execution_id == waits.c.execution_id))
    .where(
        waits.c.org_id == _param("org_id"),
        waits.c.contact_id == any_(bindparam("contacts", type_=ARRAY(Text))),
        waits.c.closed_at.is_(None),
        or_(waits.c.expires_at.is_(None), waits.c.expires_at > _param("now", DateTime(timezone=True))),
    )
    .order_by(waits.c.registered_at, waits.c.id)
)

_ids = bindparam("ids", type_=ARRAY(Text))
_LOCK_ENROLLMENTS = (
    select(enrollments.c.execution_id)
    .where(enrollments.c.execution_id == any_(_ids))
    .order_by(enrollments.c.execution_id)
    .with_for_update(key_share=True)
)
_ended = (
    func.unnest(_ids, bindparam("outcomes", type_=ARRAY(Text)))
    .table_valued("execution_id", "outcome")
    .render_derived("ended")
)
_END_ENROLLMENTS = (
    update(enrollments)
    .where(enrollments.c.execution_id == _ended.c.execution_id, enrollments.c.ended_at.is_(None))
    .values(ended_at=_param("now", DateTime(timezone=True)), outcome=_ended.c.outcome, start=null())
)
_CLOSE_WAITS_OF = (
    update(waits)
    .where(
        waits.c.id.in_(
            select(waits.c.id)
            .where(waits.c.execution_id == any_(_ids), waits.c.closed_at.is_(None))
            .order_by(waits.c.id)
            .with_for_update(key_share=True)
        )
    )
    .values(closed_at=_param("now", DateTime(timezone=True)), closed_reason="execution_ended")
)
_GIVE_SLOTS_OF = delete(concurrency_slots).where(concurrency_slots.c.execution_id == any_(_ids))
_DROP_STARTS = (
    update(enrollments)
    .where(enrollments.c.execution_id == any_(_ids), enrollments.c.start.is_not(None))
    .values(start=null())
)

_CLOSE_WAIT = (
    update(waits)
    .where(waits.c.id == _param("wait_id"), waits.c.closed_at.is_(None))
    .values(closed_at=_param("now", DateTime(timezone=True)), closed_reason=_param("reason"))
    .returning(waits.c.id)
)


class Repository:
    """The trigger's queries, bound to one transaction's connection."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    @classmethod
    async def of(cls, session: AsyncSession) -> Repository:
        """The repository of ``session``'s transaction."""
        return cls(await session.connection())

    # --- automation index ----------------------------------------------------------------

    async def upsert_automation(self, entry: IndexEntry, now: datetime) -> bool:
        """Stores ``entry`` unless the row already has this revision or a newer one."""
        values = {
            "automation_id": entry.automation_id,
            "org_id": entry.org_id,
            "revision": entry.revision,
            "version": entry.version,
            "active": entry.active,
            "deleted": entry.deleted,
            "trigger_type": entry.trigger_type,
            "event_type": entry.event_type,
            "priority": entry.priority,
            "run_once": entry.run_once,
            "max_executions": entry.max_executions,
            "reentry": entry.reentry,
            "max_concurrent_per_contact": entry.max_concurrent_per_contact,
            "workflow": entry.workflow,
            "updated_at": now,
        }
        t = automation_index
        stmt = pg_insert(t).values(values)
        update_values = {key: stmt.excluded[key] for key in values if key != "automation_id"}
        upsert = stmt.on_conflict_do_update(
            index_elements=[t.c.automation_id],
            set_=update_values,
            where=and_(t.c.revision < stmt.excluded.revision, t.c.org_id == stmt.excluded.org_id),
        ).returning(t.c.automation_id)
        return (await self.conn.execute(upsert)).first() is not None

    # --- events ---------------------------------------------------------------------------

    async def ingest_lookups(
        self, batches: Sequence[tuple[str, Sequence[Event], Iterable[str]]], now: datetime
    ) -> list[tuple[set[str], list[IndexedAutomation], list[OpenWait]]]:
        """Records each organization's events and reads what matching them needs, in one round trip.

        ``batches``: per organization, its events and the automations they name. Returns, for
        each in order, the ids of the events not seen before (the others are left as they are),
        the active automations of the organization listening to one of its events' types or
        named, and the open, unexpired waits of its events' contacts with their execution's job
        priority. The reads cover every event given; the caller keeps what concerns the new
        ones. Every organization's three statements go in the same round trip, so a batch of
        many organizations' events costs one, not one per organization.
        """
        statements: list[Statement] = []
        for org_id, batch, automation_ids in batches:
            types = sorted({event.type for event in batch})
            contacts = sorted({event.contact_id for event in batch if event.contact_id})
            statements += [
                (_RECORD_EVENTS, _record_params(org_id, batch, now)),
                (
                    _ACTIVE_AUTOMATIONS,
                    {"org_id": org_id, "types": types, "automation_ids": sorted(set(automation_ids))},
                ),
                (_OPEN_WAITS, {"org_id": org_id, "contacts": contacts, "now": now}),
            ]
        rows = await pipelined(self.conn, statements) if statements else []
        return [
            (
                {row[0] for row in recorded},
                [IndexedAutomation(*row) for row in automations],
                [OpenWait(*row) for row in waiting],
            )
            for recorded, automations, waiting in zip(rows[0::3], rows[1::3], rows[2::3], strict=True)
        ]

    async def list_events(
        self,
        org_id: str,
        *,
        type_: str,
        contact_id: str,
        since: datetime | None,
        before: tuple[datetime, str] | None,
        limit: int,
    ) -> list[StoredEvent]:
        """Events of ``org_id``, newest first, optionally filtered, after the ``before`` cursor."""
        t = events
        query = select(t.c.event_id, t.c.payload, t.c.received_at).where(t.c.org_id == org_id)
        if type_:
            query = query.where(t.c.type == type_)
        if contact_id:
            query = query.where(t.c.contact_id == contact_id)
        if since is not None:
            query = query.where(t.c.received_at >= since)
        if before is not None:
            query = query.where(tuple_(t.c.received_at, t.c.event_id) < tuple_(*before))
        query = query.order_by(t.c.received_at.desc(), t.c.event_id.desc()).limit(limit)
        return [StoredEvent(*row) for row in await self.conn.execute(query)]

    async def executions_started_by(self, org_id: str, event_ids: Sequence[str]) -> dict[str, list[str]]:
        """The executions each event started, oldest first."""
        if not event_ids:
            return {}
        t = enrollments
        rows = await self.conn.execute(
            select(t.c.event_id, t.c.execution_id)
            .where(t.c.org_id == org_id, t.c.event_id.in_(list(event_ids)))
            .order_by(t.c.created_at, t.c.execution_id)
        )
        started: dict[str, list[str]] = {}
        for event_id, execution_id in rows:
            started.setdefault(event_id, []).append(execution_id)
        return started

    # --- enrollment -----------------------------------------------------------------------

    async def enroll_many(self, requests: Sequence[EnrollRequest]) -> set[str]:
        """Enrolls a batch; returns the execution ids enrolled. Same outcome as :meth:`enroll` each.

        The requests whose policy needs only a slot, or nothing, go through one set-based
        statement (:data:`_ENROLL_MANY`). What it refuses (a slot taken by another request of the
        batch or by a concurrent transaction, a contact at its limit) and the requests needing
        ``run_once`` or ``max_executions`` go through :meth:`enroll` one at a time, in order. A
        slot whose enrollment turned out to exist already (the same event again) is given back.
        """
        enrolled: set[str] = set()
        one_by_one = [r for r in requests if not r.set_based]
        batch = {r.enrollment.execution_id: r for r in requests if r.set_based}
        if batch:
            [rows] = await pipelined(self.conn, [(_ENROLL_MANY, _enroll_params(list(batch.values())))])
            orphans: list[str] = []
            for execution_id, slotted, inserted in rows:
                if inserted:
                    enrolled.add(execution_id)
                elif slotted:
                    orphans.append(execution_id)
                elif batch[execution_id].slot_contact is not None:
                    one_by_one.append(batch[execution_id])
            if orphans:
                await self.conn.execute(_GIVE_SLOTS_OF, {"ids": orphans})
        order = {id(r): i for i, r in enumerate(requests)}
        for request in sorted(one_by_one, key=lambda r: order[id(r)]):
            if await self.enroll(
                request.enrollment,
                once_contact=request.once_contact,
                slot_contact=request.slot_contact,
                slots=request.slots,
                max_executions=request.max_executions,
            ):
                enrolled.add(request.enrollment.execution_id)
        return enrolled

    async def enroll(
        self,
        enrollment: NewEnrollment,
        *,
        once_contact: str | None,
        slot_contact: str | None,
        slots: int,
        max_executions: int,
    ) -> bool:
        """Takes every key the enrollment needs, then inserts it; all or nothing.

        ``once_contact``: take ``run_once (automation, contact)``; ``slot_contact``: take a free
        slot among ``0..slots-1`` for that contact; ``max_executions`` > 0: bump the counter
        unless it reached the limit; finally the enrollment row, unique per (automation, event).
        Concurrent transactions on the same keys wait for each other on the unique indexes, so
        limits hold under any concurrency.

        When a key is refused, the keys already taken are given back by compensating statements
        in the same transaction rather than a savepoint: a batch of events would otherwise open
        hundreds of subtransactions, which PostgreSQL handles poorly (subxid cache overflow).
        """
        keys = {
            "automation_id": enrollment.automation_id,
            "execution_id": enrollment.execution_id,
            "now": enrollment.created_at,
        }
        undo: list[tuple[Any, dict[str, Any]]] = []
        if once_contact is not None:
            once = {**keys, "contact_id": once_contact}
            if not await self._wrote(_TAKE_RUN_ONCE, once):
                return False
            undo.append((_GIVE_RUN_ONCE, once))
        if slot_contact is not None:
            if not await self._take_slot({**keys, "contact_id": slot_contact, "slots": slots}):
                return await self._undo(undo)
            undo.append((_GIVE_SLOT, keys))
        if max_executions > 0:
            if not await self._wrote(_TAKE_COUNT, {**keys, "max_executions": max_executions}):
                return await self._undo(undo)
            undo.append((_GIVE_COUNT, keys))
        row = {
            **keys,
            "org_id": enrollment.org_id,
            "automation_version": enrollment.automation_version,
            "event_id": enrollment.event_id,
            "contact_id": enrollment.contact_id,
            "priority": enrollment.priority,
            "start": enrollment.start,
        }
        if not await self._wrote(_ENROLL, row):
            return await self._undo(undo)
        return True

    async def _wrote(self, stmt: Any, params: dict[str, Any]) -> bool:
        """Runs an ``INSERT``/``UPDATE ... RETURNING``; True when it wrote a row."""
        return (await self.conn.execute(stmt, params)).first() is not None

    async def _undo(self, statements: list[tuple[Any, dict[str, Any]]]) -> bool:
        """Gives back the keys taken so far, newest first; returns False (not enrolled)."""
        for stmt, params in reversed(statements):
            await self.conn.execute(stmt, params)
        return False

    async def _take_slot(self, params: dict[str, Any]) -> bool:
        """Takes the lowest free slot; retries when a concurrent transaction took it first."""
        for _ in range(params["slots"]):
            if await self._wrote(_TAKE_SLOT, params):
                return True
            held = await self.conn.scalar(_SLOTS_HELD, params)
            if held is None or held >= params["slots"]:
                return False
        return False

    # --- execution lifecycle --------------------------------------------------------------

    async def apply_lifecycle(self, ended: Mapping[str, str], started: Sequence[str], now: datetime) -> None:
        """Applies a batch of lifecycle events in five set-based statements, sent together (idempotent).

        ``ended`` maps execution ids to their outcome: each such enrollment is marked ended once
        (``ended_at IS NULL`` guard) and drops its start payload, its open waits are closed and its
        concurrency slots deleted. ``started`` names executions the executor has: their
        enrollment drops its start payload (``start IS NOT NULL`` guard). Doing it again finds
        nothing to do.

        Lock order, so that concurrent batches (other shards, other replicas, a redelivery racing
        its first delivery) wait for each other instead of deadlocking:

        1. every enrollment of the batch, ``FOR NO KEY UPDATE`` in execution-id order, before
           any other row. Two batches sharing an execution queue up on its enrollment while
           holding only enrollments of lower ids, so the first one runs to its end;
        2. the open waits of the ended executions, in wait-id order (it also covers executions
           without an enrollment, whose waits no step 1 protects). The enrollment comes before its
           waits as :meth:`register_wait` expects: a registration racing this batch either sees
           the end and stores a tombstone, or its wait is closed here;
        3. the slots last. An ingestion may hold a wait it is firing and then wait for a slot
           key this batch deletes; since this batch takes no wait after its first slot, that
           wait never closes a cycle.
        """
        ids = sorted({*ended, *started})
        if not ids:
            return
        statements: list[Statement] = [(_LOCK_ENROLLMENTS, {"ids": ids})]
        if ended:
            ended_ids = sorted(ended)
            statements += [
                (_END_ENROLLMENTS, {"ids": ended_ids, "outcomes": [ended[i] for i in ended_ids], "now": now}),
                (_CLOSE_WAITS_OF, {"ids": ended_ids, "now": now}),
                (_GIVE_SLOTS_OF, {"ids": ended_ids}),
            ]
        if started:
            statements.append((_DROP_STARTS, {"ids": sorted(started)}))
        await pipelined(self.conn, statements)

    # --- the start sweeper ----------------------------------------------------------------

    async def overdue_starts(self, dispatched_before: datetime, limit: int) -> list[PendingStart]:
        """Up to ``limit`` enrollments still holding a START dispatched before the cutoff.

        Oldest dispatch first, by the partial index ``ix_enrollments_pending_start``, locked
        ``FOR NO KEY UPDATE SKIP LOCKED``: replicas sweeping at once share the rows, and a
        sweeper never waits for (nor deadlocks with) a lifecycle batch holding one.
        """
        t = enrollments
        rows = await self.conn.execute(
            select(t.c.execution_id, t.c.org_id, t.c.start, t.c.redispatches, t.c.priority)
            .where(t.c.start.is_not(None), t.c.given_up_at.is_(None), t.c.dispatched_at < dispatched_before)
            .order_by(t.c.dispatched_at)
            .limit(limit)
            .with_for_update(key_share=True, skip_locked=True)
        )
        return [PendingStart(*row) for row in rows]

    async def starts_redispatched(self, execution_ids: Sequence[str], now: datetime) -> None:
        """Records that the START of these enrollments went to the outbox once more, at ``now``."""
        t = enrollments
        await self.conn.execute(
            update(t)
            .where(t.c.execution_id == any_(_ids))
            .values(dispatched_at=now, redispatches=t.c.redispatches + 1),
            {"ids": list(execution_ids)},
        )

    async def starts_given_up(self, execution_ids: Sequence[str], now: datetime) -> None:
        """Records that the sweeper re-dispatches the START of these enrollments no more."""
        t = enrollments
        await self.conn.execute(
            update(t).where(t.c.execution_id == any_(_ids)).values(given_up_at=now),
            {"ids": list(execution_ids)},
        )

    # --- waits ----------------------------------------------------------------------------

    async def register_wait(self, wait: Registration, now: datetime) -> bool:
        """Stores a registration unless its id is known (open, fired or cancelled); True if stored.

        A registration for an execution that has already ended is stored closed.
        """
        ended_at = await self.conn.scalar(
            select(enrollments.c.ended_at)
            .where(enrollments.c.execution_id == wait.execution_id)
            .with_for_update(read=True)
        )
        inserted = await self.conn.execute(
            pg_insert(waits)
            .values(
                id=wait.id,
                org_id=wait.org_id,
                execution_id=wait.execution_id,
                contact_id=wait.contact_id,
                kind=wait.kind,
                event_type=wait.event_type,
                filters=wait.filters,
                conditions=wait.conditions,
                expires_at=wait.expires_at,
                registered_at=now,
                closed_at=ended_at,
                closed_reason="execution_ended" if ended_at is not None else None,
            )
            .on_conflict_do_nothing()
            .returning(waits.c.id)
        )
        return inserted.first() is not None

    async def cancel_wait(self, wait: Registration, now: datetime) -> None:
        """Closes the wait, leaving a tombstone even when its registration has not arrived yet."""
        stmt = pg_insert(waits).values(
            id=wait.id,
            org_id=wait.org_id,
            execution_id=wait.execution_id,
            contact_id=wait.contact_id,
            kind=wait.kind,
            event_type=wait.event_type,
            filters={},
            conditions=[],
            expires_at=wait.expires_at,
            registered_at=now,
            closed_at=now,
            closed_reason="cancelled",
        )
        await self.conn.execute(
            stmt.on_conflict_do_update(
                index_elements=[waits.c.id],
                set_={"closed_at": now, "closed_reason": "cancelled"},
                where=waits.c.closed_at.is_(None),
            )
        )

    async def close_wait(self, wait_id: str, reason: str, now: datetime) -> bool:
        """Closes an open wait; False when another transaction closed it first."""
        return await self._wrote(_CLOSE_WAIT, {"wait_id": wait_id, "now": now, "reason": reason})

    # --- outbox ---------------------------------------------------------------------------

    async def enqueue(self, messages: Sequence[OutboxMessage]) -> None:
        """Writes ``messages`` to the outbox in few statements; the relay wakes on commit."""
        await enqueue_many(self.conn, models.outbox, messages)

    # --- housekeeping ---------------------------------------------------------------------

    async def purge_events(self, received_before: datetime, limit: int) -> int:
        """Deletes up to ``limit`` events received before the cutoff."""
        t = events
        old = select(t.c.org_id, t.c.event_id).where(t.c.received_at < received_before).limit(limit)
        result = await self.conn.execute(delete(t).where(tuple_(t.c.org_id, t.c.event_id).in_(old)))
        return _rowcount(result)

    async def purge_enrollments(self, created_before: datetime, limit: int) -> int:
        """Deletes up to ``limit`` enrollments created before the cutoff whose execution has ended."""
        t = enrollments
        old = (
            select(t.c.execution_id)
            .where(t.c.created_at < created_before, t.c.ended_at.is_not(None))
            .limit(limit)
            .scalar_subquery()
        )
        result = await self.conn.execute(delete(t).where(t.c.execution_id.in_(old)))
        return _rowcount(result)

    async def purge_waits(self, before: datetime, limit: int) -> int:
        """Deletes up to ``limit`` waits closed or expired before the cutoff."""
        old = (
            select(waits.c.id)
            .where(or_(waits.c.closed_at < before, waits.c.expires_at < before))
            .limit(limit)
            .scalar_subquery()
        )
        result = await self.conn.execute(delete(waits).where(waits.c.id.in_(old)))
        return _rowcount(result)


def _rowcount(result: Any) -> int:
    return int(cast(CursorResult[Any], result).rowcount)


def _enroll_params(batch: Sequence[EnrollRequest]) -> dict[str, Any]:
    """The column arrays of :data:`_ENROLL_MANY` for ``batch``."""
    now = batch[0].enrollment.created_at
    return {
        "now": now,
        "execution_ids": [r.enrollment.execution_id for r in batch],
        "org_ids": [r.enrollment.org_id for r in batch],
        "automation_ids": [r.enrollment.automation_id for r in batch],
        "versions": [r.enrollment.automation_version for r in batch],
        "event_ids": [r.enrollment.event_id for r in batch],
        "contact_ids": [r.enrollment.contact_id for r in batch],
        "slot_contacts": [r.slot_contact for r in batch],
        "slots": [r.slots for r in batch],
        "priorities": [r.enrollment.priority for r in batch],
        "starts": [r.enrollment.start for r in batch],
    }


def _record_params(org_id: str, batch: Sequence[Event], received_at: datetime) -> dict[str, Any]:
    """The column arrays of :data:`_RECORD_EVENTS` for ``batch``."""
    tz = received_at.tzinfo
    return {
        "org_id": org_id,
        "received_at": received_at,
        "event_ids": [event.id for event in batch],
        "types": [event.type for event in batch],
        "contact_ids": [event.contact_id or None for event in batch],
        "occurred": [event.occurred_at.ToDatetime(tzinfo=tz) for event in batch],
        "payloads": [event.SerializeToString() for event in batch],
    }
