"""The contact projection's SQL: contacts, their dates, the field registry, field sketches and
condition states.

Every write is set-based: one statement per table and batch (``unnest`` of column arrays), run
in the caller's transaction. Rows are locked before they are merged (:data:`LOCK_NEW_CONTACTS`
then :data:`READ_CONTACTS` ``FOR UPDATE``), so two transactions never merge the same contact from
the same old state; the merged rows go back with :data:`UPSERT_CONTACTS`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import text

from beez.kit.db import Statement, pipelined
from beez.trigger.domain.projection import ContactState
from beez.trigger.domain.sketch import Delta
from beez.trigger.models import (
    automation_index,
    condition_states,
    contact_dates,
    contact_fields,
    contacts,
    field_sketches,
    waits,
)
from beez.trigger.repository.base import Queries

NEVER = datetime(1970, 1, 1, tzinfo=UTC)
"""``observed_at`` of a row no snapshot has reached yet (any snapshot is newer)."""

_COLUMNS = (
    "contact_id, email, phone, timezone, country, score, lifecycle_stage, tags, lists, fields, counters, "
    "signals, created_at, last_activity_at, last_purchase_at, purchase_count, monetary, observed_at, "
    "deleted_at"
)

LOCK_NEW_CONTACTS = text(
    f"""
    INSERT INTO {contacts.fullname} (org_id, contact_id, observed_at, updated_at)
    SELECT :org_id, c, :never, :now FROM unnest(CAST(:contacts AS text[])) AS c
    ON CONFLICT DO NOTHING
    """
)
"""Creates the rows of contacts not seen before, so the read below can lock every contact."""

READ_CONTACTS = text(
    f"""
    SELECT {_COLUMNS} FROM {contacts.fullname}
    WHERE org_id = :org_id AND contact_id = ANY(CAST(:contacts AS text[]))
    ORDER BY contact_id
    FOR UPDATE
    """
)

UPSERT_CONTACTS = text(
    f"""
    INSERT INTO {contacts.fullname} (org_id, {_COLUMNS}, updated_at)
    SELECT :org_id, r.contact_id, r.email, r.phone, r.timezone, r.country, r.score, r.lifecycle_stage,
           ARRAY(SELECT jsonb_array_elements_text(r.tags::jsonb)),
           ARRAY(SELECT jsonb_array_elements_text(r.lists::jsonb)),
           r.fields::jsonb, r.counters::jsonb, r.signals::jsonb, r.created_at, r.last_activity_at,
           r.last_purchase_at, r.purchase_count, r.monetary, r.observed_at, r.deleted_at, :now
    FROM unnest(
        CAST(:contact_ids AS text[]), CAST(:emails AS text[]), CAST(:phones AS text[]),
        CAST(:timezones AS text[]), CAST(:countries AS text[]), CAST(:scores AS float8[]),
        CAST(:stages AS text[]), CAST(:tags AS text[]), CAST(:lists AS text[]), CAST(:fields AS text[]),
        CAST(:counters AS text[]), CAST(:signals AS text[]), CAST(:created AS timestamptz[]),
        CAST(:active AS timestamptz[]), CAST(:purchased AS timestamptz[]), CAST(:purchases AS integer[]),
        CAST(:monetary AS numeric[]), CAST(:observed AS timestamptz[]), CAST(:deleted AS timestamptz[])
    ) AS r(contact_id, email, phone, timezone, country, score, lifecycle_stage, tags, lists, fields,
           counters, signals, created_at, last_activity_at, last_purchase_at, purchase_count, monetary,
           observed_at, deleted_at)
    ON CONFLICT (org_id, contact_id) DO UPDATE SET
        email = excluded.email, phone = excluded.phone, timezone = excluded.timezone,
        country = excluded.country, score = excluded.score, lifecycle_stage = excluded.lifecycle_stage,
        tags = excluded.tags, lists = excluded.lists, fields = excluded.fields,
        counters = excluded.counters, signals = excluded.signals, created_at = excluded.created_at,
        last_activity_at = excluded.last_activity_at, last_purchase_at = excluded.last_purchase_at,
        purchase_count = excluded.purchase_count, monetary = excluded.monetary,
        observed_at = excluded.observed_at, deleted_at = excluded.deleted_at, updated_at = excluded.updated_at
    """
)
"""Writes merged contacts back, whole rows, one statement per batch."""

DELETE_DATES = text(
    f"DELETE FROM {contact_dates.fullname} "
    "WHERE org_id = :org_id AND contact_id = ANY(CAST(:contacts AS text[]))"
)
INSERT_DATES = text(
    f"""
    INSERT INTO {contact_dates.fullname} (org_id, contact_id, field, value, month_day)
    SELECT :org_id, d.contact_id, d.field, d.value,
           (extract(month FROM d.value) * 100 + extract(day FROM d.value))::smallint
    FROM unnest(CAST(:contact_ids AS text[]), CAST(:fields AS text[]), CAST(:values AS date[]))
        AS d(contact_id, field, value)
    """
)
REGISTER_FIELDS = text(
    f"""
    INSERT INTO {contact_fields.fullname} (org_id, field, type, seen_at)
    SELECT :org_id, f.field, f.type, :now
    FROM unnest(CAST(:fields AS text[]), CAST(:types AS text[])) AS f(field, type)
    ON CONFLICT (org_id, field) DO UPDATE SET type = excluded.type, seen_at = excluded.seen_at
    WHERE {contact_fields.fullname}.type <> excluded.type
    """
)
ADD_TO_SKETCHES = text(
    f"""
    INSERT INTO {field_sketches.fullname} AS s (org_id, field, bucket, count, total)
    SELECT :org_id, d.field, d.bucket, d.count, d.total
    FROM unnest(CAST(:fields AS text[]), CAST(:buckets AS integer[]), CAST(:counts AS bigint[]),
                CAST(:totals AS float8[])) AS d(field, bucket, count, total)
    ORDER BY d.field, d.bucket
    ON CONFLICT (org_id, field, bucket) DO UPDATE
    SET count = s.count + excluded.count, total = s.total + excluded.total
    """
)
"""Adds deltas to the sketches (in key order, so concurrent batches lock buckets in one order)."""
READ_SKETCHES = text(
    f"""
    SELECT field, bucket, count, total FROM {field_sketches.fullname}
    WHERE org_id = :org_id AND field = ANY(CAST(:fields AS text[])) AND count > 0
    """
)
CONDITION_AUTOMATIONS = text(
    f"""
    SELECT a.automation_id, a.version, a.trigger_type, a.priority, a.run_once, a.max_executions,
           a.reentry, a.max_concurrent_per_contact, a.workflow,
           ARRAY(
               SELECT s.contact_id FROM {condition_states.fullname} s
               WHERE s.automation_id = a.automation_id AND s.matched
                 AND s.contact_id = ANY(CAST(:contacts AS text[]))
           ) AS matched
    FROM {automation_index.fullname} a
    WHERE a.org_id = :org_id AND a.active AND a.reads IS NOT NULL AND a.reads && CAST(:changed AS text[])
    ORDER BY a.automation_id
    """
)
"""The active condition automations of an organization reading one of the changed fields (a GIN
index on ``reads``), each with the contacts among ``contacts`` for which it is matched."""
WRITE_STATES = text(
    f"""
    INSERT INTO {condition_states.fullname} (automation_id, contact_id, org_id, matched, changed_at)
    SELECT k.automation_id, k.contact_id, :org_id, k.matched, :now
    FROM unnest(CAST(:automation_ids AS text[]), CAST(:contact_ids AS text[]), CAST(:matched AS boolean[]))
        AS k(automation_id, contact_id, matched)
    ON CONFLICT (automation_id, contact_id)
    DO UPDATE SET matched = excluded.matched, changed_at = excluded.changed_at
    """
)
DELETE_STATES = text(
    f"DELETE FROM {condition_states.fullname} "
    "WHERE org_id = :org_id AND contact_id = ANY(CAST(:contacts AS text[]))"
)
END_WAITS = text(
    f"""
    UPDATE {waits.fullname} SET closed_at = :now, closed_reason = 'contact_deleted'
    WHERE org_id = :org_id AND contact_id = ANY(CAST(:contacts AS text[])) AND closed_at IS NULL
    RETURNING id
    """
)


def lock_statements(org_id: str, contact_ids: Sequence[str], now: datetime) -> list[Statement]:
    """The two statements that lock (creating when new) and read ``contact_ids``' rows."""
    ordered = sorted(set(contact_ids))
    return [
        (LOCK_NEW_CONTACTS, {"org_id": org_id, "contacts": ordered, "never": NEVER, "now": now}),
        (READ_CONTACTS, {"org_id": org_id, "contacts": ordered}),
    ]


def state_of(row: Sequence[Any]) -> ContactState:
    """A row of :data:`READ_CONTACTS` as a :class:`ContactState`."""
    (contact_id, email, phone, timezone, country, score, stage, tags, lists, fields, counters, signals,
     created, active, purchased, purchases, monetary, observed, deleted) = row  # fmt: skip
    return ContactState(
        contact_id=contact_id,
        email=email,
        phone=phone,
        timezone=timezone,
        country=country,
        score=score,
        lifecycle_stage=stage,
        tags=list(tags or ()),
        lists=list(lists or ()),
        fields=dict(fields or {}),
        counters=dict(counters or {}),
        signals=dict(signals or {}),
        created_at=created,
        last_activity_at=active,
        last_purchase_at=purchased,
        purchase_count=int(purchases or 0),
        monetary=float(monetary or 0),
        observed_at=None if observed is None or observed <= NEVER else observed,
        deleted_at=deleted,
    )


def upsert_params(org_id: str, states: Sequence[ContactState], now: datetime) -> dict[str, Any]:
    """The column arrays of :data:`UPSERT_CONTACTS`."""
    return {
        "org_id": org_id,
        "now": now,
        "contact_ids": [s.contact_id for s in states],
        "emails": [s.email for s in states],
        "phones": [s.phone for s in states],
        "timezones": [s.timezone for s in states],
        "countries": [s.country for s in states],
        "scores": [s.score for s in states],
        "stages": [s.lifecycle_stage for s in states],
        "tags": [json.dumps(s.tags) for s in states],
        "lists": [json.dumps(s.lists) for s in states],
        "fields": [json.dumps(s.fields, default=str) for s in states],
        "counters": [json.dumps(s.counters) for s in states],
        "signals": [json.dumps(s.signals) for s in states],
        "created": [s.created_at for s in states],
        "active": [s.last_activity_at for s in states],
        "purchased": [s.last_purchase_at for s in states],
        "purchases": [s.purchase_count for s in states],
        "monetary": [Decimal(str(s.monetary)) for s in states],
        "observed": [s.observed_at or NEVER for s in states],
        "deleted": [s.deleted_at for s in states],
    }


def dates_statements(org_id: str, dates: Mapping[str, Mapping[str, date]]) -> list[Statement]:
    """Replaces the date rows of the contacts in ``dates`` (contact -> field -> date)."""
    if not dates:
        return []
    rows = [(contact, field, day) for contact, found in dates.items() for field, day in found.items()]
    statements: list[Statement] = [(DELETE_DATES, {"org_id": org_id, "contacts": sorted(dates)})]
    if rows:
        statements.append(
            (
                INSERT_DATES,
                {
                    "org_id": org_id,
                    "contact_ids": [r[0] for r in rows],
                    "fields": [r[1] for r in rows],
                    "values": [r[2] for r in rows],
                },
            )
        )
    return statements


def fields_statement(org_id: str, fields: Mapping[str, str], now: datetime) -> Statement:
    """Registers custom fields (name -> type) of an organization."""
    names = sorted(fields)
    return (
        REGISTER_FIELDS,
        {"org_id": org_id, "now": now, "fields": names, "types": [fields[n] for n in names]},
    )


def sketch_statement(org_id: str, delta: Delta) -> Statement | None:
    """Adds a sketch delta; None when it is empty."""
    keys = sorted(key for key, (count, total) in delta.items() if count or total)
    if not keys:
        return None
    return (
        ADD_TO_SKETCHES,
        {
            "org_id": org_id,
            "fields": [k[0] for k in keys],
            "buckets": [k[1] for k in keys],
            "counts": [delta[k][0] for k in keys],
            "totals": [delta[k][1] for k in keys],
        },
    )


def conditions_statement(org_id: str, changed: Iterable[str], contacts: Iterable[str]) -> Statement:
    """The lookup of the condition automations reading a changed field, with their matched states."""
    return (
        CONDITION_AUTOMATIONS,
        {"org_id": org_id, "changed": sorted(changed), "contacts": sorted(set(contacts))},
    )


def condition_automation(row: Sequence[Any]) -> tuple[ConditionAutomation, set[str]]:
    """A row of :data:`CONDITION_AUTOMATIONS`: the automation and the contacts it is matched for."""
    return ConditionAutomation(*row[:9]), set(row[9] or ())


def states_statement(org_id: str, changes: Mapping[tuple[str, str], bool], now: datetime) -> Statement:
    """Writes condition states ((automation, contact) -> matched)."""
    keys = sorted(changes)
    return (
        WRITE_STATES,
        {
            "org_id": org_id,
            "now": now,
            "automation_ids": [k[0] for k in keys],
            "contact_ids": [k[1] for k in keys],
            "matched": [changes[k] for k in keys],
        },
    )


@dataclass(frozen=True, slots=True)
class ConditionAutomation:
    """An active condition automation, as evaluation and enrollment need it."""

    automation_id: str
    version: int
    trigger_type: str
    priority: str
    run_once: bool
    max_executions: int
    reentry: str
    max_concurrent_per_contact: int
    workflow: bytes


class ContactQueries(Queries):
    """Reads and writes of the contact projection outside ingestion's pipelined round trips."""

    async def run(self, statements: Sequence[Statement]) -> list[list[Any]]:
        """Runs statements in one round trip (see :func:`beez.kit.db.pipelined`)."""
        return await pipelined(self.conn, statements) if statements else []

    async def lock_contacts(
        self, org_id: str, contact_ids: Sequence[str], now: datetime
    ) -> list[ContactState]:
        """Locks (creating when new) and reads contacts."""
        _, rows = await self.run(lock_statements(org_id, contact_ids, now))
        return [state_of(row) for row in rows]

    async def sketches(self, org_id: str, fields: Sequence[str]) -> dict[str, list[tuple[int, int, float]]]:
        """The ``(bucket, count, sum)`` rows of the organization's sketch of each field."""
        [rows] = await self.run([(READ_SKETCHES, {"org_id": org_id, "fields": sorted(fields)})])
        found: dict[str, list[tuple[int, int, float]]] = {}
        for field, bucket, count, total in rows:
            found.setdefault(field, []).append((bucket, int(count), float(total)))
        return found

    async def get_contact(self, org_id: str, contact_id: str) -> tuple[ContactState, datetime] | None:
        """A projected contact and when it was last written; None when unknown."""
        row = (
            await self.conn.execute(
                text(
                    f"SELECT {_COLUMNS}, updated_at FROM {contacts.fullname} "
                    "WHERE org_id = :org_id AND contact_id = :contact_id"
                ),
                {"org_id": org_id, "contact_id": contact_id},
            )
        ).first()
        if row is None:
            return None
        return state_of(tuple(row)[:-1]), row[-1]

    async def contact_dates_of(self, org_id: str, contact_id: str) -> dict[str, date]:
        rows = await self.conn.execute(
            text(
                f"SELECT field, value FROM {contact_dates.fullname} "
                "WHERE org_id = :org_id AND contact_id = :contact_id ORDER BY field"
            ),
            {"org_id": org_id, "contact_id": contact_id},
        )
        return {row[0]: row[1] for row in rows}

    async def custom_fields(self, org_id: str) -> list[tuple[str, str]]:
        """The organization's registered custom fields and their types, by name."""
        rows = await self.conn.execute(
            text(f"SELECT field, type FROM {contact_fields.fullname} WHERE org_id = :org_id ORDER BY field"),
            {"org_id": org_id},
        )
        return [(row[0], row[1]) for row in rows]
