"""The trigger's token buckets (``beez.kit.ratelimit``): the per-organization ingestion limit.

Revision ID: trigger_rate_buckets
Revises: trigger_outbox_parked
Create Date: 2026-12-03
"""

from collections.abc import Sequence

from alembic import op

from beez.kit.ratelimit import create_table_sql, drop_table_sql

revision: str = "trigger_rate_buckets"
down_revision: str | None = "trigger_outbox_parked"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "trigger"


def upgrade() -> None:
    op.execute(create_table_sql(SCHEMA))


def downgrade() -> None:
    op.execute(drop_table_sql(SCHEMA))
