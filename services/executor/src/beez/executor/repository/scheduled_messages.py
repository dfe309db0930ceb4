"""Scheduled messages (decision 0046): added when a schedule_email step settles, claimed by the
scheduled-message loop (``FOR UPDATE SKIP LOCKED``, a lease so a crashed sender's row comes back),
cancelled by id or label; always scoped by organization outside the loop."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, and_, or_, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from beez.executor.models import ScheduledMessage

__all__ = [
    "add_scheduled_message",
    "cancel_scheduled_messages",
    "claim_due_messages",
    "find_scheduled_messages",
    "settle_scheduled_message",
]

PENDING, SENDING, SENT, SKIPPED, FAILED, CANCELLED = (
    "pending",
    "sending",
    "sent",
    "skipped",
    "failed",
    "cancelled",
)


async def add_scheduled_message(session: AsyncSession, values: dict[str, Any]) -> bool:
    """Adds a message unless one with its idempotency key exists; True when this call added it."""
    result = await session.execute(
        insert(ScheduledMessage)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(ScheduledMessage.id)
    )
    return result.first() is not None


async def cancel_scheduled_messages(
    session: AsyncSession,
    org_id: str,
    now: datetime,
    *,
    contact_id: str | None = None,
    ids: list[str] | None = None,
    label: str = "",
) -> list[str]:
    """Cancels the organization's pending messages with one of ``ids`` or with ``label`` (of
    ``contact_id`` when given); the ids cancelled. Sent, sending and failed ones stay."""
    chosen: list[ColumnElement[bool]] = []
    if ids:
        chosen.append(ScheduledMessage.id.in_(ids))
    if label:
        chosen.append(ScheduledMessage.label == label)
    if not chosen:
        return []
    where: list[ColumnElement[bool]] = [
        ScheduledMessage.org_id == org_id,
        ScheduledMessage.status == PENDING,
        or_(*chosen),
    ]
    if contact_id is not None:
        where.append(ScheduledMessage.contact_id == contact_id)
    result = await session.execute(
        update(ScheduledMessage)
        .where(*where)
        .values(status=CANCELLED, finished_at=now)
        .returning(ScheduledMessage.id)
    )
    return [row[0] for row in result]


async def claim_due_messages(
    session: AsyncSession, now: datetime, lease: timedelta, limit: int
) -> list[ScheduledMessage]:
    """Claims up to ``limit`` messages due at ``now``: pending ones, and sending ones whose lease
    ran out (their sender died between the send and the settle); each gets a lease and an attempt."""
    due = (
        select(ScheduledMessage.id)
        .where(
            or_(
                and_(ScheduledMessage.status == PENDING, ScheduledMessage.due_at <= now),
                and_(ScheduledMessage.status == SENDING, ScheduledMessage.lease_until <= now),
            )
        )
        .order_by(ScheduledMessage.due_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    result = await session.execute(
        update(ScheduledMessage)
        .where(ScheduledMessage.id.in_(due))
        .values(status=SENDING, lease_until=now + lease, attempts=ScheduledMessage.attempts + 1)
        .returning(ScheduledMessage)
    )
    return list(result.scalars())


async def settle_scheduled_message(
    session: AsyncSession, message_id: str, attempt: int, values: dict[str, Any]
) -> bool:
    """Records the outcome of the claim ``attempt`` (``status``, ``error``, ``result``,
    ``due_at``...); False when the row has been claimed again or cancelled meanwhile."""
    result = cast(
        CursorResult[Any],
        await session.execute(
            update(ScheduledMessage)
            .where(
                ScheduledMessage.id == message_id,
                ScheduledMessage.status == SENDING,
                ScheduledMessage.attempts == attempt,
            )
            .values(**values)
        ),
    )
    return bool(result.rowcount)


async def find_scheduled_messages(
    session: AsyncSession,
    org_id: str,
    automation_id: str | None,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[ScheduledMessage]:
    """A page of the organization's pending messages by ``(due_at, id)`` ascending."""
    query = select(ScheduledMessage).where(
        ScheduledMessage.org_id == org_id, ScheduledMessage.status.in_((PENDING, SENDING))
    )
    if automation_id:
        query = query.where(ScheduledMessage.automation_id == automation_id)
    if after is not None:
        query = query.where(tuple_(ScheduledMessage.due_at, ScheduledMessage.id) > tuple_(*after))
    query = query.order_by(ScheduledMessage.due_at, ScheduledMessage.id).limit(limit)
    return list((await session.execute(query)).scalars())
