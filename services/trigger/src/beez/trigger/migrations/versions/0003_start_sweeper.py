"""Enrollments record when their START was dispatched, for the start sweeper (decision 0008).

``dispatched_at`` is backfilled from ``created_at`` for the enrollments still holding a START
(the only ones the sweeper reads); adding ``redispatches`` with a constant default rewrites
nothing. The partial index holds only STARTs still outstanding, in dispatch order.

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

SCHEMA = "trigger"
PENDING = "start IS NOT NULL AND given_up_at IS NULL"


def upgrade() -> None:
    op.add_column(
        "enrollments",
        sa.Column(
            "dispatched_at",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="When the START job last went to the outbox; NULL only on rows older than this column",
        ),
        schema=SCHEMA,
    )
    op.add_column(
        "enrollments",
        sa.Column(
            "redispatches",
            sa.Integer(),
            server_default=sa.text("0"),
            nullable=False,
            comment="How often the start sweeper published the START again",
        ),
        schema=SCHEMA,
    )
    op.add_column(
        "enrollments",
        sa.Column(
            "given_up_at",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="When the start sweeper stopped re-dispatching a START that never started",
        ),
        schema=SCHEMA,
    )
    op.execute(f"UPDATE {SCHEMA}.enrollments SET dispatched_at = created_at WHERE start IS NOT NULL")
    op.create_index(
        "ix_enrollments_pending_start",
        "enrollments",
        ["dispatched_at"],
        unique=False,
        schema=SCHEMA,
        postgresql_where=sa.text(PENDING),
    )


def downgrade() -> None:
    op.drop_index("ix_enrollments_pending_start", table_name="enrollments", schema=SCHEMA)
    op.drop_column("enrollments", "given_up_at", schema=SCHEMA)
    op.drop_column("enrollments", "redispatches", schema=SCHEMA)
    op.drop_column("enrollments", "dispatched_at", schema=SCHEMA)
