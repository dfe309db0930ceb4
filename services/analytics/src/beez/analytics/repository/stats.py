"""Every query of the analytics service, scoped by organization, on the caller's session.

The lifecycle consumer applies events in batches, so its statements take whole columns as
arrays and ``unnest`` them: one statement and one round trip per step of a batch, whatever its
size. They are built once, here. Each touches its rows in sorted key order (inbox keys, then
executions, then counters), so two batches running at once in different processes wait for each
other instead of deadlocking.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import ARRAY, BigInteger, DateTime, Table, Text, and_, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import array, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.selectable import TableValuedAlias
from sqlalchemy.types import TypeEngine

from beez.analytics.domain.counting import CountersKey, ExecutionKey, ExecutionRow
from beez.analytics.models import AutomationCounters, ExecutionOutcome, inbox
from beez.kit.bus.inbox import purge_inbox
from beez.kit.db import Statement, pipelined

PERCENTILES = (0.5, 0.95, 0.99)

COUNTS = ("total", "succeeded", "failed", "cancelled")
"""The counter columns of ``automation_counters``."""


def _unnest(**columns: TypeEngine[Any]) -> TableValuedAlias:
    """``unnest(:each_a, :each_b, ...) AS anon(a, b, ...)``: one array parameter per column.

    The parameters are not named as the columns: INSERT and UPDATE reserve those names.
    """
    arrays = [bindparam(f"each_{name}", type_=ARRAY(type_)) for name, type_ in columns.items()]
    return func.unnest(*arrays).table_valued(*columns).render_derived()


def _arrays(columns: Mapping[str, Sequence[Any]]) -> dict[str, Sequence[Any]]:
    """The parameters of an :func:`_unnest`: each column's values, in row order."""
    return {f"each_{name}": values for name, values in columns.items()}


def _fields(rows: Sequence[ExecutionRow], names: Iterable[str]) -> dict[str, Sequence[Any]]:
    """The parameters carrying these fields of ``rows``, sorted by key."""
    ordered = sorted(rows, key=lambda row: row.key)
    return _arrays({name: [getattr(row, name) for row in ordered] for name in names})


_outcomes = cast(Table, ExecutionOutcome.__table__)
_counters = cast(Table, AutomationCounters.__table__)
_TIME = DateTime(timezone=True)
_ROW: dict[str, TypeEngine[Any]] = {
    "org_id": Text(),
    "execution_id": Text(),
    "automation_id": Text(),
    "started_at": _TIME,
    "outcome": Text(),
    "finished_at": _TIME,
    "duration_ms": BigInteger(),
}
_STATE = ("started_at", "outcome", "finished_at", "duration_ms")

_keys = _unnest(message_id=Text())
_CLAIM = (
    insert(inbox)
    .from_select(["consumer", "message_id"], select(bindparam("consumer", type_=Text), _keys.c.message_id))
    .on_conflict_do_nothing()
    .returning(inbox.c.message_id)
)

_new = _unnest(**_ROW)
_INSERT_EXECUTIONS = (
    insert(_outcomes)
    .from_select(list(_ROW), select(*(_new.c[name] for name in _ROW)))
    .on_conflict_do_nothing()
    .returning(_outcomes.c.org_id, _outcomes.c.execution_id)
)

_ids = _unnest(org_id=Text(), execution_id=Text())
_LOCK_EXECUTIONS = (
    select(*(_outcomes.c[name] for name in _ROW))
    .join(_ids, and_(_outcomes.c.org_id == _ids.c.org_id, _outcomes.c.execution_id == _ids.c.execution_id))
    .order_by(_outcomes.c.org_id, _outcomes.c.execution_id)
    .with_for_update(of=_outcomes)
)

_changed = _unnest(org_id=Text(), execution_id=Text(), **{name: _ROW[name] for name in _STATE})
_UPDATE_EXECUTIONS = (
    update(_outcomes)
    .where(_outcomes.c.org_id == _changed.c.org_id, _outcomes.c.execution_id == _changed.c.execution_id)
    .values({name: _changed.c[name] for name in _STATE})
)

_deltas = _unnest(org_id=Text(), automation_id=Text(), **dict.fromkeys(COUNTS, BigInteger()))
_counters_insert = insert(_counters).from_select(
    ["org_id", "automation_id", *COUNTS],
    select(_deltas.c.org_id, _deltas.c.automation_id, *(_deltas.c[name] for name in COUNTS)),
)
_ADD_TO_COUNTERS = _counters_insert.on_conflict_do_update(
    index_elements=[_counters.c.org_id, _counters.c.automation_id],
    set_={
        **{name: _counters.c[name] + _counters_insert.excluded[name] for name in COUNTS},
        "updated_at": func.now(),
    },
)


def _counter_deltas(deltas: Mapping[CountersKey, Mapping[str, int]]) -> dict[str, Sequence[Any]]:
    """The parameters of ``_ADD_TO_COUNTERS``: each automation's deltas, in key order."""
    ordered = sorted(deltas)
    columns: dict[str, Sequence[Any]] = {
        "org_id": [org for org, _ in ordered],
        "automation_id": [automation for _, automation in ordered],
    }
    for name in COUNTS:
        columns[name] = [deltas[key].get(name, 0) for key in ordered]
    return _arrays(columns)


class StatsRepository:
    """Queries over the counters, the execution outcomes and the inbox."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def claim(self, consumer: str, message_keys: Collection[str]) -> set[str]:
        """Records the messages as handled; returns the keys that were not yet (apply those).

        A key another transaction is claiming right now makes this wait for that one's outcome,
        as :func:`beez.kit.bus.inbox.claim` does for one key.
        """
        if not message_keys:
            return set()
        params = {"consumer": consumer, **_arrays({"message_id": sorted(message_keys)})}
        [rows] = await pipelined(self._session, [(_CLAIM, params)])
        return {row[0] for row in rows}

    async def purge_inbox(self, older_than: timedelta) -> int:
        return await purge_inbox(self._session, inbox, older_than)

    async def insert_executions(self, rows: Sequence[ExecutionRow]) -> set[ExecutionKey]:
        """Inserts the rows of executions not known yet; returns the keys of those inserted.

        The others are left alone (lock and change them with :meth:`lock_executions` and
        :meth:`write_changes`). Inserted rows stay locked until the transaction ends.
        """
        if not rows:
            return set()
        [inserted] = await pipelined(self._session, [(_INSERT_EXECUTIONS, _fields(rows, _ROW))])
        return {(org_id, execution_id) for org_id, execution_id in inserted}

    async def lock_executions(self, keys: Collection[ExecutionKey]) -> dict[ExecutionKey, ExecutionRow]:
        """The existing rows of these executions, locked for this transaction in key order."""
        if not keys:
            return {}
        ordered = sorted(keys)
        params = _arrays({"org_id": [org for org, _ in ordered], "execution_id": [ex for _, ex in ordered]})
        [locked] = await pipelined(self._session, [(_LOCK_EXECUTIONS, params)])
        rows = [ExecutionRow(**dict(zip(_ROW, values, strict=True))) for values in locked]
        return {row.key: row for row in rows}

    async def write_changes(
        self, rows: Sequence[ExecutionRow], deltas: Mapping[CountersKey, Mapping[str, int]]
    ) -> None:
        """Writes the state of changed existing rows (started time, outcome, finished time,
        duration) and adds each automation's counter deltas, creating its counters at 0.

        Both go in one round trip: they are a batch's last writes and need no answer.
        """
        statements: list[Statement] = []
        if rows:
            statements.append((_UPDATE_EXECUTIONS, _fields(rows, ("org_id", "execution_id", *_STATE))))
        if deltas:
            statements.append((_ADD_TO_COUNTERS, _counter_deltas(deltas)))
        if statements:
            await pipelined(self._session, statements)

    async def counters(self, org_id: str, automation_id: str) -> AutomationCounters | None:
        return await self._session.get(AutomationCounters, (org_id, automation_id))

    async def duration_percentiles(self, org_id: str, automation_id: str, samples: int) -> list[float] | None:
        """p50, p95 and p99 of the durations of the ``samples`` most recent completed executions."""
        recent = (
            select(ExecutionOutcome.duration_ms)
            .where(
                ExecutionOutcome.org_id == org_id,
                ExecutionOutcome.automation_id == automation_id,
                ExecutionOutcome.outcome == "completed",
                ExecutionOutcome.duration_ms.is_not(None),
            )
            .order_by(ExecutionOutcome.finished_at.desc())
            .limit(samples)
            .subquery()
        )
        query = select(func.percentile_cont(array(PERCENTILES)).within_group(recent.c.duration_ms))
        result = await self._session.scalar(query)
        return [float(value) for value in result] if result else None
