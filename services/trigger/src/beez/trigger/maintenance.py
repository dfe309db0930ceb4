"""Housekeeping: the history, ended enrollments and closed waits do not grow forever.

Run by every replica every ``maintenance_interval_s``; the deletes are idempotent and batched, so
replicas running them at once only share the work. ``run_once`` rows are never purged (runOnce
means ever), and neither are enrollments of executions that have not ended, which hold their
slots' history.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from beez.kit.clock import Clock
from beez.kit.db import Database
from beez.kit.logging import get_logger
from beez.trigger.config import TriggerSettings
from beez.trigger.repository import transactional

log = get_logger(__name__)

BATCH = 5_000


async def purge_once(db: Database, clock: Clock, settings: TriggerSettings) -> int:
    """Deletes what has outlived its retention; returns how many rows."""
    now = clock.now()
    history_cutoff = now - timedelta(days=settings.event_retention_days)
    waits_cutoff = now - timedelta(seconds=settings.wait_tombstone_retention_s)
    total = 0
    for purge in (
        lambda repo: repo.purge_events(history_cutoff, BATCH),
        lambda repo: repo.purge_enrollments(history_cutoff, BATCH),
        lambda repo: repo.purge_waits(waits_cutoff, BATCH),
    ):
        while True:
            deleted = await transactional(db, purge)
            total += deleted
            if deleted < BATCH:
                break
    if total:
        log.info("trigger history purged", rows=total)
    return total


async def run(db: Database, clock: Clock, settings: TriggerSettings) -> None:
    """Purges every ``maintenance_interval_s`` of wall time until cancelled; errors are logged."""
    while True:
        await asyncio.sleep(settings.maintenance_interval_s)
        try:
            await purge_once(db, clock, settings)
        except Exception as exc:
            log.warning("trigger purge failed", error=repr(exc))
