"""Provider message ids of sent SMS and WhatsApp messages, for delivery callbacks (decision 0041).

Revision ID: executor_provider_messages
Revises: executor_connections
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "executor_provider_messages"
down_revision: str | None = "executor_connections"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "executor"


def upgrade() -> None:
    op.create_table(
        "provider_messages",
        sa.Column("provider", sa.Text(), nullable=False, comment="sms or whatsapp"),
        sa.Column("provider_message_id", sa.Text(), nullable=False),
        sa.Column("org_id", sa.Text(), nullable=False),
        sa.Column("execution_id", sa.Text(), nullable=False),
        sa.Column("automation_id", sa.Text(), nullable=False),
        sa.Column("step_id", sa.Text(), nullable=False),
        sa.Column("step_path", sa.Text(), nullable=False),
        sa.Column("contact_id", sa.Text(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("provider", "provider_message_id", name=op.f("pk_provider_messages")),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_table("provider_messages", schema=SCHEMA)
