"""Automations and their immutable versions.

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

SCHEMA = "automation"
LIVE = sa.text("deleted_at IS NULL")


def upgrade() -> None:
    op.create_table(
        "automations",
        sa.Column("id", sa.Text(), nullable=False, comment="UUIDv7: sorts by creation time"),
        sa.Column("org_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False, comment="the current version"),
        sa.Column("trigger_type", sa.Text(), nullable=False),
        sa.Column(
            "event_type", sa.Text(), nullable=False, comment="trigger.event, or the trigger type's default"
        ),
        sa.Column(
            "revision",
            sa.BigInteger(),
            nullable=False,
            comment="grows with every change; AutomationChanged.revision",
        ),
        sa.Column("created_by", sa.Text(), nullable=True),
        sa.Column("create_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("update_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_automations")),
        schema=SCHEMA,
    )
    for name, columns in (
        ("ix_automations_org_id_id", ["org_id", "id"]),
        ("ix_automations_org_id_trigger_type_id", ["org_id", "trigger_type", "id"]),
        ("ix_automations_org_id_active_id", ["org_id", "active", "id"]),
    ):
        op.create_index(name, "automations", columns, unique=False, schema=SCHEMA, postgresql_where=LIVE)
    op.create_table(
        "automation_versions",
        sa.Column("automation_id", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Text(), nullable=False),
        sa.Column(
            "workflow",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=False,
            comment="proto3 JSON of beez.api.workflow.v1.Workflow, step ids assigned",
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["automation_id"],
            [f"{SCHEMA}.automations.id"],
            name=op.f("fk_automation_versions_automation_id_automations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("automation_id", "version", name=op.f("pk_automation_versions")),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_table("automation_versions", schema=SCHEMA)
    op.drop_table("automations", schema=SCHEMA)
