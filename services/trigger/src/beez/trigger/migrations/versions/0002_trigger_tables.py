"""The trigger tables: automation index, event history, enrollments and their keys, waits.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "automation_counters",
        sa.Column("automation_id", sa.Text(), nullable=False),
        sa.Column("started", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("automation_id", name=op.f("pk_automation_counters")),
        schema="trigger",
    )
    op.create_table(
        "automation_index",
        sa.Column("automation_id", sa.Text(), nullable=False),
        sa.Column("org_id", sa.Text(), nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("deleted", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("trigger_type", sa.Text(), nullable=False),
        sa.Column("event_type", sa.Text(), nullable=True, comment="NULL: listens to no event type"),
        sa.Column("priority", sa.Text(), nullable=False),
        sa.Column("run_once", sa.Boolean(), nullable=False),
        sa.Column("max_executions", sa.Integer(), nullable=False, comment="0: unlimited"),
        sa.Column("reentry", sa.Text(), nullable=False, comment="never, always, after_exit; empty: always"),
        sa.Column("max_concurrent_per_contact", sa.Integer(), nullable=False),
        sa.Column("workflow", postgresql.BYTEA(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("automation_id", name=op.f("pk_automation_index")),
        schema="trigger",
    )
    op.create_index(
        "ix_automation_index_org_id_event_type",
        "automation_index",
        ["org_id", "event_type"],
        unique=False,
        schema="trigger",
        postgresql_where=sa.text("active"),
    )
    op.create_table(
        "concurrency_slots",
        sa.Column("automation_id", sa.Text(), nullable=False),
        sa.Column("contact_id", sa.Text(), nullable=False),
        sa.Column("slot", sa.Integer(), nullable=False),
        sa.Column("execution_id", sa.Text(), nullable=False),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("automation_id", "contact_id", "slot", name=op.f("pk_concurrency_slots")),
        schema="trigger",
    )
    op.create_index(
        "ix_concurrency_slots_execution_id",
        "concurrency_slots",
        ["execution_id"],
        unique=False,
        schema="trigger",
    )
    op.create_table(
        "enrollments",
        sa.Column("execution_id", sa.Text(), nullable=False),
        sa.Column("org_id", sa.Text(), nullable=False),
        sa.Column("automation_id", sa.Text(), nullable=False),
        sa.Column("automation_version", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Text(), nullable=False),
        sa.Column("contact_id", sa.Text(), nullable=True),
        sa.Column("priority", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "start", postgresql.BYTEA(), nullable=True, comment="ExecutionStart until the executor has it"
        ),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True, comment="completed, failed or cancelled"),
        sa.PrimaryKeyConstraint("execution_id", name=op.f("pk_enrollments")),
        sa.UniqueConstraint("automation_id", "event_id", name=op.f("uq_enrollments_automation_id_event_id")),
        schema="trigger",
    )
    op.create_index(
        "ix_enrollments_created_at",
        "enrollments",
        ["created_at"],
        unique=False,
        schema="trigger",
        postgresql_using="brin",
    )
    op.create_index(
        "ix_enrollments_org_id_event_id",
        "enrollments",
        ["org_id", "event_id"],
        unique=False,
        schema="trigger",
    )
    op.create_table(
        "events",
        sa.Column("org_id", sa.Text(), nullable=False),
        sa.Column("event_id", sa.Text(), nullable=False),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("contact_id", sa.Text(), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "payload", postgresql.BYTEA(), nullable=False, comment="beez.api.messages.v1.Event, serialized"
        ),
        sa.PrimaryKeyConstraint("org_id", "event_id", name=op.f("pk_events")),
        schema="trigger",
    )
    op.create_index(
        "ix_events_org_id_contact_id_received_at",
        "events",
        ["org_id", "contact_id", "received_at"],
        unique=False,
        schema="trigger",
    )
    op.create_index(
        "ix_events_org_id_received_at",
        "events",
        ["org_id", "received_at", "event_id"],
        unique=False,
        schema="trigger",
    )
    op.create_index(
        "ix_events_org_id_type_received_at",
        "events",
        ["org_id", "type", "received_at"],
        unique=False,
        schema="trigger",
    )
    op.create_index(
        "ix_events_received_at",
        "events",
        ["received_at"],
        unique=False,
        schema="trigger",
        postgresql_using="brin",
    )
    op.create_table(
        "run_once",
        sa.Column("automation_id", sa.Text(), nullable=False),
        sa.Column("contact_id", sa.Text(), nullable=False),
        sa.Column("execution_id", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("automation_id", "contact_id", name=op.f("pk_run_once")),
        schema="trigger",
    )
    op.create_table(
        "waits",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("org_id", sa.Text(), nullable=False),
        sa.Column("execution_id", sa.Text(), nullable=False),
        sa.Column("contact_id", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False, comment="event, until or goal"),
        sa.Column("event_type", sa.Text(), nullable=False, comment="empty: any event of the contact"),
        sa.Column("filters", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "conditions",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=False,
            comment="beez.api.workflow.v1.Condition JSON",
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_reason", sa.Text(), nullable=True, comment="fired, cancelled or execution_ended"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_waits")),
        schema="trigger",
    )
    op.create_index("ix_waits_execution_id", "waits", ["execution_id"], unique=False, schema="trigger")
    op.create_index(
        "ix_waits_org_id_contact_id",
        "waits",
        ["org_id", "contact_id"],
        unique=False,
        schema="trigger",
        postgresql_where=sa.text("closed_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index(
        "ix_waits_org_id_contact_id",
        table_name="waits",
        schema="trigger",
        postgresql_where=sa.text("closed_at IS NULL"),
    )
    op.drop_index("ix_waits_execution_id", table_name="waits", schema="trigger")
    op.drop_table("waits", schema="trigger")
    op.drop_table("run_once", schema="trigger")
    op.drop_index("ix_events_received_at", table_name="events", schema="trigger", postgresql_using="brin")
    op.drop_index("ix_events_org_id_type_received_at", table_name="events", schema="trigger")
    op.drop_index("ix_events_org_id_received_at", table_name="events", schema="trigger")
    op.drop_index("ix_events_org_id_contact_id_received_at", table_name="events", schema="trigger")
    op.drop_table("events", schema="trigger")
    op.drop_index("ix_enrollments_org_id_event_id", table_name="enrollments", schema="trigger")
    op.drop_index(
        "ix_enrollments_created_at", table_name="enrollments", schema="trigger", postgresql_using="brin"
    )
    op.drop_table("enrollments", schema="trigger")
    op.drop_index("ix_concurrency_slots_execution_id", table_name="concurrency_slots", schema="trigger")
    op.drop_table("concurrency_slots", schema="trigger")
    op.drop_index(
        "ix_automation_index_org_id_event_type",
        table_name="automation_index",
        schema="trigger",
        postgresql_where=sa.text("active"),
    )
    op.drop_table("automation_index", schema="trigger")
    op.drop_table("automation_counters", schema="trigger")
