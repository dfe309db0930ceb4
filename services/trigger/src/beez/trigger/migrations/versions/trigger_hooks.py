"""Inbound webhooks (decision 0036): one row per hook, the token only as its SHA-256.

Revision ID: trigger_hooks
Revises: trigger_start_credits
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "trigger_hooks"
down_revision: str | None = "trigger_start_credits"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "trigger"


def upgrade() -> None:
    op.create_table(
        "hooks",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("org_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("event_type", sa.Text(), nullable=False),
        sa.Column("contact_id_path", sa.Text(), nullable=False, comment="empty: events without contact"),
        sa.Column("require_signature", sa.Boolean(), nullable=False),
        sa.Column(
            "token_hash", sa.Text(), nullable=False, comment="SHA-256 of the token, hex; never the token"
        ),
        sa.Column(
            "token_prefix", sa.Text(), nullable=False, comment="organization and 4 characters, for display"
        ),
        sa.Column("secret", postgresql.BYTEA(), nullable=False, comment="Fernet token of the signing secret"),
        sa.Column("secret_key_id", sa.Text(), nullable=False, comment="id of the ring key that encrypted it"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rotated_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hooks")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_hooks_token_hash")),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_hooks_org_id_created_at_id", "hooks", ["org_id", "created_at", "id"], unique=False, schema=SCHEMA
    )


def downgrade() -> None:
    op.drop_index("ix_hooks_org_id_created_at_id", table_name="hooks", schema=SCHEMA)
    op.drop_table("hooks", schema=SCHEMA)
