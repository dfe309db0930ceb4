"""Registered waits turned into signal jobs: wait_for_event, wait_until and goals."""

from __future__ import annotations

from datetime import timedelta

from beez.api.messages.v1.jobs_pb2 import JobReason, JobSignal
from beez.api.messages.v1.lifecycle_pb2 import WaitKind
from tests.trigger.support import Harness, event, workflow

EVENT = WaitKind.WAIT_KIND_EVENT
UNTIL = WaitKind.WAIT_KIND_UNTIL
GOAL = WaitKind.WAIT_KIND_GOAL


async def test_an_event_matching_a_wait_for_event_signals_the_execution_and_closes_the_wait(
    trigger: Harness,
) -> None:
    await trigger.register_wait(
        "w-1", EVENT, execution_id="exec-1", event_type="link.clicked", filters={"link": "onboarding"}
    )
    assert await trigger.open_wait_ids() == {trigger.id("w-1")}

    await trigger.publish(event("link.clicked", id="click-1", data={"link": "onboarding", "extra": 1}))
    [sent] = await trigger.stream_jobs(1)
    job = sent.job
    assert sent.subject == trigger.topology.jobs("normal", trigger.org)
    assert sent.msg_id == f"signal:{trigger.id('w-1')}"
    assert job.reason == JobReason.JOB_REASON_SIGNAL
    assert (job.execution_id, job.signal_kind, job.token) == (
        "exec-1",
        JobSignal.JOB_SIGNAL_EVENT,
        trigger.id("w-1"),
    )
    assert job.organization_id == trigger.org
    assert job.event.id == "click-1"
    assert job.event.data["link"] == "onboarding"
    assert await trigger.open_wait_ids() == set()

    await trigger.publish(event("link.clicked", id="click-2", data={"link": "onboarding"}))
    assert len(await trigger.signals()) == 1  # a wait fires once


async def test_a_wait_ignores_events_whose_filters_type_or_contact_differ(trigger: Harness) -> None:
    await trigger.register_wait("w-1", EVENT, event_type="link.clicked", filters={"link": "onboarding"})
    await trigger.publish(event("link.clicked", data={"link": "pricing"}))
    await trigger.publish(event("link.clicked", data={}))
    await trigger.publish(event("email.opened", data={"link": "onboarding"}))
    await trigger.publish(event("link.clicked", contact="c_2", data={"link": "onboarding"}))
    await trigger.publish(event("link.clicked", data={"link": "onboarding"}), org=trigger.other_org)
    assert await trigger.signals() == []
    assert await trigger.signals(trigger.other_org) == []
    assert await trigger.open_wait_ids() == {trigger.id("w-1")}


async def test_a_wait_until_is_met_by_a_later_events_contact_snapshot(trigger: Harness) -> None:
    conditions = [{"field": "contact.score", "operator": "greater_than", "value": 50}]
    await trigger.register_wait("w-1", UNTIL, execution_id="exec-7", conditions=conditions)
    await trigger.publish(event("contact.updated", snapshot={"score": 10}))
    await trigger.publish(event("contact.updated"))  # no snapshot
    assert await trigger.signals() == []

    await trigger.publish(event("score.changed", id="s-2", snapshot={"score": 64}))
    [job] = await trigger.signals()
    assert (job.execution_id, job.signal_kind, job.token) == (
        "exec-7",
        JobSignal.JOB_SIGNAL_MET,
        trigger.id("w-1"),
    )
    assert await trigger.open_wait_ids() == set()


async def test_a_goal_with_an_event_fires_once(trigger: Harness) -> None:
    await trigger.register_wait("goal-1", GOAL, execution_id="exec-2", event_type="purchase.made")
    await trigger.publish(event("cart.abandoned"))
    await trigger.publish(event("purchase.made", id="p-1", data={"total": 30}))
    await trigger.publish(event("purchase.made", id="p-2"))
    [job] = await trigger.signals()
    assert (job.execution_id, job.signal_kind, job.token, job.event.id) == (
        "exec-2",
        JobSignal.JOB_SIGNAL_GOAL,
        trigger.id("goal-1"),
        "p-1",
    )


async def test_a_goal_with_conditions_fires_on_any_event_that_meets_them(trigger: Harness) -> None:
    await trigger.register_wait(
        "goal-1", GOAL, conditions=[{"field": "contact.tags", "operator": "has_tag", "value": "customer"}]
    )
    await trigger.publish(event("tag.added", snapshot={"tags": ["lead"]}))
    await trigger.publish(event("tag.added", snapshot={"tags": ["lead", "customer"]}))
    [job] = await trigger.signals()
    assert job.signal_kind == JobSignal.JOB_SIGNAL_GOAL


async def test_one_event_can_start_an_automation_and_signal_waits_of_its_contact(trigger: Harness) -> None:
    await trigger.automation("auto-1", workflow({"type": "purchase_made"}))
    await trigger.register_wait("goal-1", GOAL, execution_id="exec-a", event_type="purchase.made")
    await trigger.register_wait("w-2", EVENT, execution_id="exec-b", event_type="purchase.made")
    await trigger.publish(event("purchase.made"))
    assert len(await trigger.starts()) == 1
    assert sorted((j.token, j.signal_kind) for j in await trigger.signals()) == [
        (trigger.id("goal-1"), JobSignal.JOB_SIGNAL_GOAL),
        (trigger.id("w-2"), JobSignal.JOB_SIGNAL_EVENT),
    ]


async def test_a_signal_goes_to_the_priority_of_the_execution_the_trigger_started(trigger: Harness) -> None:
    await trigger.automation("auto-1", workflow(settings={"priority": "critical"}))
    await trigger.publish(event())
    [start] = await trigger.starts()
    await trigger.register_wait("w-1", EVENT, execution_id=start.execution_id, event_type="link.clicked")
    await trigger.publish(event("link.clicked"))
    subjects = [sent.subject for sent in await trigger.outbox_jobs() if sent.job.signal_kind]
    assert subjects == [trigger.topology.jobs("critical", trigger.org)]


async def test_a_cancelled_registration_is_removed(trigger: Harness) -> None:
    await trigger.register_wait("w-1", EVENT, event_type="link.clicked")
    await trigger.register_wait("w-1", EVENT, cancel=True)
    assert await trigger.open_wait_ids() == set()
    await trigger.publish(event("link.clicked"))
    assert await trigger.signals() == []


async def test_a_registration_arriving_after_its_cancellation_stays_cancelled(trigger: Harness) -> None:
    await trigger.register_wait("w-1", EVENT, cancel=True)
    await trigger.register_wait("w-1", EVENT, event_type="link.clicked")
    await trigger.publish(event("link.clicked"))
    assert await trigger.signals() == []
    assert await trigger.open_wait_ids() == set()


async def test_an_expired_wait_is_ignored(trigger: Harness) -> None:
    now = trigger.clock.now()
    await trigger.register_wait("w-1", EVENT, event_type="link.clicked", expires_at=now + timedelta(hours=1))
    await trigger.register_wait(
        "w-2", EVENT, event_type="link.clicked", expires_at=now - timedelta(minutes=1)
    )
    assert await trigger.open_wait_ids() == {trigger.id("w-1")}  # already expired: never stored
    trigger.clock.advance(timedelta(hours=2))
    await trigger.publish(event("link.clicked"))
    assert await trigger.signals() == []


async def test_an_ended_execution_drops_its_waits(trigger: Harness) -> None:
    await trigger.automation("auto-1", workflow())
    await trigger.publish(event())
    [start] = await trigger.starts()
    await trigger.register_wait("w-1", EVENT, execution_id=start.execution_id, event_type="link.clicked")
    await trigger.execution_event(start.execution_id)
    assert await trigger.open_wait_ids() == set()
    # a registration delivered late, after the end, is stored closed
    await trigger.register_wait("w-2", GOAL, execution_id=start.execution_id, event_type="purchase.made")
    assert await trigger.open_wait_ids() == set()
    await trigger.publish(event("link.clicked"))
    assert await trigger.signals() == []


async def test_a_contactless_event_signals_no_wait(trigger: Harness) -> None:
    await trigger.register_wait("w-1", EVENT, contact="", event_type="link.clicked")
    await trigger.publish(event("link.clicked", contact=""))
    assert await trigger.signals() == []
