"""Enrollments: the row of each execution a trigger decided to start, and the keys its
automation's policy makes it take (``run_once``, concurrency slots, the execution counter)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    DateTime,
    Integer,
    any_,
    delete,
    func,
    literal,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert

from beez.kit.db import pipelined
from beez.trigger.models import automation_counters, concurrency_slots, enrollments, run_once
from beez.trigger.repository.base import IDS, Queries, param, rowcount


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


_TAKE_RUN_ONCE = (
    pg_insert(run_once)
    .values(
        automation_id=param("automation_id"),
        contact_id=param("contact_id"),
        execution_id=param("execution_id"),
        created_at=param("now", DateTime(timezone=True)),
    )
    .on_conflict_do_nothing()
    .returning(run_once.c.automation_id)
)
_GIVE_RUN_ONCE = delete(run_once).where(
    run_once.c.automation_id == param("automation_id"), run_once.c.contact_id == param("contact_id")
)

_mine = (
    concurrency_slots.c.automation_id == param("automation_id"),
    concurrency_slots.c.contact_id == param("contact_id"),
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
            param("automation_id"),
            param("contact_id"),
            _candidates.c.slot,
            param("execution_id"),
            param("now", DateTime(timezone=True)),
        )
        .where(_candidates.c.slot < param("slots", Integer), ~_held)
        .order_by(_candidates.c.slot)
        .limit(1),
    )
    .on_conflict_do_nothing()
    .returning(concurrency_slots.c.slot)
)
"""Takes the lowest free slot below ``slots``; nothing when none is free or it was just taken."""
_SLOTS_HELD = select(func.count()).where(
    concurrency_slots.c.automation_id == param("automation_id"),
    concurrency_slots.c.contact_id == param("contact_id"),
)
_GIVE_SLOT = delete(concurrency_slots).where(concurrency_slots.c.execution_id == param("execution_id"))

_count = pg_insert(automation_counters).values(automation_id=param("automation_id"), started=1)
_TAKE_COUNT = _count.on_conflict_do_update(
    index_elements=[automation_counters.c.automation_id],
    set_={"started": automation_counters.c.started + 1},
    where=automation_counters.c.started < param("max_executions", Integer),
).returning(automation_counters.c.started)
_GIVE_COUNT = (
    update(automation_counters)
    .where(automation_counters.c.automation_id == param("automation_id"))
    .values(started=automation_counters.c.started - 1)
)

_ENROLL = (
    pg_insert(enrollments)
    .values(
        execution_id=param("execution_id"),
        org_id=param("org_id"),
        automation_id=param("automation_id"),
        automation_version=param("automation_version", Integer),
        event_id=param("event_id"),
        contact_id=param("contact_id"),
        priority=param("priority"),
        created_at=param("now", DateTime(timezone=True)),
        start=param("start", enrollments.c.start.type),
        dispatched_at=param("now", DateTime(timezone=True)),
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

GIVE_SLOTS_OF = delete(concurrency_slots).where(concurrency_slots.c.execution_id == any_(IDS))
"""Gives back the slots of a set of executions."""


def _enroll_params(batch: Sequence[EnrollRequest]) -> dict[str, Any]:
    """The column arrays of :data:`_ENROLL_MANY` for ``batch``."""
    now = batch[0].enrollment.created_at
    return {
        "now": now,
        "execution_ids": [request.enrollment.execution_id for request in batch],
        "org_ids": [request.enrollment.org_id for request in batch],
        "automation_ids": [request.enrollment.automation_id for request in batch],
        "versions": [request.enrollment.automation_version for request in batch],
        "event_ids": [request.enrollment.event_id for request in batch],
        "contact_ids": [request.enrollment.contact_id for request in batch],
        "slot_contacts": [request.slot_contact for request in batch],
        "slots": [request.slots for request in batch],
        "priorities": [request.enrollment.priority for request in batch],
        "starts": [request.enrollment.start for request in batch],
    }


class EnrollmentQueries(Queries):
    """Enrolling executions, all keys or none, and purging ended enrollments."""

    async def enroll_many(self, requests: Sequence[EnrollRequest]) -> set[str]:
        """Enrolls a batch; returns the execution ids enrolled. Same outcome as :meth:`enroll` each.

        The requests whose policy needs only a slot, or nothing, go through one set-based
        statement (:data:`_ENROLL_MANY`). What it refuses (a slot taken by another request of the
        batch or by a concurrent transaction, a contact at its limit) and the requests needing
        ``run_once`` or ``max_executions`` go through :meth:`enroll` one at a time, in order. A
        slot whose enrollment turned out to exist already (the same event again) is given back.
        """
        enrolled: set[str] = set()
        one_by_one = [request for request in requests if not request.set_based]
        batch = {request.enrollment.execution_id: request for request in requests if request.set_based}
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
                await self.conn.execute(GIVE_SLOTS_OF, {"ids": orphans})
        order = {id(r): i for i, r in enumerate(requests)}
        for request in sorted(one_by_one, key=lambda request: order[id(request)]):
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

    async def purge_enrollments(self, created_before: datetime, limit: int) -> int:
        """Deletes up to ``limit`` enrollments created before the cutoff whose execution has ended."""
        old = (
            select(enrollments.c.execution_id)
            .where(enrollments.c.created_at < created_before, enrollments.c.ended_at.is_not(None))
            .limit(limit)
            .scalar_subquery()
        )
        result = await self.conn.execute(delete(enrollments).where(enrollments.c.execution_id.in_(old)))
        return rowcount(result)
