"""Helpers of the time-trigger tests: contacts written straight into the projection's tables
(the projection's own feed is another module's), and waiting for the scheduler."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import date, datetime, timedelta
from typing import Any

from beez.api.messages.v1.jobs_pb2 import Job
from beez.api.workflow.v1.workflow_pb2 import Workflow
from tests.trigger.support import Harness, workflow


async def add_contact(
    h: Harness,
    contact_id: str,
    *,
    org: str | None = None,
    timezone: str | None = None,
    tags: list[str] | None = None,
    lists: list[str] | None = None,
    last_activity_at: datetime | None = None,
    dates: dict[str, date] | None = None,
    fields: dict[str, Any] | None = None,
    score: float | None = None,
) -> None:
    """One contact of the projection, with its date fields indexed in ``contact_dates``."""
    org = org or h.org
    now = h.clock.now()
    await h.sql(
        "INSERT INTO trigger.contacts (org_id, contact_id, email, timezone, tags, lists, fields, score, "
        "last_activity_at, observed_at, updated_at) VALUES (:org, :id, :email, :tz, :tags, :lists, "
        "CAST(:fields AS jsonb), :score, :active, :now, :now) RETURNING contact_id",
        org=org,
        id=contact_id,
        email=f"{contact_id}@example.com",
        tz=timezone,
        tags=tags or [],
        lists=lists or [],
        fields=json.dumps(fields or {}),
        active=last_activity_at,
        score=score,
        now=now,
    )
    for name, value in (dates or {}).items():
        await h.sql(
            "INSERT INTO trigger.contact_dates (org_id, contact_id, field, value, month_day) "
            "VALUES (:org, :id, :field, :value, :md) RETURNING contact_id",
            org=org,
            id=contact_id,
            field=name,
            value=value,
            md=value.month * 100 + value.day,
        )


def time_workflow(
    type_: str, config: dict[str, Any], *, event: str = "", settings: dict[str, Any] | None = None
) -> Workflow:
    trigger: dict[str, Any] = {"type": type_, "config": config}
    if event:
        trigger["event"] = event
    return workflow(trigger, settings=settings)


async def fires(h: Harness, org: str | None = None) -> list[Any]:
    """The organization's pending fires, by due time."""
    return await h.sql(
        "SELECT id, kind, due_at, zones, contact_id FROM trigger.scheduled_fires WHERE org_id = :org "
        "ORDER BY due_at, id",
        org=org or h.org,
    )


async def settle(h: Harness, within: float = 10.0) -> None:
    """Waits until the scheduler has fired everything of this organization due by the clock."""
    deadline = time.monotonic() + within
    while True:
        due = await h.sql(
            "SELECT count(*) AS n FROM trigger.scheduled_fires WHERE org_id IN (:org, :other) "
            "AND due_at <= :now",
            org=h.org,
            other=h.other_org,
            now=h.clock.now(),
        )
        if due[0].n == 0:
            await asyncio.sleep(0.1)  # a claimed fire commits its starts with its deletion
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{due[0].n} due fires left after {within}s")
        await asyncio.sleep(0.05)


async def advance(h: Harness, delta: timedelta) -> None:
    """Moves the service clock and waits for the fires that fell due."""
    h.clock.advance(delta)
    await settle(h)


async def started(h: Harness, org: str | None = None) -> list[Job]:
    """START jobs the trigger committed for the organization, in order; the start sweeper's
    re-dispatches (the clock jumps past their deadline, and no executor answers) left out."""
    return [
        sent.job
        for sent in await h.outbox_jobs(org)
        if sent.job.HasField("start") and ":again:" not in sent.msg_id
    ]


def contacts_of(jobs: list[Job]) -> list[str]:
    return sorted(job.start.contact_id for job in jobs)
