"""Outbox rows the relay cannot publish are parked (decision 0026).

Revision ID: automation_outbox_parked
Revises: 0002
Create Date: 2026-12-03
"""

from collections.abc import Sequence

from alembic import op

from beez.kit.bus.outbox import parking_columns

revision: str = "automation_outbox_parked"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "automation"


def upgrade() -> None:
    for column in parking_columns():
        op.add_column("outbox", column, schema=SCHEMA)


def downgrade() -> None:
    for column in reversed(parking_columns()):
        op.drop_column("outbox", column.name, schema=SCHEMA)
