"""Every event trigger type fires through the running trigger service, and does not when its
filters or config exclude the event.

Each case publishes the excluded event first (nothing may start), then the matching one
(exactly one START). ``automation_completed`` is fed by the trigger's own lifecycle consumer
and has tests of its own below.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from beez.api.messages.v1.lifecycle_pb2 import ExecutionEvent, ExecutionEventKind
from beez.workflow import catalog
from tests.trigger.support import Harness, event, workflow

CASES: list[tuple[str, dict[str, Any], dict[str, Any], dict[str, Any]]] = [
    # type, trigger (without type), data that fires, data that does not
    ("contact_created", {"filters": {"source": "form"}}, {"source": "form"}, {"source": "import"}),
    ("contact_updated", {"config": {"field": "plan"}}, {"changed": ["plan"]}, {"changed": ["email"]}),
    ("tag_added", {"filters": {"tag": "vip"}}, {"tag": "vip"}, {"tag": "lead"}),
    ("tag_removed", {"filters": {"tag": "vip"}}, {"tag": "vip"}, {"tag": "lead"}),
    ("list_joined", {"filters": {"list": "News"}}, {"list": "News"}, {"list": "Other"}),
    ("list_left", {"filters": {"list": "News"}}, {"list": "News"}, {"list": "Other"}),
    ("email_sent", {"filters": {"campaign": "spring"}}, {"campaign": "spring"}, {"campaign": "fall"}),
    (
        "email_opened",
        {"filters": {"campaign": "spring", "template": "promo"}},
        {"campaign": "spring", "template": "promo"},
        {"campaign": "spring", "template": "welcome"},
    ),
    (
        "email_clicked",
        {"filters": {"url": "https://x.test/a"}},
        {"url": "https://x.test/a"},
        {"url": "https://x.test/b"},
    ),
    ("whatsapp_received", {"config": {"contains": "stop"}}, {"text": "STOP please"}, {"text": "hello"}),
    ("sms_received", {"config": {"contains": "yes"}}, {"text": "Yes"}, {"text": "no"}),
    ("form_submitted", {"filters": {"form": "demo"}}, {"form": "demo"}, {"form": "newsletter"}),
    ("purchase_made", {"config": {"min_amount": 50}}, {"amount": 75, "currency": "EUR"}, {"amount": 20}),
    (
        "cart_abandoned",
        {"filters": {"cart_id": "c-1"}, "config": {"within": {"value": 1, "unit": "hours"}}},
        {"cart_id": "c-1"},
        {"cart_id": "c-2"},
    ),
    ("conversation_assigned", {"filters": {"team": "support"}}, {"team": "support"}, {"team": "sales"}),
    (
        "conversation_closed",
        {"filters": {"channel": "whatsapp"}},
        {"channel": "whatsapp"},
        {"channel": "email"},
    ),
    (
        "score_changed",
        {"config": {"threshold": 80}},
        {"old_score": 70, "new_score": 85},
        {"old_score": 85, "new_score": 90},
    ),
    (
        "lifecycle_stage_changed",
        {"config": {"from": "lead", "to": "customer"}},
        {"old_stage": "lead", "new_stage": "customer"},
        {"old_stage": "customer", "new_stage": "lead"},
    ),
    (
        "subscription_status_changed",
        {"config": {"status": "unsubscribed"}},
        {"status": "unsubscribed", "channel": "email"},
        {"status": "subscribed", "channel": "email"},
    ),
    ("api_webhook_received", {"filters": {"hook_id": "hk_1"}}, {"hook_id": "hk_1"}, {"hook_id": "hk_2"}),
    (
        "file_uploaded",
        {"filters": {"content_type": "application/pdf"}},
        {"content_type": "application/pdf"},
        {"content_type": "image/png"},
    ),
    ("task_created", {"filters": {"task_type": "call"}}, {"task_type": "call"}, {"task_type": "email"}),
    ("task_completed", {"filters": {"task_type": "call"}}, {"task_type": "call"}, {"task_type": "email"}),
    (
        "meeting_scheduled",
        {"filters": {"meeting_type": "demo"}},
        {"meeting_type": "demo"},
        {"meeting_type": "sync"},
    ),
    (
        "payment_received",
        {"config": {"min_amount": 100}},
        {"amount": 100, "invoice_id": "inv-1"},
        {"amount": 99},
    ),
    ("campaign_sent", {"filters": {"channel": "sms"}}, {"channel": "sms"}, {"channel": "email"}),
    ("message_received", {"filters": {"channel": "sms"}}, {"channel": "sms"}, {"channel": "email"}),
    ("link_clicked", {"filters": {"link": "onboarding"}}, {"link": "onboarding"}, {"link": "pricing"}),
    ("custom_event", {"event": "invoice.overdue", "filters": {"days": 30}}, {"days": 30}, {"days": 10}),
]


def test_the_cases_cover_every_event_trigger_type() -> None:
    covered = {type_ for type_, *_ in CASES} | {"automation_completed"}
    assert covered == {entry.type for entry in catalog.trigger_types() if entry.category == "event"}


@pytest.mark.parametrize(("type_", "body", "fires", "excluded"), CASES, ids=[case[0] for case in CASES])
async def test_each_event_trigger_fires_on_its_event_and_not_when_excluded(
    trigger: Harness, type_: str, body: dict[str, Any], fires: dict[str, Any], excluded: dict[str, Any]
) -> None:
    await trigger.automation("auto-1", workflow({"type": type_, **body}))
    event_type = body.get("event") or catalog.trigger_type(type_).event  # type: ignore[union-attr]
    assert event_type

    await trigger.publish(event(event_type, id="no", data=excluded))
    await trigger.publish(event("some.other_event", id="other", data=fires))
    assert await trigger.starts() == []

    await trigger.publish(event(event_type, id="yes", data=fires))
    [job] = await trigger.starts()
    assert job.start.event.id == "yes"
    assert job.start.automation_id == trigger.id("auto-1")


# --- automation_completed: fed by the lifecycle consumer ---------------------------------------


async def _ended(
    trigger: Harness,
    execution_id: str,
    automation: str,
    kind: ExecutionEventKind = ExecutionEventKind.EXECUTION_EVENT_KIND_COMPLETED,
    org: str | None = None,
) -> None:
    org = org or trigger.org
    message = ExecutionEvent(
        id=f"{execution_id}:{kind}",
        kind=kind,
        organization_id=org,
        execution_id=execution_id,
        automation_id=trigger.id(automation),
        automation_version=1,
        contact_id="c_1",
    )
    name = ExecutionEventKind.Name(kind).removeprefix("EXECUTION_EVENT_KIND_").lower()
    ack = await trigger.publisher.publish(
        trigger.topology.executions(org, name), message, msg_id=message.id, org_id=org
    )
    await trigger.consumed("EXECUTIONS", "trigger-executions", ack.seq)


async def _events_of(trigger: Harness, org: str, count: int, within: float = 5.0) -> list[Any]:
    """The org's automation.completed events once there are ``count`` (or what there is at the deadline)."""
    deadline = time.monotonic() + within
    while True:
        rows = await trigger.sql(
            "SELECT event_id FROM trigger.events"
            " WHERE org_id = :org AND type = 'automation.completed' ORDER BY event_id",
            org=org,
        )
        if len(rows) >= count or time.monotonic() > deadline:
            return [row[0] for row in rows]
        await asyncio.sleep(0.05)


async def test_automation_completed_fires_on_the_named_automations_outcome(trigger: Harness) -> None:
    watched = trigger.id("watched")
    await trigger.automation(
        "follow-up",
        workflow({"type": "automation_completed", "config": {"automation_id": watched, "outcome": "failed"}}),
    )
    await _ended(trigger, "x-done", "watched")  # completed, not failed
    await _ended(trigger, "x-other", "another", ExecutionEventKind.EXECUTION_EVENT_KIND_FAILED)
    assert len(await _events_of(trigger, trigger.org, 2)) == 2
    assert await trigger.starts() == []

    await _ended(trigger, "x-failed", "watched", ExecutionEventKind.EXECUTION_EVENT_KIND_FAILED)
    await _events_of(trigger, trigger.org, 3)
    [job] = await trigger.starts()
    assert job.start.automation_id == trigger.id("follow-up")
    assert job.start.event.type == "automation.completed"
    assert job.start.event.contact_id == "c_1"
    data = dict(job.start.event.data)
    assert (data["automation_id"], data["execution_id"], data["outcome"]) == (watched, "x-failed", "failed")

    await _ended(trigger, "x-failed", "watched", ExecutionEventKind.EXECUTION_EVENT_KIND_FAILED)  # again
    await asyncio.sleep(0.3)
    assert len(await trigger.starts()) == 1  # one end, one event, one start


async def test_automation_completed_never_fires_on_its_own_automations_end(trigger: Harness) -> None:
    await trigger.automation("loop", workflow({"type": "automation_completed"}))
    await _ended(trigger, "x-own", "loop")
    await _events_of(trigger, trigger.org, 1)
    await asyncio.sleep(0.2)
    assert await trigger.starts() == []
    await _ended(trigger, "x-other", "other")
    await _events_of(trigger, trigger.org, 2)
    [job] = await trigger.starts()
    assert dict(job.start.event.data)["execution_id"] == "x-other"


async def test_no_completion_event_where_no_automation_listens_nor_across_organizations(
    trigger: Harness,
) -> None:
    await trigger.automation("theirs", workflow({"type": "automation_completed"}), org=trigger.other_org)
    await _ended(trigger, "x-mine", "mine")  # my org listens to nothing
    await _ended(trigger, "x-theirs", "theirs-runner", org=trigger.other_org)
    assert await _events_of(trigger, trigger.other_org, 1) == ["evt_completed_x-theirs"]
    assert await _events_of(trigger, trigger.org, 1, within=0.5) == []
    assert await trigger.starts() == []
    [job] = await trigger.starts(trigger.other_org)
    assert dict(job.start.event.data)["execution_id"] == "x-theirs"
