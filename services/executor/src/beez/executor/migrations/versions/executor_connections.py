"""Connections: each organization's provider credentials, encrypted (issue #14, decision 0040).

Revision ID: executor_connections
Revises: executor_bus_dead_letter_filters
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "executor_connections"
down_revision: str | None = "executor_bus_dead_letter_filters"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "executor"


def upgrade() -> None:
    op.create_table(
        "connections",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("org_id", sa.Text(), nullable=False),
        sa.Column("provider", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("encryption_key_id", sa.Text(), nullable=False),
        sa.Column(
            "fields",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=False,
            comment="the credential field names, never values",
        ),
        sa.Column("access_ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column("access_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rate_per_s", sa.Double(), nullable=True),
        sa.Column("rate_burst", sa.Double(), nullable=True),
        sa.Column("rate_factor", sa.Double(), server_default=sa.text("1"), nullable=False),
        sa.Column("rate_lowered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("rotated_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connections")),
        sa.UniqueConstraint("org_id", "name", name=op.f("uq_connections_org_id_name")),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_connections_org_id_provider", "connections", ["org_id", "provider"], unique=False, schema=SCHEMA
    )


def downgrade() -> None:
    op.drop_index("ix_connections_org_id_provider", table_name="connections", schema=SCHEMA)
    op.drop_table("connections", schema=SCHEMA)
