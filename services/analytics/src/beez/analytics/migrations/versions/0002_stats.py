"""Per-automation counters and per-execution outcomes (the duration samples).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "analytics"


def upgrade() -> None:
    op.create_table(
        "automation_counters",
        sa.Column("org_id", sa.Text(), nullable=False),
        sa.Column("automation_id", sa.Text(), nullable=False),
        sa.Column("total", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("succeeded", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("failed", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("cancelled", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("org_id", "automation_id", name=op.f("pk_automation_counters")),
        schema=SCHEMA,
    )
    op.create_table(
        "execution_outcomes",
        sa.Column("org_id", sa.Text(), nullable=False),
        sa.Column("execution_id", sa.Text(), nullable=False),
        sa.Column("automation_id", sa.Text(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "outcome", sa.Text(), nullable=True, comment="completed, failed or cancelled; NULL while running"
        ),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("duration_ms", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("org_id", "execution_id", name=op.f("pk_execution_outcomes")),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_execution_outcomes_org_id_automation_id_finished_at",
        "execution_outcomes",
        ["org_id", "automation_id", "finished_at"],
        unique=False,
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_table("execution_outcomes", schema=SCHEMA)
    op.drop_table("automation_counters", schema=SCHEMA)
