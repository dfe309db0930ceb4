"""Sends the emails schedule_email steps scheduled, when they are due (decision 0046).

Any number of replicas run :class:`ScheduledSender`. A round claims due messages
(:func:`~.repository.scheduled_messages.claim_due_messages`: ``FOR UPDATE SKIP LOCKED``, status
``sending`` with a lease of ``lease_s``) and commits; then sends each with send_email (the
message's rendered config and contact snapshot, its own idempotency key ``<step key>:send``, so
every attempt carries the same ``Message-ID``), and records the outcome: ``sent`` (or
``skipped``: no consent, no address), ``failed`` (permanent, or transient ``max_attempts``
times), or ``pending`` again after a backoff (transient: 60 s, 5, 15, 60 min, or a longer
``Retry-After``).

So a message survives restarts (its row is in PostgreSQL), and one that was being sent when its
sender died comes back when its lease runs out and is sent again under the same key and
Message-ID: the duplicate window is that of send_email (the time between the SMTP server's 250
and the outcome's commit). A message cancelled meanwhile is not claimed; one cancelled while
being sent keeps ``cancelled`` (the outcome only applies to the claim it belongs to).

The organization's SMTP connection is bound at send time as for a send_email step (the one the
step named, or the organization's only one, else the platform's settings).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from beez.executor.actions.base import Action, ActionContext, ActionError, PermanentError, TransientError
from beez.executor.engine.integrations import BindingError, Integrations
from beez.executor.models import ScheduledMessage
from beez.executor.repository import scheduled_messages as repo
from beez.kit.clock import Clock
from beez.kit.db import Database
from beez.kit.grpc.errors import NotFound
from beez.kit.logging import get_logger, mask_value
from beez.kit.loops import repeat_rounds

__all__ = ["BACKOFF_S", "ScheduledSender"]

log = get_logger(__name__)

BACKOFF_S = (60, 300, 900, 3600)
"""Waits after the 1st, 2nd, ... transient failure of a scheduled send."""


class ScheduledSender:
    """Claims due scheduled messages and sends them; see the module docstring."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        email: Action,
        integrations: Integrations | None = None,
        *,
        poll_interval: float = 0.5,
        batch: int = 50,
        lease_s: float = 120.0,
        max_attempts: int = 5,
    ) -> None:
        self._db = db
        self._clock = clock
        self._email = email
        self._integrations = integrations
        self._poll_interval = poll_interval
        self._batch = batch
        self._lease = timedelta(seconds=lease_s)
        self._max_attempts = max_attempts
        self.sent = 0

    async def send_due(self) -> int:
        """Claims and sends one batch of due messages; how many were claimed."""
        now = self._clock.now()
        async with self._db.transaction() as session:
            claimed = await repo.claim_due_messages(session, now, self._lease, self._batch)
            for row in claimed:
                session.expunge(row)
        for row in claimed:
            await self._settle(row, await self.send(row, now))
        return len(claimed)

    async def _context(self, row: ScheduledMessage, now: datetime) -> ActionContext:
        connection = None
        if self._integrations is not None:
            binding = await self._integrations.bind(row.org_id, "send_email", row.connection)
            if binding is not None:
                connection = await self._integrations.access(row.org_id, binding, now)
        return ActionContext(
            org_id=row.org_id,
            execution_id=row.execution_id,
            automation_id=row.automation_id,
            step_id=row.step_id,
            step_path=row.step_path,
            attempt=row.attempts,
            idempotency_key=row.idempotency_key,
            config=dict(row.config),
            contact=dict(row.contact),
            event={},
            vars={},
            now=now,
            connection=connection,
        )

    async def send(self, row: ScheduledMessage, now: datetime) -> dict[str, Any]:
        """Sends one claimed message; the outcome's column values (to settle it with)."""
        try:
            result = await self._email.run(await self._context(row, now))
        except (PermanentError, BindingError, NotFound) as exc:
            return self._failed(row, now, exc)
        except TransientError as exc:
            if row.attempts >= self._max_attempts:
                return self._failed(row, now, exc)
            wait = max(float(BACKOFF_S[min(row.attempts, len(BACKOFF_S)) - 1]), float(exc.retry_after or 0))
            return {
                "status": repo.PENDING,
                "due_at": now + timedelta(seconds=wait),
                "error": mask_value(str(exc)),
                "lease_until": None,
            }
        except Exception as exc:  # counts as transient, like a step's
            log.warning("scheduled send raised", id=row.id, error=repr(exc))
            return (
                self._failed(row, now, exc)
                if row.attempts >= self._max_attempts
                else {
                    "status": repo.PENDING,
                    "due_at": now + timedelta(seconds=BACKOFF_S[0]),
                    "error": mask_value(f"{type(exc).__name__}: {exc}"),
                    "lease_until": None,
                }
            )
        status = repo.SKIPPED if result.status == "skipped" else repo.SENT
        self.sent += status == repo.SENT
        output = mask_value(dict(result.output))
        if result.reason:
            output["reason"] = result.reason
        return {"status": status, "result": output, "error": "", "finished_at": now, "lease_until": None}

    def _failed(self, row: ScheduledMessage, now: datetime, exc: Exception) -> dict[str, Any]:
        category = exc.category if isinstance(exc, ActionError) else "connection"
        log.info("scheduled message failed", id=row.id, category=category)
        return {
            "status": repo.FAILED,
            "error": mask_value(str(exc)) or category,
            "result": {"category": category},
            "finished_at": now,
            "lease_until": None,
        }

    async def _settle(self, row: ScheduledMessage, values: dict[str, Any]) -> None:
        async with self._db.transaction() as session:
            await repo.settle_scheduled_message(session, row.id, row.attempts, values)

    async def run(self) -> None:
        """Sends due messages until cancelled; database trouble is logged and retried."""
        await repeat_rounds(
            self.send_due,
            interval=self._poll_interval,
            full=self._batch,
            what="sending scheduled messages",
            max_pause=5.0,
        )
