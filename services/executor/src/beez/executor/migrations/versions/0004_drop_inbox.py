"""Drop the inbox table: no consumer of this service reads or writes it.

Every consumer here is idempotent by its own unique keys or guarded updates, so none claims
message ids; the table stayed empty. The downgrade recreates it as 0001 made it.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "executor"


def upgrade() -> None:
    op.drop_index("ix_inbox_received_at", table_name="inbox", schema=SCHEMA)
    op.drop_table("inbox", schema=SCHEMA)


def downgrade() -> None:
    op.create_table(
        "inbox",
        sa.Column("consumer", sa.Text(), nullable=False),
        sa.Column("message_id", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("consumer", "message_id", name=op.f("pk_inbox")),
        schema=SCHEMA,
    )
    op.create_index("ix_inbox_received_at", "inbox", ["received_at"], unique=False, schema=SCHEMA)
