"""The workflow digests the automation service announced, per (organization, automation, version).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "executor"


def upgrade() -> None:
    op.create_table(
        "announced_workflows",
        sa.Column("org_id", sa.Text(), nullable=False),
        sa.Column("automation_id", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("digest", sa.Text(), nullable=False, comment="beez.workflow.digest of the version"),
        sa.Column(
            "announced_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.PrimaryKeyConstraint(
            "org_id", "automation_id", "version", "digest", name=op.f("pk_announced_workflows")
        ),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_table("announced_workflows", schema=SCHEMA)
