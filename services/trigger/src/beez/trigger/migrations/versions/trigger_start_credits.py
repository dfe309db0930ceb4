"""Start credits per organization (decision 0039): ``enrollments.held_at`` and the indexes that
count an organization's STARTs in flight and find its held ones oldest first.

Revision ID: trigger_start_credits
Revises: trigger_contacts
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "trigger_start_credits"
down_revision: str | None = "trigger_contacts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "trigger"


def upgrade() -> None:
    op.add_column(
        "enrollments",
        sa.Column(
            "held_at",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="When its START was held for its organization's start credit (decision 0039)",
        ),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_enrollments_in_flight",
        "enrollments",
        ["org_id"],
        schema=SCHEMA,
        postgresql_where=sa.text("start IS NOT NULL AND dispatched_at IS NOT NULL AND given_up_at IS NULL"),
    )
    op.create_index(
        "ix_enrollments_held",
        "enrollments",
        ["org_id", "created_at", "execution_id"],
        schema=SCHEMA,
        postgresql_where=sa.text(
            "start IS NOT NULL AND dispatched_at IS NULL AND held_at IS NOT NULL AND given_up_at IS NULL"
        ),
    )


def downgrade() -> None:
    op.drop_index("ix_enrollments_held", table_name="enrollments", schema=SCHEMA)
    op.drop_index("ix_enrollments_in_flight", table_name="enrollments", schema=SCHEMA)
    op.drop_column("enrollments", "held_at", schema=SCHEMA)
