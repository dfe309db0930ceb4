"""Tables of the ``analytics`` schema: per-automation counters, per-execution outcomes, the inbox.

``execution_outcomes`` has one row per execution: whether it was counted, how it ended, and its
duration, which is the sample the percentiles are computed from. ``automation_counters`` holds
the running counts, changed in the same transaction as the outcome row they follow from.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Index, Text, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from beez.kit.bus.inbox import inbox_table
from beez.kit.db import make_metadata

metadata = make_metadata("analytics")
inbox = inbox_table(metadata)


class Base(DeclarativeBase):
    metadata = metadata
    type_annotation_map = {str: Text(), datetime: DateTime(timezone=True), int: BigInteger()}


class AutomationCounters(Base):
    """How many executions of an automation were seen, and how many ended which way."""

    __tablename__ = "automation_counters"

    org_id: Mapped[str] = mapped_column(primary_key=True)
    automation_id: Mapped[str] = mapped_column(primary_key=True)
    total: Mapped[int] = mapped_column(server_default="0")
    succeeded: Mapped[int] = mapped_column(server_default="0")
    failed: Mapped[int] = mapped_column(server_default="0")
    cancelled: Mapped[int] = mapped_column(server_default="0")
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())


class ExecutionOutcome(Base):
    """What analytics knows of one execution; the duration samples are the completed rows."""

    __tablename__ = "execution_outcomes"

    org_id: Mapped[str] = mapped_column(primary_key=True)
    execution_id: Mapped[str] = mapped_column(primary_key=True)
    automation_id: Mapped[str]
    started_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(comment="completed, failed or cancelled; NULL while running")
    finished_at: Mapped[datetime | None]
    duration_ms: Mapped[int | None]

    __table_args__ = (
        Index(
            "ix_execution_outcomes_org_id_automation_id_finished_at", "org_id", "automation_id", "finished_at"
        ),
    )
