"""Pending fires of time-based triggers: ``scheduled_fires`` (issue #13, decision 0038).

Revision ID: trigger_schedules
Revises: trigger_conditions
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "trigger_schedules"
down_revision: str | None = "trigger_conditions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "trigger"
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "scheduled_fires",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("org_id", sa.Text(), nullable=False),
        sa.Column("automation_id", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False, comment="recurrence or deferred"),
        sa.Column("due_at", TS, nullable=False),
        sa.Column(
            "zones", postgresql.ARRAY(sa.Text()), nullable=True, comment="NULL: the trigger's own zone"
        ),
        sa.Column("default_zone", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("contact_id", sa.Text(), nullable=True),
        sa.Column(
            "event",
            postgresql.BYTEA(),
            nullable=True,
            comment="beez.api.messages.v1.Event of a deferred fire",
        ),
        sa.Column("cursor", sa.Text(), nullable=True, comment="Last contact id fanned out to"),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduled_fires")),
        schema=SCHEMA,
    )
    op.create_index("ix_scheduled_fires_due_at", "scheduled_fires", ["due_at"], schema=SCHEMA)
    op.create_index("ix_scheduled_fires_automation_id", "scheduled_fires", ["automation_id"], schema=SCHEMA)
    op.create_index(
        "ix_scheduled_fires_org_id_due_at_id", "scheduled_fires", ["org_id", "due_at", "id"], schema=SCHEMA
    )
    op.create_index(
        "ix_scheduled_fires_org_id_contact_id",
        "scheduled_fires",
        ["org_id", "contact_id"],
        schema=SCHEMA,
        postgresql_where=sa.text("contact_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_table("scheduled_fires", schema=SCHEMA)
