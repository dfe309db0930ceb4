"""Start credits (decision 0039): an organization over its credit keeps the rest of its STARTs in
their enrollment rows, in order, and they go out as credit comes back; other organizations'
STARTs go at once.

Each test drives an ingestor of its own with a credit of 2 against the suite's trigger database
(the shared service keeps the default), and applies lifecycle batches and sweeps by hand.
"""

from __future__ import annotations

from collections.abc import Sequence

from beez.kit.db import Database
from beez.trigger import service
from beez.trigger.credits import StartCredits
from beez.trigger.ingest import Ingestor
from beez.trigger.sweeper import StartSweeper
from tests.trigger.support import Harness, event, workflow

CREDIT = 2


def db_of(trigger: Harness) -> Database:
    return trigger.svc.runtime.db


def credited(trigger: Harness, credit: int = CREDIT) -> Ingestor:
    return Ingestor(
        db_of(trigger),
        trigger.clock,
        trigger.topology,
        max_event_bytes=256 * 1024,
        compiled_cache_size=64,
        credits=StartCredits(trigger.topology, credit),
    )


async def ingest(ingestor: Ingestor, org: str, contacts: Sequence[str]) -> list[str]:
    """Ingests one list.joined event per contact, in order; returns the executions enrolled."""
    events = [event(contact=contact, id=f"evt_{org}_{contact}") for contact in contacts]
    prepared = ingestor.prepare(org, events, [f"events[{i}]" for i in range(len(events))])
    return [
        execution for outcome in await ingestor.ingest(org, prepared) for execution in outcome.execution_ids
    ]


async def sent(trigger: Harness, org: str) -> list[str]:
    """The executions whose START is in the outbox, in the order it was written."""
    return [job.execution_id for job in await trigger.starts(org)]


async def held(trigger: Harness, org: str) -> list[str]:
    rows = await trigger.sql(
        "SELECT execution_id FROM trigger.enrollments WHERE org_id = :org AND held_at IS NOT NULL"
        " AND dispatched_at IS NULL ORDER BY created_at, execution_id",
        org=org,
    )
    return [row.execution_id for row in rows]


async def lifecycle(
    trigger: Harness, org: str, execution_id: str, outcome: str | None, credits: StartCredits | None
) -> None:
    batch = [service.Lifecycle(execution_id, org, outcome)]
    await service.apply_lifecycle(db_of(trigger), trigger.clock, batch, credits)


async def test_an_organization_over_its_credit_waits_in_order_while_another_goes_at_once(
    trigger: Harness,
) -> None:
    await trigger.automation("auto-1", workflow())
    await trigger.automation("auto-2", workflow(), org=trigger.other_org)
    ingestor = credited(trigger)

    first = await ingest(ingestor, trigger.org, ["c_1", "c_2", "c_3", "c_4", "c_5"])
    assert await sent(trigger, trigger.org) == first[:2]
    assert await held(trigger, trigger.org) == first[2:]

    other = await ingest(ingestor, trigger.other_org, ["c_1"])
    assert len(first) == 5 and len(other) == 1
    assert await sent(trigger, trigger.other_org) == other  # not behind the first org's backlog

    later = await ingest(ingestor, trigger.org, ["c_6"])
    assert await sent(trigger, trigger.org) == first[:2]  # no credit, and it would overtake c_3
    assert await held(trigger, trigger.org) == first[2:] + later

    await lifecycle(trigger, trigger.org, first[0], None, ingestor.credits)  # started: one back
    assert await sent(trigger, trigger.org) == first[:3]
    await lifecycle(trigger, trigger.org, first[0], None, ingestor.credits)  # redelivered
    await lifecycle(trigger, trigger.org, first[0], "completed", ingestor.credits)  # no credit held
    assert await sent(trigger, trigger.org) == first[:3]

    await lifecycle(trigger, trigger.org, first[1], "failed", ingestor.credits)  # ended before started
    assert await sent(trigger, trigger.org) == first[:4]
    assert await held(trigger, trigger.org) == first[4:] + later


async def test_a_released_start_is_the_one_the_enrollment_kept(trigger: Harness) -> None:
    await trigger.automation("auto-1", workflow())
    ingestor = credited(trigger, credit=1)
    first, second = await ingest(ingestor, trigger.org, ["c_1", "c_2"])
    [stored] = await trigger.sql("SELECT start FROM trigger.enrollments WHERE execution_id = :id", id=second)
    await lifecycle(trigger, trigger.org, first, None, ingestor.credits)
    jobs = await trigger.outbox_jobs()
    assert [job.msg_id for job in jobs] == [f"start:{first}", f"start:{second}"]
    assert jobs[1].job.start.SerializeToString() == bytes(stored.start)
    assert jobs[1].subject == trigger.topology.jobs("normal", trigger.org)
    [row] = await trigger.sql(
        "SELECT dispatched_at, held_at FROM trigger.enrollments WHERE execution_id = :id", id=second
    )
    assert row.dispatched_at == trigger.clock.now() and row.held_at is not None


async def test_the_start_sweeper_releases_what_no_lifecycle_event_did(trigger: Harness) -> None:
    """The executor started the first two but their lifecycle events were applied without credits
    (as by an older trigger, or the slot reconciler): the sweeper finds the held ones."""
    await trigger.automation("auto-1", workflow())
    ingestor = credited(trigger)
    executions = await ingest(ingestor, trigger.org, ["c_1", "c_2", "c_3", "c_4"])
    for execution_id in executions[:2]:
        await lifecycle(trigger, trigger.org, execution_id, None, None)
    assert await sent(trigger, trigger.org) == executions[:2]

    sweeper = StartSweeper(
        db_of(trigger),
        trigger.clock,
        trigger.topology,
        redispatch_after=3600.0,
        max_redispatches=3,
        credits=ingestor.credits,
    )
    swept = await sweeper.sweep()
    assert swept.released >= 2
    assert await sent(trigger, trigger.org) == executions
    assert await held(trigger, trigger.org) == []
    again = await sweeper.sweep()
    assert await sent(trigger, trigger.org) == executions  # nothing twice
    assert again.released == 0


async def test_without_credits_every_start_goes_out_at_once(trigger: Harness) -> None:
    await trigger.automation("auto-1", workflow())
    executions = await ingest(credited(trigger, credit=0), trigger.org, ["c_1", "c_2", "c_3"])
    assert await sent(trigger, trigger.org) == executions
    assert await held(trigger, trigger.org) == []


async def test_the_credit_is_per_organization(trigger: Harness) -> None:
    """A lifecycle event of one organization's execution releases none of another's."""
    await trigger.automation("auto-1", workflow())
    await trigger.automation("auto-2", workflow(), org=trigger.other_org)
    ingestor = credited(trigger, credit=1)
    mine = await ingest(ingestor, trigger.org, ["c_1", "c_2"])
    theirs = await ingest(ingestor, trigger.other_org, ["c_1", "c_2"])
    assert len(mine) == len(theirs) == 2
    await lifecycle(trigger, trigger.other_org, mine[0], None, ingestor.credits)  # names my execution
    assert await sent(trigger, trigger.org) == mine[:1]
    assert await sent(trigger, trigger.other_org) == theirs[:1]
    await lifecycle(trigger, trigger.other_org, theirs[0], "completed", ingestor.credits)
    assert await sent(trigger, trigger.other_org) == theirs
    assert await sent(trigger, trigger.org) == mine[:1]
