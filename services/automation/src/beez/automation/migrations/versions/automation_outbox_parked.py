"""Outbox rows the relay cannot publish are parked (decision 0026).

Revision ID: automation_outbox_parked
Revises: 0002
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "automation_outbox_parked"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "automation"


def upgrade() -> None:
    op.add_column(
        "outbox",
        sa.Column(
            "parked_at",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="set when the relay gave up on the row (a permanent publish error); never retried",
        ),
        schema=SCHEMA,
    )
    op.add_column(
        "outbox",
        sa.Column("park_error", sa.Text(), nullable=True, comment="why the relay parked the row"),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_column("outbox", "park_error", schema=SCHEMA)
    op.drop_column("outbox", "parked_at", schema=SCHEMA)
