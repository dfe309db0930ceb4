"""Which fire rows a time-based trigger needs, and what a fire's execution starts with.

Pure logic on top of :mod:`beez.workflow.schedules` (decision 0038):

* :func:`plan_of` reads an automation's trigger into a plan (None for other trigger types, or a
  config the scheduler cannot run, which is logged);
* :func:`next_fires` gives the rows of its next occurrence after a moment: one row, or, in each
  contact's time zone, one row per instant covering the zones whose wall clock shows the time
  then;
* :func:`fire_event_id` names the event of one fire for one contact, so the enrollment key
  ``(automation, event id)`` makes a fire start each contact at most once, however often it is
  claimed;
* :func:`deferral` turns an event of a ``delay``/``time_window``/``business_hours`` trigger into a
  deferred fire, or None when it may start at once.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from google.protobuf.struct_pb2 import Struct

from beez.api.messages.v1.events_pb2 import Contact, Event
from beez.api.workflow.v1.workflow_pb2 import Workflow
from beez.kit.cache import BoundedCache
from beez.kit.logging import get_logger
from beez.trigger.repository.schedules import DEFERRED, RECURRENCE, AudienceQuery, ContactRow, FireRow
from beez.workflow.model import struct_to_dict
from beez.workflow.schedules import (
    CLOCK_DRIVEN,
    EVENT_DEFERRED,
    Plan,
    ScheduleError,
    anniversary_days,
    known_zones,
    plan,
    zone_groups,
)

log = get_logger(__name__)

FIRED_EVENT = "schedule.fired"
"""The type of the event a clock-driven fire starts its executions with."""


def plan_of(workflow: Workflow, *, min_interval_s: float, automation_id: str = "") -> Plan | None:
    """The plan of a time-based trigger; None for event and condition types, or a bad config."""
    type_ = workflow.trigger.type
    if type_ not in CLOCK_DRIVEN and type_ not in EVENT_DEFERRED:
        return None
    try:
        return plan(
            type_,
            struct_to_dict(workflow.trigger.config),
            default_timezone=workflow.settings.timezone,
            min_interval_s=min_interval_s,
        )
    except ScheduleError as exc:
        log.error("time trigger not scheduled: invalid config", automation_id=automation_id, error=str(exc))
        return None


def next_fires(
    plan_: Plan, org_id: str, automation_id: str, after: datetime, zones: list[str] | None = None
) -> list[FireRow]:
    """The rows of the next occurrence after ``after``; ``zones``: only those (after a zone
    group fired), else all. Empty when the trigger never fires again (a past specific date)."""
    if plan_.type not in CLOCK_DRIVEN:
        return []
    if not plan_.contact_timezone:
        due = plan_.next_fire(after)
        if due is None:
            return []
        return [FireRow(_fire_id(automation_id, due), org_id, automation_id, RECURRENCE, due)]
    groups = zone_groups(plan_, after, zones if zones is not None else known_zones())
    return [
        FireRow(
            _fire_id(automation_id, due),
            org_id,
            automation_id,
            RECURRENCE,
            due,
            zones=sorted(group),
            default_zone=plan_.timezone in group,
        )
        for due, group in sorted(groups.items())
    ]


def _fire_id(automation_id: str, due: datetime) -> str:
    return f"{automation_id}:{int(due.timestamp())}"


def deferred_id(automation_id: str, event_id: str) -> str:
    return f"{automation_id}:event:{event_id}"


def fire_event_id(automation_id: str, contact_id: str | None, due: datetime) -> str:
    """The id of the event one fire starts one contact (or the organization) with."""
    return f"sched:{automation_id}:{contact_id or '-'}:{int(due.timestamp())}"


def audience_query(
    plan_: Plan, org_id: str, due: datetime, zones: list[str] | None, default_zone: bool
) -> AudienceQuery:
    """The contacts a fire at ``due`` starts: its audience, in its zones, and for a sweep the
    ones whose date (or last activity) falls on the fire's local day."""
    day = plan_.sweep_day(due, zones[0] if zones else None)
    query = AudienceQuery(
        org_id,
        list=plan_.audience.list if plan_.audience.type == "list" else "",
        tag=plan_.audience.tag if plan_.audience.type == "tag" else "",
        zones=zones,
        default_zone=default_zone,
        known_zones=known_zones() if default_zone else (),
    )
    if plan_.type == "anniversary":
        return _replace(query, date_field=plan_.field, month_days=anniversary_days(day))
    if plan_.type in ("relative_date", "countdown"):
        return _replace(query, date_field=plan_.field, date_value=day + timedelta(days=plan_.days_offset))
    if plan_.type == "inactivity":
        crossing = due - timedelta(days=plan_.days_offset)
        return _replace(query, active_from=crossing - timedelta(days=1), active_before=crossing)
    return query


def _replace(query: AudienceQuery, **changes: object) -> AudienceQuery:
    from dataclasses import replace

    return replace(query, **changes)  # type: ignore[arg-type]


def fired_event(
    plan_: Plan, org_id: str, automation_id: str, due: datetime, contact: ContactRow | None
) -> Event:
    """The event a clock-driven fire starts one execution with, the contact's snapshot inside."""
    event = Event(
        id=fire_event_id(automation_id, contact.contact_id if contact else None, due),
        type=FIRED_EVENT,
        contact_id=contact.contact_id if contact else "",
        organization_id=org_id,
    )
    event.occurred_at.FromDatetime(due)
    event.data.update({"trigger": plan_.type, "due_at": due.isoformat(), "automation_id": automation_id})
    if contact is not None:
        snapshot = Contact(
            id=contact.contact_id,
            email=contact.email or "",
            phone=contact.phone or "",
            tags=contact.tags or [],
            lists=contact.lists or [],
            score=int(contact.score or 0),
            timezone=contact.timezone or "",
        )
        if contact.fields:
            fields = Struct()
            fields.update(contact.fields)
            snapshot.fields.CopyFrom(fields)
        event.contact.CopyFrom(snapshot)
    return event


def deferral(plan_: Plan, org_id: str, automation_id: str, event: Event, now: datetime) -> FireRow | None:
    """A deferred fire for ``event``, or None when it may start now (inside the window)."""
    if plan_.type == "delay":
        due = now + plan_.delay
    else:
        zone = plan_.zone
        if plan_.contact_timezone and event.contact.timezone:
            try:
                zone = ZoneInfo(event.contact.timezone)
            except (ValueError, KeyError):
                zone = plan_.zone
        assert plan_.window is not None
        due = plan_.window.defer(now, zone)
        if due <= now:
            return None
    return FireRow(
        deferred_id(automation_id, event.id),
        org_id,
        automation_id,
        DEFERRED,
        due,
        contact_id=event.contact_id or None,
        event=event.SerializeToString(),
    )


class Plans:
    """Plans by immutable ``(automation_id, version)``, so a fire or an event reads its trigger's
    config once per version; LRU-bounded."""

    def __init__(self, min_interval_s: float, size: int = 2048) -> None:
        self._min_interval_s = min_interval_s
        self._entries: BoundedCache[tuple[str, int], tuple[Plan | None]] = BoundedCache(
            max_entries=size, max_bytes=size, sizeof=lambda _: 1
        )

    def get(self, automation_id: str, version: int, workflow: Workflow) -> Plan | None:
        key = (automation_id, version)
        found = self._entries.get(key)
        if found is None:
            found = (plan_of(workflow, min_interval_s=self._min_interval_s, automation_id=automation_id),)
            self._entries.put(key, found)
        return found[0]
