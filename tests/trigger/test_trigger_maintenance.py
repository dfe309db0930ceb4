"""Housekeeping: closed and expired waits, old history and ended enrollments are purged."""

from __future__ import annotations

from datetime import timedelta

from beez.api.messages.v1.lifecycle_pb2 import WaitKind
from beez.trigger import maintenance
from beez.trigger.config import TriggerSettings
from tests.trigger.support import Harness, event, workflow


async def count(trigger: Harness, table: str) -> int:
    rows = await trigger.sql(
        f"SELECT count(*) AS n FROM trigger.{table} WHERE org_id = :org", org=trigger.org
    )
    return int(rows[0].n)


async def test_old_waits_history_and_ended_enrollments_are_purged_but_run_once_is_kept(
    trigger: Harness,
) -> None:
    runtime = trigger.svc.runtime
    settings = runtime.settings
    assert isinstance(settings, TriggerSettings)
    await trigger.automation("auto-1", workflow(settings={"runOnce": True}))
    await trigger.publish(event())
    [start] = await trigger.starts()
    await trigger.execution_event(start.execution_id)
    now = trigger.clock.now()
    await trigger.register_wait("fired", WaitKind.WAIT_KIND_EVENT, event_type="link.clicked")
    await trigger.register_wait(
        "expiring", WaitKind.WAIT_KIND_EVENT, event_type="x.y", expires_at=now + timedelta(hours=1)
    )
    await trigger.register_wait("open", WaitKind.WAIT_KIND_GOAL, event_type="purchase.made")
    await trigger.publish(event("link.clicked"))

    trigger.clock.advance(timedelta(days=2))
    await maintenance.purge_once(runtime.db, runtime.clock, settings)
    assert await count(trigger, "waits") == 1  # the open goal stays
    assert await count(trigger, "events") == 2

    trigger.clock.advance(timedelta(days=settings.event_retention_days))
    await maintenance.purge_once(runtime.db, runtime.clock, settings)
    assert await count(trigger, "events") == 0
    assert await count(trigger, "enrollments") == 0
    rows = await trigger.sql(
        "SELECT count(*) AS n FROM trigger.run_once WHERE automation_id = :id", id=trigger.id("auto-1")
    )
    assert rows[0].n == 1
    await trigger.publish(event())  # runOnce still holds
    assert len(await trigger.starts()) == 1
