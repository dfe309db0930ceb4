"""Which events start which automations, and what the start job carries."""

from __future__ import annotations

from typing import Any

from beez.api.messages.v1.jobs_pb2 import JobPriority, JobReason
from tests.trigger.support import Harness, event, workflow


async def test_an_event_matching_an_active_automation_produces_one_start_job(trigger: Harness) -> None:
    wf = workflow({"type": "list_joined", "filters": {"list": "New Customers"}})
    await trigger.automation("auto-1", wf, version=3)

    evt = event(id="evt-1", data={"list": "New Customers"}, snapshot={"email": "ada@example.com"})
    result = await trigger.publish(evt)
    assert result.event_id == "evt-1"
    assert result.accepted

    [sent] = await trigger.stream_jobs(1)
    job = sent.job
    assert sent.subject == trigger.topology.jobs("normal", trigger.org)
    assert sent.msg_id == f"start:{job.execution_id}"
    assert job.reason == JobReason.JOB_REASON_START
    assert job.organization_id == trigger.org
    assert job.HasField("enqueued_at")
    start = job.start
    assert (start.automation_id, start.automation_version) == (trigger.id("auto-1"), 3)
    assert start.workflow == wf
    assert start.event.id == "evt-1"
    assert start.event.type == "list.joined"
    assert start.event.organization_id == trigger.org
    assert start.event.contact.email == "ada@example.com"
    assert start.contact_id == "c_1"
    assert start.priority_level == JobPriority.JOB_PRIORITY_NORMAL
    assert start.HasField("created_at")
    assert await trigger.stream_jobs(1, within=0.3) == []
    assert len(await trigger.outbox_jobs()) == 1


async def test_the_start_job_goes_to_the_automations_priority(trigger: Harness) -> None:
    await trigger.automation("auto-1", workflow(settings={"priority": "high"}))
    await trigger.publish(event())
    [sent] = await trigger.stream_jobs(1)
    assert sent.subject == trigger.topology.jobs("high", trigger.org)
    assert sent.job.start.priority_level == JobPriority.JOB_PRIORITY_HIGH


async def test_trigger_filters_gate_the_start(trigger: Harness) -> None:
    await trigger.automation("auto-1", workflow({"type": "list_joined", "filters": {"list": "VIP"}}))
    await trigger.publish(event(data={"list": "Newsletter"}))
    await trigger.publish(event(data={}))
    assert await trigger.starts() == []
    await trigger.publish(event(data={"list": "VIP"}))
    assert len(await trigger.starts()) == 1


async def test_entry_conditions_gate_the_start(trigger: Harness) -> None:
    conditions: list[dict[str, Any]] = [
        {"field": "contact.consent.email", "operator": "equals", "value": True},
        {"expression": "contact.score > 40 && 'lead' in contact.tags"},
    ]
    await trigger.automation("auto-1", workflow(conditions=conditions))

    await trigger.publish(event(snapshot={"consent": {"email": True}, "score": 10, "tags": ["lead"]}))
    await trigger.publish(event(snapshot={"consent": {"email": False}, "score": 90, "tags": ["lead"]}))
    await trigger.publish(event(contact="c_2"))  # no snapshot: conditions on contact fail
    assert await trigger.starts() == []

    await trigger.publish(event(snapshot={"consent": {"email": True}, "score": 42, "tags": ["lead"]}))
    [job] = await trigger.starts()
    assert job.start.event.contact.score == 42


async def test_an_event_of_another_type_starts_nothing(trigger: Harness) -> None:
    await trigger.automation("auto-1", workflow())
    await trigger.publish(event("tag.added"))
    assert await trigger.starts() == []


async def test_a_custom_event_trigger_listens_to_its_own_event_type(trigger: Harness) -> None:
    await trigger.automation("auto-1", workflow({"type": "custom_event", "event": "order.shipped"}))
    await trigger.publish(event("order.shipped"))
    [job] = await trigger.starts()
    assert job.start.automation_id == trigger.id("auto-1")


async def test_every_matching_automation_starts_once_for_one_event(trigger: Harness) -> None:
    await trigger.automation("auto-1", workflow())
    await trigger.automation("auto-2", workflow())
    await trigger.publish(event())
    starts = await trigger.starts()
    assert sorted(job.start.automation_id for job in starts) == [trigger.id("auto-1"), trigger.id("auto-2")]
    assert len({job.execution_id for job in starts}) == 2


async def test_an_inactive_automation_starts_nothing(trigger: Harness) -> None:
    await trigger.automation("auto-1", workflow(), active=False)
    await trigger.publish(event())
    assert await trigger.starts() == []


async def test_a_deleted_automation_starts_nothing(trigger: Harness) -> None:
    await trigger.automation("auto-1", workflow())
    await trigger.automation("auto-1", workflow(), deleted=True)
    await trigger.publish(event())
    assert await trigger.starts() == []


async def test_a_stale_revision_changes_nothing(trigger: Harness) -> None:
    await trigger.automation("auto-1", workflow(), revision=5, active=False)
    await trigger.automation("auto-1", workflow(), revision=4, active=True)  # late, older
    await trigger.automation("auto-1", workflow(), revision=5, active=True)  # same revision again
    await trigger.publish(event())
    assert await trigger.starts() == []
    [row] = await trigger.sql(
        "SELECT revision, active FROM trigger.automation_index WHERE automation_id = :id",
        id=trigger.id("auto-1"),
    )
    assert (row.revision, row.active) == (5, False)


async def test_a_new_version_is_what_later_events_start(trigger: Harness) -> None:
    await trigger.automation("auto-1", workflow(name="v1"), version=1)
    await trigger.publish(event(id="e1"))
    await trigger.automation("auto-1", workflow(name="v2"), version=2)
    await trigger.publish(event(id="e2", contact="c_2"))
    starts = await trigger.starts()
    assert [(j.start.automation_version, j.start.workflow.name) for j in starts] == [(1, "v1"), (2, "v2")]


async def test_automation_triggered_starts_the_named_automation_whatever_its_trigger(
    trigger: Harness,
) -> None:
    await trigger.automation("auto-1", workflow({"type": "tag_added", "filters": {"tag": "VIP"}}))
    await trigger.automation("auto-2", workflow(), active=False)
    await trigger.publish(event("automation.triggered", data={"automation_id": trigger.id("auto-1")}))
    await trigger.publish(event("automation.triggered", data={"automation_id": trigger.id("auto-2")}))
    await trigger.publish(event("automation.triggered", data={"automation_id": "missing"}))
    [job] = await trigger.starts()
    assert job.start.automation_id == trigger.id("auto-1")
    assert job.start.event.type == "automation.triggered"


async def test_a_contactless_event_starts_automations_without_per_contact_limits(trigger: Harness) -> None:
    await trigger.automation("auto-1", workflow(settings={"runOnce": True, "maxExecutions": 2}))
    for _ in range(3):
        await trigger.publish(event(contact=""))
    starts = await trigger.starts()
    assert len(starts) == 2  # runOnce needs a contact; maxExecutions still holds
    assert all(job.start.contact_id == "" for job in starts)
