"""What the executor's lifecycle events change: enrollments end, their waits close, their slots
are given back, and a started execution's enrollment drops its START payload."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import DateTime, Text, bindparam, func, null, select, tuple_, update
from sqlalchemy.dialects.postgresql import ARRAY

from beez.kit.db import Statement, pipelined
from beez.trigger.models import concurrency_slots, enrollments, waits
from beez.trigger.repository.base import IDS, Queries, param

ORGS = bindparam("orgs", type_=ARRAY(Text))
"""The organization of each execution of ``ids``, position by position."""

_pairs = func.unnest(IDS, ORGS).table_valued("execution_id", "org_id").render_derived("pairs")
_OF_BATCH = select(_pairs.c.execution_id, _pairs.c.org_id)
"""The batch's (execution id, organization) pairs: every statement matches rows of both."""

_LOCK_ENROLLMENTS = (
    select(enrollments.c.execution_id)
    .where(tuple_(enrollments.c.execution_id, enrollments.c.org_id).in_(_OF_BATCH))
    .order_by(enrollments.c.execution_id)
    .with_for_update(key_share=True)
)
_ended = (
    func.unnest(IDS, ORGS, bindparam("outcomes", type_=ARRAY(Text)))
    .table_valued("execution_id", "org_id", "outcome")
    .render_derived("ended")
)
_END_ENROLLMENTS = (
    update(enrollments)
    .where(
        enrollments.c.execution_id == _ended.c.execution_id,
        enrollments.c.org_id == _ended.c.org_id,
        enrollments.c.ended_at.is_(None),
    )
    .values(ended_at=param("now", DateTime(timezone=True)), outcome=_ended.c.outcome, start=null())
)
_CLOSE_WAITS_OF = (
    update(waits)
    .where(
        waits.c.id.in_(
            select(waits.c.id)
            .where(tuple_(waits.c.execution_id, waits.c.org_id).in_(_OF_BATCH), waits.c.closed_at.is_(None))
            .order_by(waits.c.id)
            .with_for_update(key_share=True)
        )
    )
    .values(closed_at=param("now", DateTime(timezone=True)), closed_reason="execution_ended")
)
_GIVE_SLOTS_OF = concurrency_slots.delete().where(
    concurrency_slots.c.execution_id.in_(
        select(enrollments.c.execution_id).where(
            tuple_(enrollments.c.execution_id, enrollments.c.org_id).in_(_OF_BATCH)
        )
    )
)
"""Slots carry no organization: those of executions whose enrollment is the organization's."""
_DROP_STARTS = (
    update(enrollments)
    .where(
        tuple_(enrollments.c.execution_id, enrollments.c.org_id).in_(_OF_BATCH),
        enrollments.c.start.is_not(None),
    )
    .values(start=null())
)


@dataclass(frozen=True, slots=True)
class HeldSlot:
    """A concurrency slot held since ``acquired_at`` by an execution of ``org_id``."""

    acquired_at: datetime
    execution_id: str
    org_id: str


_LONG_HELD_SLOTS = (
    select(concurrency_slots.c.acquired_at, concurrency_slots.c.execution_id, enrollments.c.org_id)
    .join(enrollments, enrollments.c.execution_id == concurrency_slots.c.execution_id)
    .where(
        concurrency_slots.c.acquired_at < param("cutoff", DateTime(timezone=True)),
        tuple_(concurrency_slots.c.acquired_at, concurrency_slots.c.execution_id)
        > tuple_(param("after_at", DateTime(timezone=True)), param("after_id")),
    )
    .order_by(concurrency_slots.c.acquired_at, concurrency_slots.c.execution_id)
    .limit(bindparam("limit"))
)


def _batch(executions: Sequence[tuple[str, str]]) -> dict[str, list[str]]:
    return {"ids": [execution for execution, _ in executions], "orgs": [org for _, org in executions]}


class LifecycleQueries(Queries):
    """Applies batches of lifecycle events."""

    async def apply_lifecycle(
        self, ended: Mapping[tuple[str, str], str], started: Sequence[tuple[str, str]], now: datetime
    ) -> None:
        """Applies a batch of lifecycle events in five set-based statements, sent together (idempotent).

        Executions are named by ``(execution id, organization)``, the organization being the one
        the event's subject named: every statement touches only rows of that organization, so an
        event published under one organization naming another's execution changes nothing.
        ``ended`` maps executions to their outcome: each such enrollment is marked ended once
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
        every = sorted({*ended, *started})
        if not every:
            return
        statements: list[Statement] = [(_LOCK_ENROLLMENTS, _batch(every))]
        if ended:
            ended_keys = sorted(ended)
            statements += [
                (
                    _END_ENROLLMENTS,
                    {**_batch(ended_keys), "outcomes": [ended[key] for key in ended_keys], "now": now},
                ),
                (_CLOSE_WAITS_OF, {**_batch(ended_keys), "now": now}),
                (_GIVE_SLOTS_OF, _batch(ended_keys)),
            ]
        if started:
            statements.append((_DROP_STARTS, _batch(sorted(started))))
        await pipelined(self.conn, statements)

    async def long_held_slots(
        self, cutoff: datetime, after: tuple[datetime, str] | None, limit: int
    ) -> list[HeldSlot]:
        """Slots acquired before ``cutoff``, by ``(acquired_at, execution id)`` after ``after``,
        with their execution's organization (from its enrollment: slots carry none)."""
        after_at, after_id = after or (datetime.min.replace(tzinfo=UTC), "")
        result = await self.conn.execute(
            _LONG_HELD_SLOTS, {"cutoff": cutoff, "after_at": after_at, "after_id": after_id, "limit": limit}
        )
        return [HeldSlot(*row) for row in result]
