"""The executor's own state: workflows, executions, the step log, timers and dead letters.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dead_letters",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("org_id", sa.Text(), nullable=False),
        sa.Column("execution_id", sa.Text(), nullable=False),
        sa.Column("automation_id", sa.Text(), nullable=False),
        sa.Column("step_id", sa.Text(), nullable=False),
        sa.Column("position", sa.Text(), nullable=False),
        sa.Column("idempotency_key", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("category", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dead_letters")),
        schema="executor",
    )
    op.create_index(
        "ix_dead_letters_execution_id", "dead_letters", ["execution_id"], unique=False, schema="executor"
    )
    op.create_index(
        "ix_dead_letters_org_id_created_at",
        "dead_letters",
        ["org_id", "created_at"],
        unique=False,
        schema="executor",
    )
    op.create_table(
        "execution_steps",
        sa.Column("seq", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("execution_id", sa.Text(), nullable=False),
        sa.Column("org_id", sa.Text(), nullable=False),
        sa.Column("step_id", sa.Text(), nullable=False),
        sa.Column("position", sa.Text(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False, comment="actions[3].branches[timeout].actions[0]"),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.Text(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("duration_ms", sa.BigInteger(), nullable=True),
        sa.Column(
            "result",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("error_category", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('running', 'succeeded', 'failed', 'skipped', 'waiting')",
            name=op.f("ck_execution_steps_status"),
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_execution_steps")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_execution_steps_idempotency_key")),
        schema="executor",
    )
    op.create_index(
        "ix_execution_steps_execution_id_position_attempt",
        "execution_steps",
        ["execution_id", "position", "attempt"],
        unique=False,
        schema="executor",
    )
    op.create_table(
        "executions",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("org_id", sa.Text(), nullable=False),
        sa.Column("automation_id", sa.Text(), nullable=False),
        sa.Column("automation_version", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Text(), nullable=False),
        sa.Column("workflow_digest", sa.Text(), nullable=False),
        sa.Column("priority", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column(
            "position",
            sa.Text(),
            nullable=True,
            comment="beez.workflow.navigation position of the current step; NULL when done",
        ),
        sa.Column(
            "phase",
            sa.Text(),
            nullable=False,
            comment="start: the step's delay is still ahead; ready: it may run now",
        ),
        sa.Column("wait_token", sa.Text(), nullable=True, comment="the timer/signal that may wake it"),
        sa.Column(
            "wait_kind",
            sa.Text(),
            nullable=True,
            comment="delay, quiet_hours, retry, wait, event, until, resume, retry_execution",
        ),
        sa.Column(
            "driver_token",
            sa.Text(),
            nullable=True,
            comment="token of the job that woke it and may drive it now",
        ),
        sa.Column("goal_token", sa.Text(), nullable=True, comment="id of the registered goal"),
        sa.Column(
            "attempt_base",
            sa.Integer(),
            nullable=False,
            comment="attempts of the current step made before a manual retry",
        ),
        sa.Column("run", sa.Integer(), nullable=False, comment="1, plus one per manual retry"),
        sa.Column("trigger_event_id", sa.Text(), nullable=False),
        sa.Column("trigger_event", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "contact",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=False,
            comment="the execution's own contact snapshot",
        ),
        sa.Column("vars", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "loops",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=False,
            comment="loop position -> {items, index, saved}",
        ),
        sa.Column("converted", sa.Boolean(), nullable=False),
        sa.Column("end_reason", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("error_category", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("queue_wait_ms", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'queued', 'running', 'waiting', 'completed', 'failed', 'cancelled')",
            name=op.f("ck_executions_status"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_executions")),
        schema="executor",
    )
    op.create_index(
        "ix_executions_org_id_automation_id_created_at",
        "executions",
        ["org_id", "automation_id", "created_at"],
        unique=False,
        schema="executor",
    )
    op.create_index(
        "ix_executions_org_id_automation_id_status_created_at",
        "executions",
        ["org_id", "automation_id", "status", "created_at"],
        unique=False,
        schema="executor",
    )
    op.create_index(
        "ix_executions_org_id_contact_id_created_at",
        "executions",
        ["org_id", "contact_id", "created_at"],
        unique=False,
        schema="executor",
    )
    op.create_table(
        "timers",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("org_id", sa.Text(), nullable=False),
        sa.Column("execution_id", sa.Text(), nullable=False),
        sa.Column(
            "kind", sa.Text(), nullable=False, comment="delay, retry, wait_timeout, quiet_hours or until"
        ),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("token", sa.Text(), nullable=False),
        sa.Column("step_id", sa.Text(), nullable=False),
        sa.Column("priority", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_timers")),
        schema="executor",
    )
    op.create_index("ix_timers_due_at", "timers", ["due_at"], unique=False, schema="executor")
    op.create_index("ix_timers_execution_id", "timers", ["execution_id"], unique=False, schema="executor")
    op.create_index(
        "ix_timers_org_id_due_at", "timers", ["org_id", "due_at"], unique=False, schema="executor"
    )
    op.create_table(
        "workflows",
        sa.Column("digest", sa.Text(), nullable=False, comment="sha256 of the serialized proto"),
        sa.Column("definition", sa.LargeBinary(), nullable=False, comment="beez.api.workflow.v1.Workflow"),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_workflows")),
        schema="executor",
    )


def downgrade() -> None:
    op.drop_table("workflows", schema="executor")
    op.drop_index("ix_timers_org_id_due_at", table_name="timers", schema="executor")
    op.drop_index("ix_timers_execution_id", table_name="timers", schema="executor")
    op.drop_index("ix_timers_due_at", table_name="timers", schema="executor")
    op.drop_table("timers", schema="executor")
    op.drop_index("ix_executions_org_id_contact_id_created_at", table_name="executions", schema="executor")
    op.drop_index(
        "ix_executions_org_id_automation_id_status_created_at", table_name="executions", schema="executor"
    )
    op.drop_index("ix_executions_org_id_automation_id_created_at", table_name="executions", schema="executor")
    op.drop_table("executions", schema="executor")
    op.drop_index(
        "ix_execution_steps_execution_id_position_attempt", table_name="execution_steps", schema="executor"
    )
    op.drop_table("execution_steps", schema="executor")
    op.drop_index("ix_dead_letters_org_id_created_at", table_name="dead_letters", schema="executor")
    op.drop_index("ix_dead_letters_execution_id", table_name="dead_letters", schema="executor")
    op.drop_table("dead_letters", schema="executor")
