"""Execution caps: steps and messages counted on each execution, and per-organization caps.

Revision ID: executor_execution_caps
Revises: executor_outbox_parked
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "executor_execution_caps"
down_revision: str | None = "executor_outbox_parked"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "executor"


def upgrade() -> None:
    # A constant default: PostgreSQL adds these without rewriting the table.
    op.add_column(
        "executions",
        sa.Column(
            "steps_run",
            sa.Integer(),
            server_default=sa.text("0"),
            nullable=False,
            comment="steps run so far, against the steps cap (decision 0023)",
        ),
        schema=SCHEMA,
    )
    op.add_column(
        "executions",
        sa.Column(
            "messages_sent",
            sa.Integer(),
            server_default=sa.text("0"),
            nullable=False,
            comment="messages sent so far, against the messages cap",
        ),
        schema=SCHEMA,
    )
    op.create_table(
        "org_limits",
        sa.Column("org_id", sa.Text(), nullable=False),
        sa.Column("max_steps_per_execution", sa.Integer(), nullable=True),
        sa.Column("max_messages_per_execution", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.PrimaryKeyConstraint("org_id", name=op.f("pk_org_limits")),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_table("org_limits", schema=SCHEMA)
    op.drop_column("executions", "messages_sent", schema=SCHEMA)
    op.drop_column("executions", "steps_run", schema=SCHEMA)
