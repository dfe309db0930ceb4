"""The executor's token buckets (``beez.kit.ratelimit``): send limits per organization and channel.

Revision ID: executor_rate_buckets
Revises: executor_execution_caps
Create Date: 2026-12-03
"""

from collections.abc import Sequence

from alembic import op

from beez.kit.ratelimit import create_table_sql, drop_table_sql

revision: str = "executor_rate_buckets"
down_revision: str | None = "executor_execution_caps"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "executor"


def upgrade() -> None:
    op.execute(create_table_sql(SCHEMA))


def downgrade() -> None:
    op.execute(drop_table_sql(SCHEMA))
