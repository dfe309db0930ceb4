"""Lifecycle and wait messages act only within the organization their subject names (decision 0018).

Execution and wait ids are unique across organizations, so the trigger's statements used to find
their rows by id alone: a message published under one organization naming another's execution or
wait acted on it. Each test here fails without the ``org_id`` predicate it names.
"""

from __future__ import annotations

from sqlalchemy import text

from beez.api.messages.v1.lifecycle_pb2 import ExecutionEvent, ExecutionEventKind, WaitKind
from beez.trigger.repository import Repository
from tests.trigger.support import Harness
from tests.trigger.test_trigger_lifecycle import enrollments, slots_held, start_executions

COMPLETED = ExecutionEventKind.EXECUTION_EVENT_KIND_COMPLETED
STARTED = ExecutionEventKind.EXECUTION_EVENT_KIND_STARTED
OTHER = "org_intruder"


async def event_under(trigger: Harness, org: str, execution_id: str, kind: ExecutionEventKind) -> None:
    """The lifecycle event published under ``org`` (its body naming it too), once consumed."""
    name = ExecutionEventKind.Name(kind).removeprefix("EXECUTION_EVENT_KIND_").lower()
    message = ExecutionEvent(
        id=f"{org}:{execution_id}:{name}", kind=kind, organization_id=org, execution_id=execution_id
    )
    ack = await trigger.publisher.publish(
        trigger.topology.executions(org, name), message, msg_id=message.id, org_id=org
    )
    await trigger.consumed("EXECUTIONS", "trigger-executions", ack.seq)


async def test_an_execution_event_under_another_organization_leaves_the_execution_as_it_was(
    trigger: Harness,
) -> None:
    """The enrollment lock and end, closing waits, giving back slots and dropping starts."""
    [execution_id] = await start_executions(trigger, 1)
    await trigger.register_wait("goal", WaitKind.WAIT_KIND_GOAL, execution_id=execution_id, contact="c_0")

    await event_under(trigger, OTHER, execution_id, STARTED)
    await event_under(trigger, OTHER, execution_id, COMPLETED)

    row = (await enrollments(trigger))[execution_id]
    assert (row.outcome, row.ended_at, row.has_start) == (None, None, True)
    assert await slots_held(trigger) == {execution_id}
    assert await trigger.open_wait_ids() == {trigger.id("goal")}

    await event_under(trigger, trigger.org, execution_id, COMPLETED)
    row = (await enrollments(trigger))[execution_id]
    assert (row.outcome, row.has_start) == ("completed", False)
    assert await slots_held(trigger) == set()
    assert await trigger.open_wait_ids() == set()


async def test_a_batch_under_another_organization_locks_none_of_this_ones_enrollments(
    trigger: Harness,
) -> None:
    """The enrollment lock: while another organization's batch naming this execution is still in
    its transaction, this organization's enrollment is free to lock (``NOWAIT`` fails otherwise)."""
    [execution_id] = await start_executions(trigger, 1)
    db = trigger.svc.runtime.db
    async with db.transaction() as session:
        repo = await Repository.of(session)
        await repo.apply_lifecycle(
            {(execution_id, OTHER): "completed"}, [(execution_id, OTHER)], trigger.clock.now()
        )
        async with db.transaction() as own:
            locked = await own.execute(
                text(
                    "SELECT execution_id FROM trigger.enrollments WHERE execution_id = :id FOR UPDATE NOWAIT"
                ),
                {"id": execution_id},
            )
            assert locked.scalars().all() == [execution_id]


async def test_a_lifecycle_message_whose_body_names_another_organization_is_dead_lettered(
    trigger: Harness,
) -> None:
    [execution_id] = await start_executions(trigger, 1)
    forged = ExecutionEvent(
        id="forged", kind=COMPLETED, organization_id=trigger.org, execution_id=execution_id
    )
    ack = await trigger.publisher.publish(
        trigger.topology.executions(OTHER, "completed"), forged, msg_id="forged", org_id=OTHER
    )
    await trigger.consumed("EXECUTIONS", "trigger-executions", ack.seq)

    letter = await trigger.js.get_last_msg(
        trigger.topology.stream("DLQ"), trigger.topology.dlq("trigger-executions")
    )
    assert (letter.headers or {})["Beez-Dlq-Error"] == (
        f"PermanentError: execution event of organization {trigger.org!r} published under {OTHER!r}"
    )
    assert (await enrollments(trigger))[execution_id].ended_at is None


async def test_a_cancellation_under_another_organization_leaves_the_wait_open(trigger: Harness) -> None:
    """Cancelling waits."""
    await trigger.register_wait("w", WaitKind.WAIT_KIND_EVENT, event_type="order.placed")
    await trigger.register_wait("w", WaitKind.WAIT_KIND_EVENT, cancel=True, org=OTHER)
    assert await trigger.open_wait_ids() == {trigger.id("w")}


async def test_a_registration_never_reads_another_organizations_enrollment(trigger: Harness) -> None:
    """Registering waits: the registration of another organization does not see this one's
    ended execution (and does not lock its enrollment), so it is stored open."""
    [execution_id] = await start_executions(trigger, 1)
    await trigger.execution_event(execution_id, COMPLETED)
    await trigger.register_wait("theirs", WaitKind.WAIT_KIND_GOAL, execution_id=execution_id, org=OTHER)
    [row] = await trigger.sql(
        "SELECT org_id, closed_at FROM trigger.waits WHERE id = :id", id=trigger.id("theirs")
    )
    assert (row.org_id, row.closed_at) == (OTHER, None)
