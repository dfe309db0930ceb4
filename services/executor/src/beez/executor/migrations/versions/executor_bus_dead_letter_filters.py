"""Indexes for the dead-letter filters: by consumer, by error category, and the not re-driven
ones a bulk re-drive takes oldest first (decision 0029).

Revision ID: executor_bus_dead_letter_filters
Revises: executor_bus_dead_letters
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "executor_bus_dead_letter_filters"
down_revision: str | None = "executor_bus_dead_letters"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "executor"
TABLE = "bus_dead_letters"


def upgrade() -> None:
    for column in ("consumer", "error_category"):
        op.create_index(
            f"ix_{TABLE}_org_id_{column}_dead_lettered_at_id",
            TABLE,
            ["org_id", column, "dead_lettered_at", "id"],
            unique=False,
            schema=SCHEMA,
        )
    op.create_index(
        f"ix_{TABLE}_dead_org_id_dead_lettered_at_id",
        TABLE,
        ["org_id", "dead_lettered_at", "id"],
        unique=False,
        schema=SCHEMA,
        postgresql_where=sa.text("state = 'dead'"),
    )


def downgrade() -> None:
    op.drop_index(f"ix_{TABLE}_dead_org_id_dead_lettered_at_id", table_name=TABLE, schema=SCHEMA)
    for column in ("error_category", "consumer"):
        op.drop_index(f"ix_{TABLE}_org_id_{column}_dead_lettered_at_id", table_name=TABLE, schema=SCHEMA)
