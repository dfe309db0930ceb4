"""Pending fires of time-based triggers and the audiences they fan out to (decision 0038)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, select, text, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert

from beez.trigger.models import automation_index, contact_dates, contacts, scheduled_fires
from beez.trigger.repository.base import Queries, rowcount

RECURRENCE = "recurrence"
DEFERRED = "deferred"


@dataclass(frozen=True, slots=True)
class FireRow:
    """A fire to store; ``id`` is derived from what it is, so storing it twice writes one row."""

    id: str
    org_id: str
    automation_id: str
    kind: str
    due_at: datetime
    zones: list[str] | None = None
    default_zone: bool = False
    contact_id: str | None = None
    event: bytes | None = None


@dataclass(frozen=True, slots=True)
class DueFire:
    """A claimed due fire with its automation as the index has it now (None fields: it is gone
    or inactive)."""

    id: str
    org_id: str
    automation_id: str
    kind: str
    due_at: datetime
    zones: list[str] | None
    default_zone: bool
    contact_id: str | None
    event: bytes | None
    cursor: str | None
    active: bool | None
    version: int | None
    priority: str | None
    run_once: bool | None
    max_executions: int | None
    reentry: str | None
    max_concurrent_per_contact: int | None
    workflow: bytes | None


@dataclass(frozen=True, slots=True)
class AudienceQuery:
    """Which contacts one page of a fan-out takes: the audience, the zones, and the day's sweep."""

    org_id: str
    list: str = ""
    tag: str = ""
    zones: Sequence[str] | None = None
    default_zone: bool = False
    known_zones: Sequence[str] = ()
    date_field: str = ""
    month_days: Sequence[int] = ()
    date_value: date | None = None
    active_from: datetime | None = None
    active_before: datetime | None = None


@dataclass(frozen=True, slots=True)
class ContactRow:
    """What a fire puts in the event's contact snapshot."""

    contact_id: str
    email: str | None
    phone: str | None
    timezone: str | None
    tags: list[str]
    lists: list[str]
    score: float | None
    fields: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ListedFire:
    """An upcoming fire, as ListScheduled shows it."""

    id: str
    automation_id: str
    contact_id: str | None
    kind: str
    due_at: datetime


_c = contacts.c
_SNAPSHOT = "c.contact_id, c.email, c.phone, c.timezone, c.tags, c.lists, c.score, c.fields"


def audience_sql(query: AudienceQuery) -> tuple[Any, dict[str, Any]]:
    """One keyset page of the audience, ordered by contact id, after ``:cursor``.

    A date sweep starts from ``contact_dates`` through its ``(org, field, month_day)`` or
    ``(org, field, value)`` index, and inactivity from the ``(org, last_activity_at)`` index,
    each in a materialized CTE so the planner cannot turn them into a walk of every contact.
    """
    params: dict[str, Any] = {"org_id": query.org_id}
    where = ["c.org_id = :org_id", "c.deleted_at IS NULL", "c.contact_id > :cursor"]
    hits = ""
    if query.date_field:
        params["field"] = query.date_field
        if query.month_days:
            params["month_days"] = list(query.month_days)
            match = "d.month_day = ANY(CAST(:month_days AS smallint[]))"
        else:
            params["date_value"] = query.date_value
            match = "d.value = :date_value"
        hits = (
            f"WITH hits AS MATERIALIZED (SELECT d.contact_id FROM {contact_dates.fullname} d "
            f"WHERE d.org_id = :org_id AND d.field = :field AND {match} AND d.contact_id > :cursor) "
        )
    elif query.active_before is not None:
        params["active_from"] = query.active_from
        params["active_before"] = query.active_before
        hits = (
            f"WITH hits AS MATERIALIZED (SELECT a.contact_id FROM {contacts.fullname} a "
            "WHERE a.org_id = :org_id AND a.deleted_at IS NULL AND a.last_activity_at > :active_from "
            "AND a.last_activity_at <= :active_before AND a.contact_id > :cursor) "
        )
    if hits:
        where.append("c.contact_id IN (SELECT contact_id FROM hits)")
    if query.list:
        params["list"] = [query.list]
        where.append("c.lists @> CAST(:list AS text[])")
    if query.tag:
        params["tag"] = [query.tag]
        where.append("c.tags @> CAST(:tag AS text[])")
    if query.zones is not None:
        params["zones"] = list(query.zones)
        zone = "c.timezone = ANY(CAST(:zones AS text[]))"
        if query.default_zone:
            params["known"] = list(query.known_zones)
            zone = f"({zone} OR c.timezone IS NULL OR NOT c.timezone = ANY(CAST(:known AS text[])))"
        where.append(zone)
    sql = (
        f"{hits}SELECT {_SNAPSHOT} FROM {contacts.fullname} c WHERE {' AND '.join(where)} "
        "ORDER BY c.contact_id LIMIT :limit"
    )
    return text(sql), params


_CLAIM = text(
    f"""
    SELECT f.id, f.org_id, f.automation_id, f.kind, f.due_at, f.zones, f.default_zone, f.contact_id,
           f.event, f.cursor, a.active AND NOT a.deleted, a.version, a.priority, a.run_once,
           a.max_executions, a.reentry, a.max_concurrent_per_contact, a.workflow
    FROM (
        SELECT * FROM {scheduled_fires.fullname}
        WHERE due_at <= :now
        ORDER BY due_at
        LIMIT :limit
        FOR UPDATE SKIP LOCKED
    ) f
    LEFT JOIN {automation_index.fullname} a ON a.automation_id = f.automation_id AND a.org_id = f.org_id
    ORDER BY f.due_at
    """
)


_LOCK_ONE = text(
    f"""
    SELECT f.id, f.org_id, f.automation_id, f.kind, f.due_at, f.zones, f.default_zone, f.contact_id,
           f.event, f.cursor, a.active AND NOT a.deleted, a.version, a.priority, a.run_once,
           a.max_executions, a.reentry, a.max_concurrent_per_contact, a.workflow
    FROM (
        SELECT * FROM {scheduled_fires.fullname}
        WHERE id = :id AND org_id = :org_id
        FOR UPDATE
    ) f
    LEFT JOIN {automation_index.fullname} a ON a.automation_id = f.automation_id AND a.org_id = f.org_id
    """
)
"""One of the organization's fires, locked (waiting for a scheduler mid-page), with its automation."""


_insert = pg_insert(scheduled_fires)
_STORE = _insert.on_conflict_do_update(
    index_elements=[scheduled_fires.c.id],
    set_={
        "zones": text(
            f"(SELECT array_agg(DISTINCT z ORDER BY z) FROM unnest({scheduled_fires.name}.zones "
            "|| EXCLUDED.zones) z)"
        ),
        "default_zone": scheduled_fires.c.default_zone | _insert.excluded.default_zone,
    },
    where=_insert.excluded.zones.is_not(None),
)
"""Stores a fire; the same fire again (a zone group meeting another at one instant) merges zones."""


class ScheduleQueries(Queries):
    """Storing, claiming and fanning out the fires of time-based triggers."""

    async def store_fires(self, rows: Sequence[FireRow], now: datetime) -> None:
        """Inserts fires; a fire already stored (same id) takes the union of both's zones."""
        if not rows:
            return
        await self.conn.execute(
            _STORE,
            [
                {
                    "id": row.id,
                    "org_id": row.org_id,
                    "automation_id": row.automation_id,
                    "kind": row.kind,
                    "due_at": row.due_at,
                    "zones": row.zones,
                    "default_zone": row.default_zone,
                    "contact_id": row.contact_id,
                    "event": row.event,
                    "created_at": now,
                }
                for row in rows
            ],
        )

    async def drop_recurrences(self, automation_id: str, now: datetime) -> int:
        """Deletes an automation's future recurrence fires (it is updated: they are planned
        again). A fire already due, or part-way through its fan-out, is left to finish: dropping
        it would skip the rest of its audience; its next occurrence has the id the new plan
        gives it, so the two merge."""
        return rowcount(
            await self.conn.execute(
                delete(scheduled_fires).where(
                    scheduled_fires.c.automation_id == automation_id,
                    scheduled_fires.c.kind == RECURRENCE,
                    scheduled_fires.c.due_at > now,
                    scheduled_fires.c.cursor.is_(None),
                )
            )
        )

    async def drop_fires(self, automation_id: str) -> int:
        """Deletes every pending fire of an automation (deactivated or deleted)."""
        return rowcount(
            await self.conn.execute(
                delete(scheduled_fires).where(scheduled_fires.c.automation_id == automation_id)
            )
        )

    async def cancel_contact_fires(self, org_id: str, contact_ids: Sequence[str]) -> int:
        """Deletes deleted contacts' pending fires; returns how many. Fan-outs already skip
        deleted contacts, so only fires naming one of them need removing."""
        return rowcount(
            await self.conn.execute(
                delete(scheduled_fires).where(
                    scheduled_fires.c.org_id == org_id, scheduled_fires.c.contact_id.in_(list(contact_ids))
                )
            )
        )

    async def claim_due(self, now: datetime, limit: int = 1) -> list[DueFire]:
        """Up to ``limit`` due fires, oldest first, locked ``FOR UPDATE SKIP LOCKED`` so replicas
        share them, with their automation as the index has it."""
        rows = await self.conn.execute(_CLAIM, {"now": now, "limit": limit})
        return [DueFire(*row) for row in rows]

    async def lock_fire(self, org_id: str, fire_id: str) -> DueFire | None:
        """The organization's fire ``fire_id``, locked; None when it has none by that id."""
        row = (await self.conn.execute(_LOCK_ONE, {"org_id": org_id, "id": fire_id})).first()
        return DueFire(*row) if row is not None else None

    async def fire_done(self, fire_id: str) -> None:
        await self.conn.execute(delete(scheduled_fires).where(scheduled_fires.c.id == fire_id))

    async def fire_progress(self, fire_id: str, cursor: str) -> None:
        await self.conn.execute(
            scheduled_fires.update().where(scheduled_fires.c.id == fire_id).values(cursor=cursor)
        )

    async def audience_page(self, query: AudienceQuery, cursor: str, limit: int) -> list[ContactRow]:
        """Up to ``limit`` contacts of the audience after ``cursor``, by contact id."""
        stmt, params = audience_sql(query)
        rows = await self.conn.execute(stmt, {**params, "cursor": cursor, "limit": limit})
        return [ContactRow(*row) for row in rows]

    async def list_fires(
        self, org_id: str, automation_id: str | None, after: tuple[datetime, str] | None, limit: int
    ) -> list[ListedFire]:
        """The organization's pending fires by ``(due_at, id)``, after the keyset ``after``."""
        stmt = select(
            scheduled_fires.c.id,
            scheduled_fires.c.automation_id,
            scheduled_fires.c.contact_id,
            scheduled_fires.c.kind,
            scheduled_fires.c.due_at,
        ).where(scheduled_fires.c.org_id == org_id)
        if automation_id:
            stmt = stmt.where(scheduled_fires.c.automation_id == automation_id)
        if after is not None:
            stmt = stmt.where(tuple_(scheduled_fires.c.due_at, scheduled_fires.c.id) > tuple_(*after))
        stmt = stmt.order_by(scheduled_fires.c.due_at, scheduled_fires.c.id).limit(limit)
        return [ListedFire(*row) for row in await self.conn.execute(stmt)]
