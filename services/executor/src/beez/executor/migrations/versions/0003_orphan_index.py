"""Partial index for the sweeper's look for orphaned executions.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "executor"


def upgrade() -> None:
    op.create_index(
        "ix_executions_orphan_candidates",
        "executions",
        ["updated_at"],
        unique=False,
        schema=SCHEMA,
        postgresql_where=sa.text("status IN ('queued', 'running') AND wait_token IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_executions_orphan_candidates", table_name="executions", schema=SCHEMA)
