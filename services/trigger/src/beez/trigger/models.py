"""Tables of the ``trigger`` schema.

* ``automation_index``: the projection of every automation the trigger has heard of (tombstones
  for deleted ones), fed by ``automations.>``; matched by ``(org_id, event_type)`` while active.
* ``events``: the event history, keyed ``(org_id, event_id)``; a known key is a duplicate.
* ``enrollments``: one row per execution the trigger started; ``(automation_id, event_id)`` is
  unique, so one event starts at most one execution per automation.
* ``run_once``, ``automation_counters``, ``concurrency_slots``: the unique keys that enforce
  ``runOnce``/``reentry: never``, ``maxExecutions`` and ``maxConcurrentPerContact``/``after_exit``.
* ``waits``: registrations of wait_for_event, wait_until and goals; a closed row is a tombstone.
* ``contacts``, ``contact_dates``: the contact projection that time and condition triggers read
  between a contact's events (one row per contact, plus one per date field for the date sweeps).
* ``hooks``: inbound webhooks (decision 0036): the token's SHA-256, never the token; the secret
  encrypted with the hook key ring.
* ``contact_fields``, ``field_sketches``: per organization, the custom fields the projection has
  seen (``GET /api/automations/fields``) and a quantile sketch of each numeric field.
* ``condition_states``: per (condition automation, contact), whether its condition held when last
  evaluated, so a condition trigger fires on the edge, not while it stays true.
* ``scheduled_fires``: every pending fire of a time-based trigger, claimed when due with
  ``FOR UPDATE SKIP LOCKED`` by any replica (decision 0038).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Double,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, BYTEA, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from beez.kit.bus.outbox import outbox_table
from beez.kit.db import make_metadata
from beez.kit.ratelimit import bucket_table

metadata = make_metadata("trigger")
outbox = outbox_table(metadata)
rate_buckets = bucket_table(metadata)
"""The token buckets of the rate limits (decision 0031), created by ``create_table_sql``."""


class Base(DeclarativeBase):
    metadata = metadata


class AutomationIndex(Base):
    """The current state of one automation, as last announced by the automation service.

    ``revision`` only grows: a message not newer than the row changes nothing, so redelivered
    and reordered announcements are harmless. A deleted automation stays as an inactive
    tombstone (without its workflow) so an older upsert arriving late cannot revive it. The
    settings columns copy what enrollment enforces; ``workflow`` is the version's
    ``beez.api.workflow.v1.Workflow``, serialized.
    """

    __tablename__ = "automation_index"
    __table_args__ = (
        Index(
            "ix_automation_index_org_id_event_type", "org_id", "event_type", postgresql_where=text("active")
        ),
        Index(
            "ix_automation_index_reads",
            "reads",
            postgresql_using="gin",
            postgresql_where=text("active AND reads IS NOT NULL"),
            postgresql_with={"fastupdate": "off"},
        ),
    )

    automation_id: Mapped[str] = mapped_column(Text, primary_key=True)
    org_id: Mapped[str] = mapped_column(Text)
    revision: Mapped[int] = mapped_column(BigInteger)
    version: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean)
    deleted: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    trigger_type: Mapped[str] = mapped_column(Text)
    event_type: Mapped[str | None] = mapped_column(Text, comment="NULL: listens to no event type")
    priority: Mapped[str] = mapped_column(Text)
    run_once: Mapped[bool] = mapped_column(Boolean)
    max_executions: Mapped[int] = mapped_column(Integer, comment="0: unlimited")
    reentry: Mapped[str] = mapped_column(Text, comment="never, always, after_exit; empty: always")
    max_concurrent_per_contact: Mapped[int] = mapped_column(Integer)
    workflow: Mapped[bytes] = mapped_column(BYTEA)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reads: Mapped[list[str] | None] = mapped_column(
        ARRAY(Text), comment="A condition trigger's fields (projection names); NULL: not a condition trigger"
    )


class EventRecord(Base):
    """An event as received, with its organization, id and defaults filled in."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_org_id_received_at", "org_id", "received_at", "event_id"),
        Index("ix_events_org_id_type_received_at", "org_id", "type", "received_at"),
        Index("ix_events_org_id_contact_id_received_at", "org_id", "contact_id", "received_at"),
        Index("ix_events_received_at", "received_at", postgresql_using="brin"),
    )

    org_id: Mapped[str] = mapped_column(Text, primary_key=True)
    event_id: Mapped[str] = mapped_column(Text, primary_key=True)
    type: Mapped[str] = mapped_column(Text)
    contact_id: Mapped[str | None] = mapped_column(Text)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    payload: Mapped[bytes] = mapped_column(BYTEA, comment="beez.api.messages.v1.Event, serialized")


class Enrollment(Base):
    """An execution the trigger decided to start.

    ``start`` holds the ``ExecutionStart`` the job carries until the executor reports the
    execution started (or ended), so that state never lives only in a message. While it does,
    ``dispatched_at`` says when its START job last went to the outbox, and the start sweeper
    (:mod:`beez.trigger.sweeper`, decision 0008) publishes it again once that is too long ago,
    counting in ``redispatches``, until it gives up (``given_up_at``). An enrollment held for its
    organization's start credit has ``held_at`` and no ``dispatched_at`` until it goes out
    (:mod:`beez.trigger.credits`).
    """

    __tablename__ = "enrollments"
    __table_args__ = (
        UniqueConstraint("automation_id", "event_id"),
        Index("ix_enrollments_org_id_event_id", "org_id", "event_id"),
        Index("ix_enrollments_created_at", "created_at", postgresql_using="brin"),
        Index(
            "ix_enrollments_pending_start",
            "dispatched_at",
            postgresql_where=text("start IS NOT NULL AND given_up_at IS NULL"),
        ),
        Index(
            "ix_enrollments_in_flight",
            "org_id",
            postgresql_where=text("start IS NOT NULL AND dispatched_at IS NOT NULL AND given_up_at IS NULL"),
        ),
        Index(
            "ix_enrollments_held",
            "org_id",
            "created_at",
            "execution_id",
            postgresql_where=text(
                "start IS NOT NULL AND dispatched_at IS NULL AND held_at IS NOT NULL AND given_up_at IS NULL"
            ),
        ),
    )

    execution_id: Mapped[str] = mapped_column(Text, primary_key=True)
    org_id: Mapped[str] = mapped_column(Text)
    automation_id: Mapped[str] = mapped_column(Text)
    automation_version: Mapped[int] = mapped_column(Integer)
    event_id: Mapped[str] = mapped_column(Text)
    contact_id: Mapped[str | None] = mapped_column(Text)
    priority: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    start: Mapped[bytes | None] = mapped_column(BYTEA, comment="ExecutionStart until the executor has it")
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    outcome: Mapped[str | None] = mapped_column(Text, comment="completed, failed or cancelled")
    dispatched_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True),
        comment="When the START job last went to the outbox; NULL only on rows older than this column",
    )
    redispatches: Mapped[int] = mapped_column(
        Integer, server_default=text("0"), comment="How often the start sweeper published the START again"
    )
    given_up_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True),
        comment="When the start sweeper stopped re-dispatching a START that never started",
    )
    held_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True),
        comment="When its START was held for its organization's start credit (decision 0039)",
    )


class RunOnce(Base):
    """A contact has run this automation (``runOnce`` or ``reentry: never``): never again."""

    __tablename__ = "run_once"

    automation_id: Mapped[str] = mapped_column(Text, primary_key=True)
    contact_id: Mapped[str] = mapped_column(Text, primary_key=True)
    execution_id: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AutomationCounter(Base):
    """How many executions an automation has started, for ``maxExecutions``."""

    __tablename__ = "automation_counters"

    automation_id: Mapped[str] = mapped_column(Text, primary_key=True)
    started: Mapped[int] = mapped_column(BigInteger)


class ConcurrencySlot(Base):
    """One running execution of an automation for a contact; slots ``0..limit-1`` exist."""

    __tablename__ = "concurrency_slots"
    __table_args__ = (Index("ix_concurrency_slots_execution_id", "execution_id"),)

    automation_id: Mapped[str] = mapped_column(Text, primary_key=True)
    contact_id: Mapped[str] = mapped_column(Text, primary_key=True)
    slot: Mapped[int] = mapped_column(Integer, primary_key=True)
    execution_id: Mapped[str] = mapped_column(Text)
    acquired_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Wait(Base):
    """A registered wait of an execution: open while ``closed_at`` is NULL.

    A closed row (fired, cancelled, or its execution ended) is a tombstone: a registration
    redelivered or reordered after its cancellation finds it and changes nothing.
    """

    __tablename__ = "waits"
    __table_args__ = (
        Index(
            "ix_waits_org_id_contact_id", "org_id", "contact_id", postgresql_where=text("closed_at IS NULL")
        ),
        Index("ix_waits_execution_id", "execution_id"),
    )

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    org_id: Mapped[str] = mapped_column(Text)
    execution_id: Mapped[str] = mapped_column(Text)
    contact_id: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text, comment="event, until or goal")
    event_type: Mapped[str] = mapped_column(Text, comment="empty: any event of the contact")
    filters: Mapped[dict[str, Any]] = mapped_column(JSONB)
    conditions: Mapped[list[Any]] = mapped_column(JSONB, comment="beez.api.workflow.v1.Condition JSON")
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    registered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_reason: Mapped[str | None] = mapped_column(Text, comment="fired, cancelled or execution_ended")


class Contact(Base):
    """What the trigger knows of one contact of the platform's CRM, between its events.

    Fed by the contact snapshots events carry, ``contact.*`` events and the bulk import. The
    columns are what triggers select on in bulk (audiences, inactivity, RFM, time zones); every
    other field of the snapshot, custom fields included, is in ``fields``. ``counters`` holds
    event counts per type bucketed by UTC day (``{"email.opened": {"2026-12-03": 2}}``), pruned
    past the longest window, so the row stays bounded. A deleted contact keeps its row as a
    tombstone (``deleted_at``) with its data cleared, so a late event cannot bring it back.
    """

    __tablename__ = "contacts"
    __table_args__ = (
        Index("ix_contacts_tags", "tags", postgresql_using="gin"),
        Index("ix_contacts_lists", "lists", postgresql_using="gin"),
        Index(
            "ix_contacts_org_id_last_activity_at",
            "org_id",
            "last_activity_at",
            postgresql_where=text("deleted_at IS NULL"),
        ),
    )

    org_id: Mapped[str] = mapped_column(Text, primary_key=True)
    contact_id: Mapped[str] = mapped_column(Text, primary_key=True)
    email: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(Text)
    timezone: Mapped[str | None] = mapped_column(Text, comment="IANA name; NULL: the organization's")
    country: Mapped[str | None] = mapped_column(Text, comment="ISO 3166-1 alpha-2")
    score: Mapped[float | None] = mapped_column(Double)
    lifecycle_stage: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'"))
    lists: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'"))
    fields: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    counters: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    created_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), comment="In the CRM")
    last_activity_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_purchase_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), comment="RFM recency")
    purchase_count: Mapped[int] = mapped_column(Integer, server_default=text("0"), comment="RFM frequency")
    monetary: Mapped[Decimal] = mapped_column(Numeric(18, 2), server_default=text("0"), comment="RFM value")
    observed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), comment="When the newest snapshot applied was taken (occurred_at)"
    )
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    signals: Mapped[dict[str, Any]] = mapped_column(
        JSONB,
        server_default=text("'{}'::jsonb"),
        comment="Derived from events: device class, message sentiment, and when each was seen",
    )


class ContactDate(Base):
    """One date field of a contact (``birthday``, ``signup_date``, ``renewal_date``...), indexed
    for the daily sweeps: by ``month_day`` (``MMDD``) for anniversaries, by ``value`` for
    relative dates, countdowns and specific dates, so neither scans the contacts."""

    __tablename__ = "contact_dates"
    __table_args__ = (
        Index("ix_contact_dates_org_id_field_month_day", "org_id", "field", "month_day"),
        Index("ix_contact_dates_org_id_field_value", "org_id", "field", "value"),
    )

    org_id: Mapped[str] = mapped_column(Text, primary_key=True)
    contact_id: Mapped[str] = mapped_column(Text, primary_key=True)
    field: Mapped[str] = mapped_column(Text, primary_key=True)
    value: Mapped[date] = mapped_column(Date)
    month_day: Mapped[int] = mapped_column(SmallInteger, comment="month * 100 + day")


class Hook(Base):
    """An inbound webhook of an organization: ``POST /hooks/{token}`` publishes ``event_type``."""

    __tablename__ = "hooks"
    __table_args__ = (
        UniqueConstraint("token_hash"),
        Index("ix_hooks_org_id_created_at_id", "org_id", "created_at", "id"),
    )

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    org_id: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    event_type: Mapped[str] = mapped_column(Text)
    contact_id_path: Mapped[str] = mapped_column(Text, comment="empty: events without contact")
    require_signature: Mapped[bool] = mapped_column(Boolean)
    token_hash: Mapped[str] = mapped_column(Text, comment="SHA-256 of the token, hex; never the token")
    token_prefix: Mapped[str] = mapped_column(Text, comment="organization and 4 characters, for display")
    secret: Mapped[bytes] = mapped_column(BYTEA, comment="Fernet token of the signing secret")
    secret_key_id: Mapped[str] = mapped_column(Text, comment="id of the ring key that encrypted it")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    rotated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ContactField(Base):
    """A custom field an organization's contacts carry, with the type of its values, registered
    by the projection the first time it sees it (so listing fields never scans contacts)."""

    __tablename__ = "contact_fields"

    org_id: Mapped[str] = mapped_column(Text, primary_key=True)
    field: Mapped[str] = mapped_column(Text, primary_key=True)
    type: Mapped[str] = mapped_column(Text, comment="string, number, boolean, date, datetime, list, object")
    seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class FieldSketch(Base):
    """One bucket of the quantile sketch of a numeric field (:mod:`beez.trigger.domain.sketch`):
    how many contacts hold a value in it, and their sum. Updated by deltas (``count + n``)."""

    __tablename__ = "field_sketches"

    org_id: Mapped[str] = mapped_column(Text, primary_key=True)
    field: Mapped[str] = mapped_column(Text, primary_key=True)
    bucket: Mapped[int] = mapped_column(Integer, primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger)
    total: Mapped[float] = mapped_column(Double)


class ConditionState(Base):
    """Whether a condition automation's condition held for a contact when last evaluated.

    No row means it did not. A change to true fires (through enrollment, so the automation's
    re-entry settings apply); a change to false re-arms.
    """

    __tablename__ = "condition_states"
    __table_args__ = (Index("ix_condition_states_org_id_contact_id", "org_id", "contact_id"),)

    automation_id: Mapped[str] = mapped_column(Text, primary_key=True)
    contact_id: Mapped[str] = mapped_column(Text, primary_key=True)
    org_id: Mapped[str] = mapped_column(Text)
    matched: Mapped[bool] = mapped_column(Boolean)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ScheduledFire(Base):
    """One pending fire of a time-based trigger (docs/decisions/0038-time-based-triggers.md).

    ``recurrence`` rows are an automation's next occurrence: for the organization (no contact),
    or for its audience, fanned out in keyset pages of contacts with ``cursor`` the last contact
    id done, so a fan-out interrupted between pages resumes where it stopped. A schedule in each
    contact's time zone has one row per instant, covering the ``zones`` whose local time it is
    then (``default_zone``: also contacts without a usable zone). ``deferred`` rows hold an event
    (``delay``, ``time_window``, ``business_hours``) that starts its contact's execution at
    ``due_at``. The id is derived from (automation, instant, contact or event), so scheduling a
    fire twice writes one row.
    """

    __tablename__ = "scheduled_fires"
    __table_args__ = (
        Index("ix_scheduled_fires_due_at", "due_at"),
        Index("ix_scheduled_fires_automation_id", "automation_id"),
        Index("ix_scheduled_fires_org_id_due_at_id", "org_id", "due_at", "id"),
        Index(
            "ix_scheduled_fires_org_id_contact_id",
            "org_id",
            "contact_id",
            postgresql_where=text("contact_id IS NOT NULL"),
        ),
    )

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    org_id: Mapped[str] = mapped_column(Text)
    automation_id: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text, comment="recurrence or deferred")
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    zones: Mapped[list[str] | None] = mapped_column(ARRAY(Text), comment="NULL: the trigger's own zone")
    default_zone: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    contact_id: Mapped[str | None] = mapped_column(Text)
    event: Mapped[bytes | None] = mapped_column(
        BYTEA, comment="beez.api.messages.v1.Event of a deferred fire"
    )
    cursor: Mapped[str | None] = mapped_column(Text, comment="Last contact id fanned out to")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def _table(model: type[Base]) -> Table:
    return cast(Table, model.__table__)


# The tables, for Core statements (the repository's queries skip the ORM's unit of work).
automation_index = _table(AutomationIndex)
events = _table(EventRecord)
enrollments = _table(Enrollment)
run_once = _table(RunOnce)
automation_counters = _table(AutomationCounter)
concurrency_slots = _table(ConcurrencySlot)
waits = _table(Wait)
contacts = _table(Contact)
contact_dates = _table(ContactDate)
hooks = _table(Hook)
contact_fields = _table(ContactField)
field_sketches = _table(FieldSketch)
condition_states = _table(ConditionState)
scheduled_fires = _table(ScheduledFire)
