"""Tables of the ``executor`` schema: executions, their step log, timers and dead letters.

An execution row is the whole durable state of a run: where it is (``position``), what it waits
for (``wait_token``/``wait_kind``), its own contact snapshot and variables, and its loop state.
Jobs only point at it. The workflow it runs is stored once per content (``workflows``, keyed by
the SHA-256 of its deterministic serialization), so thousands of executions of one version share
one copy and an execution can never see another version's steps.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Double,
    Identity,
    Index,
    Integer,
    LargeBinary,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from beez.kit.bus.outbox import outbox_table
from beez.kit.db import make_metadata, plain_rows
from beez.kit.ratelimit import bucket_table
from beez.workflow.status import ExecutionStatus, StepStatus

metadata = make_metadata("executor")
outbox = outbox_table(metadata)
rate_buckets = bucket_table(metadata)
"""The token buckets of the rate limits (decision 0031), created by ``create_table_sql``."""

EXECUTION_STATUSES = tuple(status.value for status in ExecutionStatus)
STEP_STATUSES = tuple(status.value for status in StepStatus)


class Base(DeclarativeBase):
    metadata = metadata


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class WorkflowDefinition(Base):
    """An immutable workflow version, stored once per content and shared by its executions."""

    __tablename__ = "workflows"

    digest: Mapped[str] = mapped_column(Text, primary_key=True, comment="sha256 of the serialized proto")
    definition: Mapped[bytes] = mapped_column(LargeBinary, comment="beez.api.workflow.v1.Workflow")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class AnnouncedWorkflow(Base):
    """A workflow digest the automation service announced for one version of an automation.

    Fed by the ``executor-automations`` consumer from ``automations.<org>.changed``; a START runs
    only when its workflow's digest is among those announced for its (organization, automation,
    version) (docs/decisions/0018). Versions are immutable, so a row is never updated; a version
    announced twice with other bytes (which the automation service does not do) keeps both.
    """

    __tablename__ = "announced_workflows"

    org_id: Mapped[str] = mapped_column(Text, primary_key=True)
    automation_id: Mapped[str] = mapped_column(Text, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    digest: Mapped[str] = mapped_column(Text, primary_key=True, comment="beez.workflow.digest of the version")
    announced_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Execution(Base):
    """One run of an automation for one contact; the id comes from the start job."""

    __tablename__ = "executions"
    __table_args__ = (
        CheckConstraint(_in("status", EXECUTION_STATUSES), name="status"),
        Index("ix_executions_org_id_automation_id_created_at", "org_id", "automation_id", "created_at"),
        Index("ix_executions_org_id_contact_id_created_at", "org_id", "contact_id", "created_at"),
        Index(
            "ix_executions_org_id_automation_id_status_created_at",
            "org_id",
            "automation_id",
            "status",
            "created_at",
        ),
        Index(
            "ix_executions_orphan_candidates",
            "updated_at",
            postgresql_where=text("status IN ('queued', 'running') AND wait_token IS NULL"),
        ),
    )

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    org_id: Mapped[str] = mapped_column(Text)
    automation_id: Mapped[str] = mapped_column(Text)
    automation_version: Mapped[int] = mapped_column(Integer)
    contact_id: Mapped[str] = mapped_column(Text)
    workflow_digest: Mapped[str] = mapped_column(Text)
    priority: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text)
    position: Mapped[str | None] = mapped_column(
        Text, comment="beez.workflow.navigation position of the current step; NULL when done"
    )
    phase: Mapped[str] = mapped_column(
        Text, comment="start: the step's delay is still ahead; ready: it may run now"
    )
    wait_token: Mapped[str | None] = mapped_column(Text, comment="the timer/signal that may wake it")
    wait_kind: Mapped[str | None] = mapped_column(
        Text, comment="delay, quiet_hours, retry, wait, event, until, resume, retry_execution"
    )
    driver_token: Mapped[str | None] = mapped_column(
        Text, comment="token of the job that woke it and may drive it now"
    )
    goal_token: Mapped[str | None] = mapped_column(Text, comment="id of the registered goal")
    attempt_base: Mapped[int] = mapped_column(
        Integer, comment="attempts of the current step made before a manual retry"
    )
    run: Mapped[int] = mapped_column(Integer, comment="1, plus one per manual retry")
    steps_run: Mapped[int] = mapped_column(
        Integer, server_default=text("0"), comment="steps run so far, against the steps cap (decision 0023)"
    )
    messages_sent: Mapped[int] = mapped_column(
        Integer, server_default=text("0"), comment="messages sent so far, against the messages cap"
    )
    trigger_event_id: Mapped[str] = mapped_column(Text)
    trigger_event: Mapped[dict[str, Any]] = mapped_column(JSONB)
    contact: Mapped[dict[str, Any]] = mapped_column(JSONB, comment="the execution's own contact snapshot")
    vars: Mapped[dict[str, Any]] = mapped_column(JSONB)
    loops: Mapped[dict[str, Any]] = mapped_column(JSONB, comment="loop position -> {items, index, saved}")
    converted: Mapped[bool] = mapped_column(Boolean)
    end_reason: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    error_category: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    queued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    queue_wait_ms: Mapped[int | None] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ExecutionStep(Base):
    """One attempt of one step: the execution's step log, PII masked."""

    __tablename__ = "execution_steps"
    __table_args__ = (
        CheckConstraint(_in("status", STEP_STATUSES), name="status"),
        Index("ix_execution_steps_execution_id_position_attempt", "execution_id", "position", "attempt"),
    )

    seq: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    execution_id: Mapped[str] = mapped_column(Text)
    org_id: Mapped[str] = mapped_column(Text)
    step_id: Mapped[str] = mapped_column(Text)
    position: Mapped[str] = mapped_column(Text)
    path: Mapped[str] = mapped_column(Text, comment="actions[3].branches[timeout].actions[0]")
    type: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text)
    attempt: Mapped[int] = mapped_column(Integer)
    idempotency_key: Mapped[str] = mapped_column(Text, unique=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    duration_ms: Mapped[int | None] = mapped_column(BigInteger)
    result: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    error: Mapped[str | None] = mapped_column(Text)
    error_category: Mapped[str | None] = mapped_column(Text)


NewExecution = plain_rows(Execution)
"""An execution created in memory by the transaction that writes it (see ``engine.sql_store``)."""
NewExecutionStep = plain_rows(ExecutionStep)
"""A step row of such an execution."""


class Timer(Base):
    """A moment an execution must be woken at; firing deletes it and sends a TIMER job."""

    __tablename__ = "timers"
    __table_args__ = (
        Index("ix_timers_due_at", "due_at"),
        Index("ix_timers_execution_id", "execution_id"),
        Index("ix_timers_org_id_due_at", "org_id", "due_at"),
    )

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    org_id: Mapped[str] = mapped_column(Text)
    execution_id: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text, comment="delay, retry, wait_timeout, quiet_hours or until")
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    token: Mapped[str] = mapped_column(Text)
    step_id: Mapped[str] = mapped_column(Text)
    priority: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class DeadLetter(Base):
    """A step that failed for good (permanently, or out of retries) and failed its execution."""

    __tablename__ = "dead_letters"
    __table_args__ = (
        Index("ix_dead_letters_org_id_created_at", "org_id", "created_at"),
        Index("ix_dead_letters_execution_id", "execution_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    org_id: Mapped[str] = mapped_column(Text)
    execution_id: Mapped[str] = mapped_column(Text)
    automation_id: Mapped[str] = mapped_column(Text)
    step_id: Mapped[str] = mapped_column(Text)
    position: Mapped[str] = mapped_column(Text)
    idempotency_key: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class BusDeadLetter(Base):
    """A message a bus consumer gave up on, folded in from the DLQ stream (decision 0029).

    ``dlq_msg_id`` is the dead letter's own ``Nats-Msg-Id`` (``dlq:<consumer>:<stream>:<seq>``):
    unique, so a redelivered dead letter is stored once. ``org_id`` is the organization of the
    original subject (empty when it names none: visible to operators only). A re-drive sets
    ``state`` to ``redriven`` and writes the message to the outbox in the same transaction.
    """

    __tablename__ = "bus_dead_letters"
    __table_args__ = (
        CheckConstraint("state IN ('dead', 'redriven')", name="state"),
        Index("ix_bus_dead_letters_org_id_dead_lettered_at_id", "org_id", "dead_lettered_at", "id"),
        # the list filters and the bulk re-drive (decision 0029)
        Index(
            "ix_bus_dead_letters_org_id_consumer_dead_lettered_at_id",
            "org_id",
            "consumer",
            "dead_lettered_at",
            "id",
        ),
        Index(
            "ix_bus_dead_letters_org_id_error_category_dead_lettered_at_id",
            "org_id",
            "error_category",
            "dead_lettered_at",
            "id",
        ),
        Index(
            "ix_bus_dead_letters_dead_org_id_dead_lettered_at_id",
            "org_id",
            "dead_lettered_at",
            "id",
            postgresql_where=text("state = 'dead'"),
        ),
    )

    id: Mapped[str] = mapped_column(Text, primary_key=True, comment="UUIDv7")
    dlq_msg_id: Mapped[str] = mapped_column(Text, unique=True)
    org_id: Mapped[str] = mapped_column(Text)
    consumer: Mapped[str] = mapped_column(Text)
    subject: Mapped[str] = mapped_column(Text, comment="the original subject, where a re-drive publishes")
    stream: Mapped[str] = mapped_column(Text)
    stream_seq: Mapped[int] = mapped_column(BigInteger)
    deliveries: Mapped[int] = mapped_column(Integer)
    headers: Mapped[dict[str, Any]] = mapped_column(JSONB, comment="the original headers, Beez-Dlq-* removed")
    error: Mapped[str] = mapped_column(Text)
    error_category: Mapped[str] = mapped_column(Text)
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    dead_lettered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    state: Mapped[str] = mapped_column(Text)
    redrive_count: Mapped[int] = mapped_column(Integer)
    redriven_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class WebhookSigningSecret(Base):
    """One organization's webhook signing secret, encrypted with a key of the signing key ring.

    ``key_id`` is what receivers see (the ``kid`` of a signature); ``encryption_key_id`` names
    the key ring entry that encrypted ``ciphertext`` (a Fernet token). A secret signs until its
    ``expires_at`` (none for the current one): a rotation gives the older ones an end, so both
    the old and the new secret sign during the overlap.
    """

    __tablename__ = "webhook_signing_secrets"

    org_id: Mapped[str] = mapped_column(Text, primary_key=True)
    key_id: Mapped[str] = mapped_column(Text, primary_key=True)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    encryption_key_id: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class OrganizationLimit(Base):
    """An organization's own caps on one execution (decision 0023); NULL: the default applies."""

    __tablename__ = "org_limits"

    org_id: Mapped[str] = mapped_column(Text, primary_key=True)
    max_steps_per_execution: Mapped[int | None] = mapped_column(Integer)
    max_messages_per_execution: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_by: Mapped[str] = mapped_column(Text, server_default=text("''"))


class Connection(Base):
    """An organization's credentials for one provider (issue #14 §3, decision 0040).

    ``ciphertext`` is the Fernet token of the credentials as JSON, encrypted with the key ring
    entry ``encryption_key_id`` names (the signing key ring, decision 0019); never returned.
    For OAuth2 providers the current access token is cached here (``access_ciphertext``, with
    ``access_expires_at``) so every replica shares one refresh. ``rate_per_s``/``rate_burst``
    override the provider's default limit; ``rate_factor`` (at most 1) is what a provider's 429
    left of it, recovering from ``rate_lowered_at`` on.
    """

    __tablename__ = "connections"
    __table_args__ = (
        UniqueConstraint("org_id", "name"),
        Index("ix_connections_org_id_provider", "org_id", "provider"),
    )

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    org_id: Mapped[str] = mapped_column(Text)
    provider: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    encryption_key_id: Mapped[str] = mapped_column(Text)
    fields: Mapped[list[str]] = mapped_column(JSONB, comment="the credential field names, never values")
    access_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)
    access_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    rate_per_s: Mapped[float | None] = mapped_column(Double)
    rate_burst: Mapped[float | None] = mapped_column(Double)
    rate_factor: Mapped[float] = mapped_column(Double, server_default=text("1"))
    rate_lowered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(Text, server_default=text("''"))
    rotated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ProviderMessage(Base):
    """A message a provider accepted, by the provider's id: which step of which execution sent it.

    Written in the transaction that settles the sending step, so a delivery callback (decision
    0041) maps the provider's id back to the organization, execution and step. The key is the
    provider and its id; lookups are always scoped by the organization the callback names too.
    """

    __tablename__ = "provider_messages"

    provider: Mapped[str] = mapped_column(Text, primary_key=True, comment="sms or whatsapp")
    provider_message_id: Mapped[str] = mapped_column(Text, primary_key=True)
    org_id: Mapped[str] = mapped_column(Text)
    execution_id: Mapped[str] = mapped_column(Text)
    automation_id: Mapped[str] = mapped_column(Text)
    step_id: Mapped[str] = mapped_column(Text)
    step_path: Mapped[str] = mapped_column(Text)
    contact_id: Mapped[str] = mapped_column(Text)
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ScheduledMessage(Base):
    """An email a ``schedule_email`` step scheduled (decision 0046): sent by the scheduled-message
    loop at ``due_at``, whatever the execution does meanwhile.

    Written in the transaction that settles the scheduling step (one row per step key, so a
    re-settled attempt adds nothing). ``status``: pending → sending (claimed, ``lease_until``) →
    sent or failed; pending → cancelled (CancelScheduled, cancel_scheduled_message). ``config``
    is the step's rendered email config, ``contact`` the contact snapshot at scheduling.
    """

    __tablename__ = "scheduled_messages"
    __table_args__ = (
        UniqueConstraint("idempotency_key", name="uq_scheduled_messages_key"),
        Index("ix_scheduled_messages_due", "status", "due_at"),
        Index("ix_scheduled_messages_contact", "org_id", "contact_id", "status"),
    )

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    org_id: Mapped[str] = mapped_column(Text)
    execution_id: Mapped[str] = mapped_column(Text)
    automation_id: Mapped[str] = mapped_column(Text)
    step_id: Mapped[str] = mapped_column(Text)
    step_path: Mapped[str] = mapped_column(Text)
    contact_id: Mapped[str] = mapped_column(Text)
    idempotency_key: Mapped[str] = mapped_column(Text, comment="the scheduling step's key + ':send'")
    label: Mapped[str] = mapped_column(Text, server_default=text("''"))
    kind: Mapped[str] = mapped_column(Text, server_default=text("'email'"))
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(Text, server_default=text("'pending'"))
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    config: Mapped[dict[str, Any]] = mapped_column(JSONB)
    contact: Mapped[dict[str, Any]] = mapped_column(JSONB)
    connection: Mapped[str] = mapped_column(Text, server_default=text("''"))
    error: Mapped[str] = mapped_column(Text, server_default=text("''"))
    result: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
