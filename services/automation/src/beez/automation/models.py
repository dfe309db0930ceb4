"""Tables of the ``automation`` schema: automations, their immutable versions, the template
library (templates, ratings, daily usage), and the outbox.

An automation row holds what changes in place (active, the current version, the revision) and
the columns List filters on, copied from the current version's workflow (name, description,
trigger type, event type). A version row holds one workflow for good: an execution started on
version 3 runs version 3 whatever happens later. Deleting an automation stamps ``deleted_at``
(every query skips such rows, so it answers NOT_FOUND) and keeps its versions, which past
executions and their history still name.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from beez.kit.bus.outbox import outbox_table
from beez.kit.db import make_metadata

metadata = make_metadata("automation")
outbox = outbox_table(metadata)

_LIVE = text("deleted_at IS NULL")


class Base(DeclarativeBase):
    metadata = metadata
    type_annotation_map = {
        str: Text(),
        datetime: DateTime(timezone=True),
        dict[str, Any]: JSONB(),
    }


class Automation(Base):
    """One automation of one organization; its workflow lives in :class:`AutomationVersion`."""

    __tablename__ = "automations"

    id: Mapped[str] = mapped_column(primary_key=True, comment="UUIDv7: sorts by creation time")
    org_id: Mapped[str]
    name: Mapped[str]
    description: Mapped[str] = mapped_column(server_default="")
    active: Mapped[bool]
    version: Mapped[int] = mapped_column(Integer, comment="the current version")
    trigger_type: Mapped[str]
    event_type: Mapped[str] = mapped_column(comment="trigger.event, or the trigger type's default")
    revision: Mapped[int] = mapped_column(
        BigInteger, comment="grows with every change; AutomationChanged.revision"
    )
    created_by: Mapped[str | None]
    create_time: Mapped[datetime]
    update_time: Mapped[datetime]
    deleted_at: Mapped[datetime | None]

    __table_args__ = (
        # List: newest first within an organization (keyset on id), optionally by trigger type
        # or active state; the name filter is a substring match run over these rows.
        Index("ix_automations_org_id_id", "org_id", "id", postgresql_where=_LIVE),
        Index(
            "ix_automations_org_id_trigger_type_id", "org_id", "trigger_type", "id", postgresql_where=_LIVE
        ),
        Index("ix_automations_org_id_active_id", "org_id", "active", "id", postgresql_where=_LIVE),
    )


class AutomationVersion(Base):
    """One immutable version of an automation's workflow, as the format's JSON."""

    __tablename__ = "automation_versions"

    automation_id: Mapped[str] = mapped_column(
        ForeignKey("automation.automations.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[str]
    workflow: Mapped[dict[str, Any]] = mapped_column(
        comment="proto3 JSON of beez.api.workflow.v1.Workflow, step ids assigned"
    )
    created_at: Mapped[datetime]
    created_by: Mapped[str | None]


class TemplateRow(Base):
    """A template: built-in (``org_id`` NULL, synced from the library's files at start) or an
    organization's own (saved from one of its automations). Counters and the rating sum are
    kept on the row; ``search`` is the weighted text search vector of name, tags and description."""

    __tablename__ = "templates"

    id: Mapped[str] = mapped_column(
        primary_key=True, comment="the file's slug, or a UUIDv7 for personal ones"
    )
    org_id: Mapped[str | None] = mapped_column(comment="NULL: built-in, visible to every organization")
    name: Mapped[str]
    description: Mapped[str]
    category: Mapped[str]
    subcategory: Mapped[str]
    industry: Mapped[str]
    tags: Mapped[list[str]] = mapped_column(ARRAY(Text()))
    integrations: Mapped[list[str]] = mapped_column(ARRAY(Text()))
    difficulty: Mapped[str]
    setup_minutes: Mapped[int] = mapped_column(Integer)
    featured: Mapped[bool]
    trigger_type: Mapped[str]
    body: Mapped[dict[str, Any]] = mapped_column(
        comment="the template file's JSON: workflow, customizable, sample"
    )
    digest: Mapped[str] = mapped_column(comment="of the body and metadata: a changed file rewrites the row")
    search: Mapped[Any] = mapped_column(TSVECTOR())
    usage_count: Mapped[int] = mapped_column(BigInteger, server_default="0")
    view_count: Mapped[int] = mapped_column(BigInteger, server_default="0")
    rating_sum: Mapped[int] = mapped_column(BigInteger, server_default="0")
    rating_count: Mapped[int] = mapped_column(BigInteger, server_default="0")
    created_by: Mapped[str | None]
    source_automation_id: Mapped[str | None]
    create_time: Mapped[datetime]
    update_time: Mapped[datetime]
    deleted_at: Mapped[datetime | None]

    __table_args__ = (
        Index("ix_templates_org_id_category", "org_id", "category"),
        Index("ix_templates_search", "search", postgresql_using="gin"),
        Index("ix_templates_tags", "tags", postgresql_using="gin"),
    )


class TemplateRating(Base):
    """One organization's rating of one template (seed GDPR: by organization, not by user)."""

    __tablename__ = "template_ratings"

    template_id: Mapped[str] = mapped_column(
        ForeignKey("automation.templates.id", ondelete="CASCADE"), primary_key=True
    )
    org_id: Mapped[str] = mapped_column(primary_key=True)
    rating: Mapped[int] = mapped_column(SmallInteger)
    review: Mapped[str] = mapped_column(server_default="")
    create_time: Mapped[datetime]
    update_time: Mapped[datetime]

    __table_args__ = (CheckConstraint("rating BETWEEN 1 AND 5", name="rating_range"),)


class TemplateUsage(Base):
    """Views and uses of a template per organization and day, kept 90 days (then only the
    template's totals remain); what "most used this month" and recommendations read."""

    __tablename__ = "template_usage"

    template_id: Mapped[str] = mapped_column(
        ForeignKey("automation.templates.id", ondelete="CASCADE"), primary_key=True
    )
    org_id: Mapped[str] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    views: Mapped[int] = mapped_column(Integer, server_default="0")
    uses: Mapped[int] = mapped_column(Integer, server_default="0")

    __table_args__ = (Index("ix_template_usage_day", "day"),)
