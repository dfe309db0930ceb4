"""Tables of the ``automation`` schema: automations, their immutable versions, and the outbox.

An automation row holds what changes in place (active, the current version, the revision) and
the columns List filters on, copied from the current version's workflow (name, description,
trigger type, event type). A version row holds one workflow for good: an execution started on
version 3 runs version 3 whatever happens later. Deleting an automation stamps ``deleted_at``
(every query skips such rows, so it answers NOT_FOUND) and keeps its versions, which past
executions and their history still name.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, Integer, Text, text
from sqlalchemy.dialects.postgresql import JSONB
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
