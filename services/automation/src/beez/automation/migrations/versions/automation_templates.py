"""The template library: templates (built-in and personal), ratings per organization, daily usage.

Revision ID: automation_templates
Revises: automation_outbox_parked
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "automation_templates"
down_revision: str | None = "automation_outbox_parked"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "automation"


def upgrade() -> None:
    # Trigram similarity makes template search typo-tolerant (decision 0048).
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_table(
        "templates",
        sa.Column("id", sa.Text(), nullable=False, comment="the file's slug, or a UUIDv7 for personal ones"),
        sa.Column(
            "org_id", sa.Text(), nullable=True, comment="NULL: built-in, visible to every organization"
        ),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("category", sa.Text(), nullable=False),
        sa.Column("subcategory", sa.Text(), nullable=False),
        sa.Column("industry", sa.Text(), nullable=False),
        sa.Column("tags", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("integrations", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("difficulty", sa.Text(), nullable=False),
        sa.Column("setup_minutes", sa.Integer(), nullable=False),
        sa.Column("featured", sa.Boolean(), nullable=False),
        sa.Column("trigger_type", sa.Text(), nullable=False),
        sa.Column(
            "body",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=False,
            comment="the template file's JSON: workflow, customizable, sample",
        ),
        sa.Column(
            "digest",
            sa.Text(),
            nullable=False,
            comment="of the body and metadata: a changed file rewrites the row",
        ),
        sa.Column("search", postgresql.TSVECTOR(), nullable=False),
        sa.Column("usage_count", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("view_count", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("rating_sum", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("rating_count", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("created_by", sa.Text(), nullable=True),
        sa.Column("source_automation_id", sa.Text(), nullable=True),
        sa.Column("create_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("update_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_templates")),
        schema=SCHEMA,
    )
    op.create_index("ix_templates_org_id_category", "templates", ["org_id", "category"], schema=SCHEMA)
    op.create_index("ix_templates_search", "templates", ["search"], schema=SCHEMA, postgresql_using="gin")
    op.create_index("ix_templates_tags", "templates", ["tags"], schema=SCHEMA, postgresql_using="gin")
    op.create_table(
        "template_ratings",
        sa.Column("template_id", sa.Text(), nullable=False),
        sa.Column("org_id", sa.Text(), nullable=False),
        sa.Column("rating", sa.SmallInteger(), nullable=False),
        sa.Column("review", sa.Text(), server_default="", nullable=False),
        sa.Column("create_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("update_time", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("rating BETWEEN 1 AND 5", name=op.f("ck_template_ratings_rating_range")),
        sa.ForeignKeyConstraint(
            ["template_id"],
            [f"{SCHEMA}.templates.id"],
            name=op.f("fk_template_ratings_template_id_templates"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("template_id", "org_id", name=op.f("pk_template_ratings")),
        schema=SCHEMA,
    )
    op.create_table(
        "template_usage",
        sa.Column("template_id", sa.Text(), nullable=False),
        sa.Column("org_id", sa.Text(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("views", sa.Integer(), server_default="0", nullable=False),
        sa.Column("uses", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["template_id"],
            [f"{SCHEMA}.templates.id"],
            name=op.f("fk_template_usage_template_id_templates"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("template_id", "org_id", "day", name=op.f("pk_template_usage")),
        schema=SCHEMA,
    )
    op.create_index("ix_template_usage_day", "template_usage", ["day"], schema=SCHEMA)


def downgrade() -> None:
    op.drop_table("template_usage", schema=SCHEMA)
    op.drop_table("template_ratings", schema=SCHEMA)
    op.drop_table("templates", schema=SCHEMA)
