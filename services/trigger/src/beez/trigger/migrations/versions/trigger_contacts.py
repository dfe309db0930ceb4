"""The contact projection: ``contacts`` and ``contact_dates`` (issue #13).

Revision ID: trigger_contacts
Revises: trigger_rate_buckets
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "trigger_contacts"
down_revision: str | None = "trigger_rate_buckets"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "trigger"
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "contacts",
        sa.Column("org_id", sa.Text(), nullable=False),
        sa.Column("contact_id", sa.Text(), nullable=False),
        sa.Column("email", sa.Text(), nullable=True),
        sa.Column("phone", sa.Text(), nullable=True),
        sa.Column("timezone", sa.Text(), nullable=True, comment="IANA name; NULL: the organization's"),
        sa.Column("country", sa.Text(), nullable=True, comment="ISO 3166-1 alpha-2"),
        sa.Column("score", sa.Double(), nullable=True),
        sa.Column("lifecycle_stage", sa.Text(), nullable=True),
        sa.Column("tags", postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'"), nullable=False),
        sa.Column("lists", postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'"), nullable=False),
        sa.Column("fields", postgresql.JSONB(), server_default=sa.text("'{}'::jsonb"), nullable=False),
        sa.Column("counters", postgresql.JSONB(), server_default=sa.text("'{}'::jsonb"), nullable=False),
        sa.Column("created_at", TS, nullable=True, comment="In the CRM"),
        sa.Column("last_activity_at", TS, nullable=True),
        sa.Column("last_purchase_at", TS, nullable=True, comment="RFM recency"),
        sa.Column(
            "purchase_count",
            sa.Integer(),
            server_default=sa.text("0"),
            nullable=False,
            comment="RFM frequency",
        ),
        sa.Column(
            "monetary", sa.Numeric(18, 2), server_default=sa.text("0"), nullable=False, comment="RFM value"
        ),
        sa.Column(
            "observed_at",
            TS,
            nullable=False,
            comment="When the newest snapshot applied was taken (occurred_at)",
        ),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("deleted_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("org_id", "contact_id", name=op.f("pk_contacts")),
        schema=SCHEMA,
    )
    op.create_index("ix_contacts_tags", "contacts", ["tags"], schema=SCHEMA, postgresql_using="gin")
    op.create_index("ix_contacts_lists", "contacts", ["lists"], schema=SCHEMA, postgresql_using="gin")
    op.create_index(
        "ix_contacts_org_id_last_activity_at",
        "contacts",
        ["org_id", "last_activity_at"],
        schema=SCHEMA,
        postgresql_where=sa.text("deleted_at IS NULL"),
    )
    op.create_table(
        "contact_dates",
        sa.Column("org_id", sa.Text(), nullable=False),
        sa.Column("contact_id", sa.Text(), nullable=False),
        sa.Column("field", sa.Text(), nullable=False),
        sa.Column("value", sa.Date(), nullable=False),
        sa.Column("month_day", sa.SmallInteger(), nullable=False, comment="month * 100 + day"),
        sa.PrimaryKeyConstraint("org_id", "contact_id", "field", name=op.f("pk_contact_dates")),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_contact_dates_org_id_field_month_day",
        "contact_dates",
        ["org_id", "field", "month_day"],
        schema=SCHEMA,
    )
    op.create_index(
        "ix_contact_dates_org_id_field_value", "contact_dates", ["org_id", "field", "value"], schema=SCHEMA
    )


def downgrade() -> None:
    op.drop_table("contact_dates", schema=SCHEMA)
    op.drop_table("contacts", schema=SCHEMA)
