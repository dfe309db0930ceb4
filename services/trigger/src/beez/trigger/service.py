"""What the trigger does with automation changes, wait registrations and execution lifecycle.

Each function is one unit of work (one transaction) and is idempotent by key, so the
at-least-once consumers in :mod:`beez.trigger.consumers` can run it again on a redelivery:

- an automation change applies only when its revision is newer than the row's;
- a registration is inserted by wait id, never over an existing row (open, fired or a
  cancellation tombstone); a cancellation leaves a tombstone, also before its registration
  arrives, so the two may come in either order;
- an ended execution's slots are deleted, its enrollment marked ended once and its waits
  closed: doing it again finds nothing left to do.
"""

from __future__ import annotations

from beez.api.messages.v1.lifecycle_pb2 import (
    AutomationChanged,
    ExecutionEvent,
    ExecutionEventKind,
    WaitRegistration,
)
from beez.kit.clock import Clock
from beez.kit.db import Database
from beez.kit.logging import get_logger
from beez.trigger.index import index_entry
from beez.trigger.repository import transactional
from beez.trigger.waits import registration

log = get_logger(__name__)

OUTCOMES = {
    ExecutionEventKind.EXECUTION_EVENT_KIND_COMPLETED: "completed",
    ExecutionEventKind.EXECUTION_EVENT_KIND_FAILED: "failed",
    ExecutionEventKind.EXECUTION_EVENT_KIND_CANCELLED: "cancelled",
}
"""The terminal kinds of execution event, and the outcome each records."""


async def apply_automation_change(db: Database, clock: Clock, change: AutomationChanged, org_id: str) -> bool:
    """Projects ``change`` into the index; False when the index already has this revision or newer."""
    entry = index_entry(change, org_id)
    applied = await transactional(db, lambda repo: repo.upsert_automation(entry, clock.now()))
    log.info(
        "automation indexed" if applied else "stale automation change ignored",
        automation_id=entry.automation_id,
        org_id=org_id,
        revision=entry.revision,
        version=entry.version,
        active=entry.active,
        event_type=entry.event_type,
    )
    return applied


async def apply_wait_registration(db: Database, clock: Clock, message: WaitRegistration, org_id: str) -> None:
    """Stores a registration, or records its cancellation.

    A registration that has already expired is not stored: it could never fire.
    """
    wait = registration(message, org_id)
    now = clock.now()
    if message.cancel:
        await transactional(db, lambda repo: repo.cancel_wait(wait, now))
        log.debug("wait cancelled", wait_id=wait.id, execution_id=wait.execution_id)
        return
    if wait.expires_at is not None and wait.expires_at <= now:
        log.info("expired wait registration ignored", wait_id=wait.id, execution_id=wait.execution_id)
        return
    await transactional(db, lambda repo: repo.register_wait(wait, now))
    log.debug("wait registered", wait_id=wait.id, kind=wait.kind, execution_id=wait.execution_id)


async def apply_execution_event(db: Database, clock: Clock, event: ExecutionEvent) -> None:
    """Releases what an ended execution held; drops the start payload once it started."""
    if not event.execution_id:
        return
    outcome = OUTCOMES.get(event.kind)
    if outcome is not None:
        now = clock.now()
        await transactional(db, lambda repo: repo.execution_ended(event.execution_id, outcome, now))
        log.debug("execution ended", execution_id=event.execution_id, outcome=outcome)
    elif event.kind == ExecutionEventKind.EXECUTION_EVENT_KIND_STARTED:
        await transactional(db, lambda repo: repo.execution_started(event.execution_id))
