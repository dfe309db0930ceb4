"""What the executor's lifecycle events change: enrollments end, their waits close, their slots
are given back, and a started execution's enrollment drops its START payload."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import DateTime, Text, any_, bindparam, func, null, select, update
from sqlalchemy.dialects.postgresql import ARRAY

from beez.kit.db import Statement, pipelined
from beez.trigger.models import enrollments, waits
from beez.trigger.repository.base import IDS, Queries, param
from beez.trigger.repository.enrollments import GIVE_SLOTS_OF

_LOCK_ENROLLMENTS = (
    select(enrollments.c.execution_id)
    .where(enrollments.c.execution_id == any_(IDS))
    .order_by(enrollments.c.execution_id)
    .with_for_update(key_share=True)
)
_ended = (
    func.unnest(IDS, bindparam("outcomes", type_=ARRAY(Text)))
    .table_valued("execution_id", "outcome")
    .render_derived("ended")
)
_END_ENROLLMENTS = (
    update(enrollments)
    .where(enrollments.c.execution_id == _ended.c.execution_id, enrollments.c.ended_at.is_(None))
    .values(ended_at=param("now", DateTime(timezone=True)), outcome=_ended.c.outcome, start=null())
)
_CLOSE_WAITS_OF = (
    update(waits)
    .where(
        waits.c.id.in_(
            select(waits.c.id)
            .where(waits.c.execution_id == any_(IDS), waits.c.closed_at.is_(None))
            .order_by(waits.c.id)
            .with_for_update(key_share=True)
        )
    )
    .values(closed_at=param("now", DateTime(timezone=True)), closed_reason="execution_ended")
)
_DROP_STARTS = (
    update(enrollments)
    .where(enrollments.c.execution_id == any_(IDS), enrollments.c.start.is_not(None))
    .values(start=null())
)


class LifecycleQueries(Queries):
    """Applies batches of lifecycle events."""

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
                (GIVE_SLOTS_OF, {"ids": ended_ids}),
            ]
        if started:
            statements.append((_DROP_STARTS, {"ids": sorted(started)}))
        await pipelined(self.conn, statements)
