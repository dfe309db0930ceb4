"""The gateway's token buckets (``beez.kit.ratelimit``): requests per organization and globally.

Revision ID: gateway_rate_buckets
Revises:
Create Date: 2026-12-03
"""

from collections.abc import Sequence

from alembic import op

from beez.kit.ratelimit import create_table_sql, drop_table_sql

revision: str = "gateway_rate_buckets"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "gateway"


def upgrade() -> None:
    op.execute(create_table_sql(SCHEMA))


def downgrade() -> None:
    op.execute(drop_table_sql(SCHEMA))
