"""The bus's dead letters, folded in from the DLQ stream to be seen and re-driven (decision 0029).

Revision ID: executor_bus_dead_letters
Revises: executor_rate_buckets
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "executor_bus_dead_letters"
down_revision: str | None = "executor_rate_buckets"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "executor"


def upgrade() -> None:
    op.create_table(
        "bus_dead_letters",
        sa.Column("id", sa.Text(), nullable=False, comment="UUIDv7"),
        sa.Column("dlq_msg_id", sa.Text(), nullable=False),
        sa.Column("org_id", sa.Text(), nullable=False),
        sa.Column("consumer", sa.Text(), nullable=False),
        sa.Column(
            "subject", sa.Text(), nullable=False, comment="the original subject, where a re-drive publishes"
        ),
        sa.Column("stream", sa.Text(), nullable=False),
        sa.Column("stream_seq", sa.BigInteger(), nullable=False),
        sa.Column("deliveries", sa.Integer(), nullable=False),
        sa.Column(
            "headers",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=False,
            comment="the original headers, Beez-Dlq-* removed",
        ),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("error_category", sa.Text(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("dead_lettered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("redrive_count", sa.Integer(), nullable=False),
        sa.Column("redriven_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("state IN ('dead', 'redriven')", name=op.f("ck_bus_dead_letters_state")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bus_dead_letters")),
        sa.UniqueConstraint("dlq_msg_id", name=op.f("uq_bus_dead_letters_dlq_msg_id")),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_bus_dead_letters_org_id_dead_lettered_at_id",
        "bus_dead_letters",
        ["org_id", "dead_lettered_at", "id"],
        unique=False,
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_index(
        "ix_bus_dead_letters_org_id_dead_lettered_at_id", table_name="bus_dead_letters", schema=SCHEMA
    )
    op.drop_table("bus_dead_letters", schema=SCHEMA)
