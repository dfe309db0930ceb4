"""runOnce, maxExecutions, reentry and maxConcurrentPerContact, enforced with unique keys."""

from __future__ import annotations

import asyncio
from typing import Any

from beez.api.messages.v1.lifecycle_pb2 import ExecutionEventKind
from tests.trigger.support import Harness, event, workflow


async def started(trigger: Harness, **kwargs: Any) -> str | None:
    """Publishes one event; the id of the execution it started, or None."""
    before = len(await trigger.starts())
    await trigger.publish(event(**kwargs))
    starts = await trigger.starts()
    assert len(starts) - before in (0, 1)
    return starts[-1].execution_id if len(starts) > before else None


async def test_run_once_starts_once_per_contact_ever(trigger: Harness) -> None:
    await trigger.automation("auto-1", workflow(settings={"runOnce": True}))
    first = await started(trigger, contact="c_1")
    assert first is not None
    await trigger.execution_event(first)
    assert await started(trigger, contact="c_1") is None
    assert await started(trigger, contact="c_2") is not None


async def test_reentry_never_is_run_once(trigger: Harness) -> None:
    await trigger.automation("auto-1", workflow(settings={"reentry": "never", "maxConcurrentPerContact": 5}))
    first = await started(trigger)
    assert first is not None
    assert await started(trigger) is None
    await trigger.execution_event(first)
    assert await started(trigger) is None


async def test_max_executions_caps_the_total(trigger: Harness) -> None:
    await trigger.automation("auto-1", workflow(settings={"maxExecutions": 2}))
    outcomes = [await started(trigger, contact=f"c_{i}") for i in range(4)]
    assert [o is not None for o in outcomes] == [True, True, False, False]
    await trigger.execution_event(outcomes[0] or "")
    assert await started(trigger, contact="c_9") is None  # executions that ended still count


async def test_by_default_a_contact_runs_one_execution_at_a_time(trigger: Harness) -> None:
    await trigger.automation("auto-1", workflow())
    first = await started(trigger)
    assert first is not None
    assert await started(trigger) is None
    assert await started(trigger, contact="c_2") is not None


async def test_reentry_after_exit_waits_for_the_running_execution_to_end(trigger: Harness) -> None:
    await trigger.automation(
        "auto-1", workflow(settings={"reentry": "after_exit", "maxConcurrentPerContact": 3})
    )
    first = await started(trigger)
    assert first is not None
    assert await started(trigger) is None
    await trigger.execution_event(first, ExecutionEventKind.EXECUTION_EVENT_KIND_STEP_COMPLETED)
    assert await started(trigger) is None  # only an end frees the slot
    await trigger.execution_event(first, ExecutionEventKind.EXECUTION_EVENT_KIND_COMPLETED)
    assert await started(trigger) is not None


async def test_max_concurrent_per_contact_limits_running_executions_and_frees_slots_at_the_end(
    trigger: Harness,
) -> None:
    await trigger.automation("auto-1", workflow(settings={"reentry": "always", "maxConcurrentPerContact": 2}))
    first, second = await started(trigger), await started(trigger)
    assert first is not None and second is not None
    assert await started(trigger) is None
    await trigger.execution_event(second, ExecutionEventKind.EXECUTION_EVENT_KIND_FAILED)
    third = await started(trigger)
    assert third is not None
    assert await started(trigger) is None
    await trigger.execution_event(first, ExecutionEventKind.EXECUTION_EVENT_KIND_CANCELLED)
    await trigger.execution_event(first, ExecutionEventKind.EXECUTION_EVENT_KIND_CANCELLED)  # redelivered
    assert await started(trigger) is not None
    assert await started(trigger) is None
    [ended] = await trigger.sql(
        "SELECT outcome, ended_at IS NOT NULL AS ended, start IS NULL AS dropped "
        "FROM trigger.enrollments WHERE execution_id = :id",
        id=first,
    )
    assert (ended.outcome, ended.ended, ended.dropped) == ("cancelled", True, True)


async def test_a_freed_slot_is_taken_again_lowest_first_even_with_a_huge_limit(trigger: Harness) -> None:
    await trigger.automation(
        "auto-1", workflow(settings={"reentry": "always", "maxConcurrentPerContact": 100_000})
    )
    runs = [str(await started(trigger)) for _ in range(4)]

    async def slots(ids: list[str]) -> list[int]:
        rows = await trigger.sql(
            "SELECT execution_id, slot FROM trigger.concurrency_slots WHERE execution_id = ANY(:ids)", ids=ids
        )
        held = {row.execution_id: row.slot for row in rows}
        return [held[i] for i in ids]

    assert await slots(runs) == [0, 1, 2, 3]
    await trigger.execution_event(runs[1], ExecutionEventKind.EXECUTION_EVENT_KIND_COMPLETED)
    await trigger.execution_event(runs[0], ExecutionEventKind.EXECUTION_EVENT_KIND_COMPLETED)
    more = [str(await started(trigger)) for _ in range(3)]
    assert await slots(more) == [0, 1, 4]


async def test_the_enrollment_keeps_the_start_until_the_executor_reports_it_started(trigger: Harness) -> None:
    await trigger.automation("auto-1", workflow())
    execution = await started(trigger)
    assert execution is not None
    query = "SELECT start IS NOT NULL AS kept FROM trigger.enrollments WHERE execution_id = :id"
    assert (await trigger.sql(query, id=execution))[0].kept
    await trigger.execution_event(execution, ExecutionEventKind.EXECUTION_EVENT_KIND_STARTED)
    assert not (await trigger.sql(query, id=execution))[0].kept


async def burst(trigger: Harness, contacts: list[str]) -> None:
    """Publishes one event per entry of ``contacts``, all at once, half over gRPC, half over NATS."""
    rpc = [trigger.publish(event(contact=c)) for c in contacts[::2]]
    nats = [
        trigger.publish_nats(event(contact=c, id=f"burst-{i}"), msg_id=f"burst-{i}", wait=False)
        for i, c in enumerate(contacts[1::2])
    ]
    results = await asyncio.gather(*rpc, *nats)
    await trigger.consumed("EVENTS", "trigger-events", max(r for r in results if isinstance(r, int)))


async def test_a_burst_for_one_contact_cannot_exceed_max_concurrent_per_contact(trigger: Harness) -> None:
    await trigger.automation("auto-1", workflow(settings={"reentry": "always", "maxConcurrentPerContact": 3}))
    await burst(trigger, ["c_1"] * 30)
    assert len(await trigger.starts()) == 3
    slots = await trigger.sql(
        "SELECT slot FROM trigger.concurrency_slots WHERE automation_id = :id ORDER BY slot",
        id=trigger.id("auto-1"),
    )
    assert [row.slot for row in slots] == [0, 1, 2]


async def test_a_burst_for_one_contact_cannot_run_a_run_once_automation_twice(trigger: Harness) -> None:
    await trigger.automation("auto-1", workflow(settings={"runOnce": True}))
    await burst(trigger, ["c_1"] * 20)
    assert len(await trigger.starts()) == 1


async def test_a_burst_across_contacts_cannot_exceed_max_executions(trigger: Harness) -> None:
    await trigger.automation("auto-1", workflow(settings={"maxExecutions": 5}))
    await burst(trigger, [f"c_{i}" for i in range(24)])
    assert len(await trigger.starts()) == 5
    [counter] = await trigger.sql(
        "SELECT started FROM trigger.automation_counters WHERE automation_id = :id", id=trigger.id("auto-1")
    )
    assert counter.started == 5


async def started_by_event(trigger: Harness) -> dict[str, list[str]]:
    """Execution ids per event id, from the START jobs sent."""
    out: dict[str, list[str]] = {}
    for job in await trigger.starts():
        out.setdefault(job.start.event.id, []).append(job.execution_id)
    return out


async def test_one_batch_for_one_contact_fills_its_free_slots_in_event_order(trigger: Harness) -> None:
    """The set-based enrolment gives every request of a contact the same free slot; the ones it
    refuses are retried one by one, so a batch ends as the same events one at a time would."""
    await trigger.automation("auto-1", workflow(settings={"reentry": "always", "maxConcurrentPerContact": 2}))
    await trigger.publish_many([event(id=f"e{i}") for i in range(4)] + [event(id="x", contact="c_2")])
    started_by = await started_by_event(trigger)
    assert sorted(started_by) == ["e0", "e1", "x"]
    rows = await trigger.sql(
        "SELECT execution_id, contact_id, slot FROM trigger.concurrency_slots WHERE automation_id = :id",
        id=trigger.id("auto-1"),
    )
    held = {row.execution_id: (row.contact_id, row.slot) for row in rows}
    assert held == {
        started_by["e0"][0]: ("c_1", 0),
        started_by["e1"][0]: ("c_1", 1),
        started_by["x"][0]: ("c_2", 0),
    }


async def test_a_batch_mixing_policies_enrolls_each_by_its_own(trigger: Harness) -> None:
    await trigger.automation("once", workflow(settings={"runOnce": True}))
    await trigger.automation("capped", workflow(settings={"reentry": "always", "maxExecutions": 1}))
    await trigger.automation("open", workflow(settings={"reentry": "always", "maxConcurrentPerContact": 5}))
    await trigger.publish_many([event(id="a"), event(id="b"), event(id="c", contact="c_2")])
    started: dict[str, list[str]] = {}
    for job in await trigger.starts():
        started.setdefault(job.start.event.id, []).append(job.start.automation_id)
    # a: all three; b: "once" refused (c_1 ran it), "capped" refused (its one run); c: "once" for c_2
    assert {k: sorted(v) for k, v in started.items()} == {
        "a": sorted(trigger.id(n) for n in ("once", "capped", "open")),
        "b": [trigger.id("open")],
        "c": sorted(trigger.id(n) for n in ("once", "open")),
    }


async def test_a_slot_taken_for_an_enrollment_that_exists_already_is_given_back(trigger: Harness) -> None:
    """An event ingested again after its history was purged finds its enrollment in place: the
    set-based statement took a slot for it, then gives that slot back."""
    await trigger.automation("auto-1", workflow(settings={"reentry": "always", "maxConcurrentPerContact": 3}))
    [first] = await trigger.publish_many([event(id="e1")])
    await trigger.sql("DELETE FROM trigger.events WHERE event_id = 'e1' RETURNING event_id")
    [again] = await trigger.publish_many([event(id="e1")])
    assert (first.accepted, again.accepted) == (True, True)
    [execution] = (await started_by_event(trigger))["e1"]
    rows = await trigger.sql(
        "SELECT execution_id FROM trigger.concurrency_slots WHERE automation_id = :id",
        id=trigger.id("auto-1"),
    )
    assert [row.execution_id for row in rows] == [execution]
