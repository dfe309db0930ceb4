"""Bus dead letters (``executor.bus_dead_letters``): stored once per DLQ message id, listed newest
first by keyset, locked for a re-drive, deleted by a purge a page at a time. Every query is
scoped by organization; each filter has an index led by ``org_id`` (decision 0029).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, Select, and_, delete, func, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from beez.executor.dlq.domain import Arrival, DeadLetterFilter, State
from beez.executor.models import BusDeadLetter
from beez.kit.paging import MomentKey


async def store(session: AsyncSession, dead_letter_id: str, arrival: Arrival, now: datetime) -> bool:
    """Inserts ``arrival`` unless its DLQ message id is stored already; whether it was new.
    ``now`` is its time when the stream's is unknown."""
    statement = (
        insert(BusDeadLetter)
        .values(
            id=dead_letter_id,
            dlq_msg_id=arrival.dlq_msg_id,
            org_id=arrival.org_id,
            consumer=arrival.consumer,
            subject=arrival.subject,
            stream=arrival.stream,
            stream_seq=arrival.stream_seq,
            deliveries=arrival.deliveries,
            headers=arrival.headers,
            error=arrival.error,
            error_category=arrival.error_category,
            payload=arrival.payload,
            dead_lettered_at=arrival.stored_at or now,
            state=State.DEAD.value,
            redrive_count=0,
        )
        .on_conflict_do_nothing(index_elements=[BusDeadLetter.dlq_msg_id])
        .returning(BusDeadLetter.id)
    )
    return (await session.execute(statement)).first() is not None


def _where(where: DeadLetterFilter) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = [BusDeadLetter.org_id == where.org_id]
    if where.consumer:
        clauses.append(BusDeadLetter.consumer == where.consumer)
    if where.error_category:
        clauses.append(BusDeadLetter.error_category == where.error_category)
    if where.since is not None:
        clauses.append(BusDeadLetter.dead_lettered_at >= where.since)
    if where.before is not None:
        clauses.append(BusDeadLetter.dead_lettered_at < where.before)
    if where.state is not None:
        clauses.append(BusDeadLetter.state == where.state.value)
    return clauses


def find_query(where: DeadLetterFilter, after: MomentKey | None, limit: int) -> Select[Any]:
    """The query of :func:`find` (tests read its plan)."""
    query: Select[Any] = select(BusDeadLetter).where(*_where(where))
    if after is not None:
        moment, key = after
        query = query.where(
            or_(
                BusDeadLetter.dead_lettered_at < moment,
                and_(BusDeadLetter.dead_lettered_at == moment, BusDeadLetter.id < key),
            )
        )
    return query.order_by(BusDeadLetter.dead_lettered_at.desc(), BusDeadLetter.id.desc()).limit(limit)


async def find(
    session: AsyncSession, where: DeadLetterFilter, after: MomentKey | None, limit: int
) -> list[BusDeadLetter]:
    """Up to ``limit`` dead letters matching ``where``, newest first, after the cursor ``after``."""
    return list((await session.execute(find_query(where, after, limit))).scalars())


async def get(
    session: AsyncSession, org_id: str, dead_letter_id: str, *, lock: bool = False
) -> BusDeadLetter | None:
    """The organization's dead letter ``dead_letter_id``, locked ``FOR UPDATE`` when ``lock``."""
    query = select(BusDeadLetter).where(BusDeadLetter.org_id == org_id, BusDeadLetter.id == dead_letter_id)
    if lock:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


def _dead_under(prefixes: Sequence[str]) -> list[ColumnElement[bool]]:
    return [
        BusDeadLetter.state == State.DEAD.value,
        or_(*(BusDeadLetter.subject.startswith(prefix, autoescape=True) for prefix in prefixes)),
    ]


def lock_dead_query(where: DeadLetterFilter, prefixes: Sequence[str], limit: int) -> Select[Any]:
    """The query of :func:`lock_dead` (tests read its plan)."""
    return (
        select(BusDeadLetter)
        .where(*_where(where), *_dead_under(prefixes))
        .order_by(BusDeadLetter.dead_lettered_at, BusDeadLetter.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )


async def lock_dead(
    session: AsyncSession, where: DeadLetterFilter, prefixes: Sequence[str], limit: int
) -> list[BusDeadLetter]:
    """Up to ``limit`` not re-driven dead letters matching ``where`` whose subject starts with one
    of ``prefixes``, oldest first, locked; rows another transaction holds are skipped (two bulk
    re-drives share the work, never double it)."""
    return list((await session.execute(lock_dead_query(where, prefixes, limit))).scalars())


async def count_dead(session: AsyncSession, where: DeadLetterFilter, prefixes: Sequence[str]) -> int:
    """How many dead letters matching ``where``, under one of ``prefixes``, are not re-driven."""
    query = select(func.count()).select_from(BusDeadLetter).where(*_where(where), *_dead_under(prefixes))
    return int((await session.execute(query)).scalar_one())


async def purge(session: AsyncSession, where: DeadLetterFilter, ids: Sequence[str], limit: int) -> int:
    """Deletes up to ``limit`` of the dead letters matching ``where`` (only ``ids`` of them, when
    given); how many. A purge of many calls it a page at a time, each in its own transaction, so
    it neither holds every matching row locked in one transaction nor reads their ids back."""
    chosen = select(BusDeadLetter.id).where(*_where(where))
    if ids:
        chosen = chosen.where(BusDeadLetter.id.in_(list(ids)))
    statement = delete(BusDeadLetter).where(BusDeadLetter.id.in_(chosen.limit(limit).scalar_subquery()))
    result = cast(CursorResult[Any], await session.execute(statement))
    return int(result.rowcount)
