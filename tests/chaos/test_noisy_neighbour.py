"""Noisy neighbour (issue #12): one organization floods ten times each other organization's event
rate, every event running a CPU-heavy but legal condition; the others' p99 from event to
completion stays within 2x of a quiet run, and nothing is lost.

The flood arrives the way platform services publish, on ``events.<org>.<type>``. The trigger's
per-organization ingestion limit (decision 0031, lowered here so the flood exceeds it) defers the
noisy organization's surplus (delayed, never dropped) while the quiet organizations' events are
taken as they come; the condition's cost budget (decision 0022) bounds what each noisy event may
cost the trigger's event loop; the start credit (decision 0039) keeps what was admitted of the
flood from queueing in front of the quiet organizations' STARTs at the executor.
Latency is measured at the receiver: from the moment the driver published an event to the
arrival of its execution's webhook, both on this process's clock.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from beez.workflow.conditions.cost import cost_budget, estimate_source
from tests.chaos.harness import (
    ChaosStack,
    Figures,
    Ledger,
    assert_clean,
    chaos_stack,
    event,
    webhook_automation,
)
from tests.chaos.test_trigger_events import publish_on_stream

QUIET_ORGS = ("org_nn_quiet_a", "org_nn_quiet_b", "org_nn_quiet_c")
NOISY_ORG = "org_nn_noisy"
KIND = "chaos.noisy-neighbour"
HEAVY = (
    'event.data.items.filter(x, x.contains("1")).size() > 1'
    ' && event.data.items.filter(x, x.endsWith("7")).size() > 1'
    ' && event.data.items.filter(x, x.startsWith("a9")).size() > 1'
    ' && event.data.items.exists(x, x.endsWith("97"))'
)
"""Three filters and a search over the event's list: true for :data:`ITEMS`, and estimated near
the whole cost budget."""
ITEMS = [f"a{i}" for i in range(98)]
NOISY_RATE_LIMIT = 10
"""Events per second the noisy organization may have ingested in this scenario (the default is
1,000/s, far above what a test floods). An organization's limit is capacity planning: what the
limits admit must fit what the executors do, or everyone slows down together. This stack does
about 40 executions a second on the 2-core machine, so with the quiet organizations' 15/s the
flood is admitted at 10/s (a fifth of what it sends), leaving headroom; at 25/s the stack ran
saturated and every organization's latency grew with the CPU queue, fair or not."""
START_CREDIT = 8
"""STARTs one organization may have waiting for the executor (decision 0039). The default, 512, is
sized for an executor doing about a thousand executions a second; this stack's does about 40,
so the credit is scaled down with it: a quiet organization's START then waits behind at most
about 0.2 s of the flood's instead of 13 s."""
LIMITED = {
    "BEEZ_INGEST_RATE_PER_ORG": str(NOISY_RATE_LIMIT),
    "BEEZ_INGEST_BURST_PER_ORG": str(NOISY_RATE_LIMIT),
    "BEEZ_INGEST_LIMIT_LEASE": "2",
    "BEEZ_START_CREDITS_PER_ORG": str(START_CREDIT),
}


@pytest.fixture(scope="module")
async def limited() -> AsyncIterator[ChaosStack]:
    """A stack whose trigger limits each organization's ingestion to :data:`NOISY_RATE_LIMIT`/s."""
    async with chaos_stack(trigger_env=LIMITED) as started:
        yield started


WALL: dict[str, float] = {}
"""When each event was published, on the wall clock (to compare with the services' timestamps)."""


def stages(stack: ChaosStack, orgs: tuple[str, ...], sent: dict[str, float]) -> dict[str, float]:
    """p99 seconds of each stage for ``sent``'s events: published to ingested by the trigger, and
    ingested to the execution's end."""
    rows = stack.query(
        "SELECT e.event_id, extract(epoch FROM e.received_at), extract(epoch FROM x.finished_at),"
        " extract(epoch FROM x.created_at), extract(epoch FROM x.started_at)"
        " FROM trigger.events e JOIN executor.executions x"
        " ON x.trigger_event_id = e.event_id AND x.org_id = e.org_id"
        " WHERE e.org_id = ANY(%s) AND x.finished_at IS NOT NULL",
        list(orgs),
    )
    ingest = [float(r[1]) - WALL[str(r[0])] for r in rows if str(r[0]) in sent]
    run = [float(r[2]) - float(r[1]) for r in rows if str(r[0]) in sent]
    start = [float(r[3]) - float(r[1]) for r in rows if str(r[0]) in sent]
    queue = [float(r[4]) - float(r[3]) for r in rows if str(r[0]) in sent and r[4] is not None]
    return {
        "ingest_p99_ms": round(p99(ingest) * 1000, 1),
        "run_p99_ms": round(p99(run) * 1000, 1),
        "to_executor_p99_ms": round(p99(start) * 1000, 1),
        "queued_p99_ms": round(p99(queue) * 1000, 1),
    }


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] if ordered else 0.0


async def publish_at(
    stack: ChaosStack, org: str, rate: float, seconds: float, tag: str, sent: dict[str, float], **data: Any
) -> int:
    """Publishes ``rate`` events a second for ``seconds`` on the stream, recording each send time."""
    interval = 1.0 / rate
    count = int(rate * seconds)
    start = time.monotonic()
    for i in range(count):
        await asyncio.sleep(max(0.0, start + i * interval - time.monotonic()))
        doc = event(f"evt_{tag}_{org}_{i}", KIND, f"c_{i % 50}", **data)
        sent[doc["id"]] = time.monotonic()
        WALL[doc["id"]] = time.time()
        await publish_on_stream(stack, org, doc, doc["id"])
    return count


def latencies(stack: ChaosStack, orgs: tuple[str, ...], sent: dict[str, float]) -> list[float]:
    """Seconds from each published event of ``sent`` to its webhook's arrival at the receiver."""
    rows = stack.query(
        "SELECT id, trigger_event_id FROM executor.executions WHERE org_id = ANY(%s)", list(orgs)
    )
    by_execution = {str(execution): str(event_id) for execution, event_id in rows}
    found: list[float] = []
    for key, arrived in stack.receiver.arrivals.items():
        parts = key.split(":")
        event_id = by_execution.get(parts[1]) if len(parts) > 1 else None
        if event_id is not None and event_id in sent:
            found.append(arrived - sent[event_id])
    return found


async def run(
    stack: ChaosStack, seconds: float, rate: float, tag: str, noisy: bool
) -> tuple[dict[str, float], int]:
    """The quiet organizations at ``rate`` each, with the noisy one at ten times that or without it."""
    sent: dict[str, float] = {}
    runs = [publish_at(stack, org, rate, seconds, tag, sent) for org in QUIET_ORGS]
    if noisy:
        runs.append(publish_at(stack, NOISY_ORG, rate * 10, seconds, tag, sent, items=ITEMS))
    counts = await asyncio.gather(*runs)
    return sent, counts[-1] if noisy else 0


async def noisy_neighbour(stack: ChaosStack, seconds: float, rate: float, scenario: str) -> Figures:
    assert 0.5 * cost_budget() < estimate_source(HEAVY) <= cost_budget()
    for org in QUIET_ORGS:
        await stack.create_automation(org, webhook_automation(KIND, stack.receiver.url, delays_s=(0,)))
    heavy = webhook_automation(KIND, stack.receiver.url, delays_s=(0,))
    heavy["conditions"] = [{"expression": HEAVY}]
    await stack.create_automation(NOISY_ORG, heavy)
    per_org = int(rate * seconds)
    settle_s = 60.0 + seconds

    alone, _ = await run(stack, seconds, rate, f"{scenario}-alone", noisy=False)
    for org in QUIET_ORGS:
        assert_clean(await Ledger(stack, org).settle(per_org, deadline_s=settle_s, webhook_steps=1))
    quiet_p99 = p99(latencies(stack, QUIET_ORGS, alone))

    cpu_before = stack.cpu_seconds()
    flooded, noisy_sent = await run(stack, seconds, rate, f"{scenario}-flooded", noisy=True)
    cpu = {k: round(v - cpu_before.get(k, 0.0), 1) for k, v in stack.cpu_seconds().items()}
    quiet = [
        await Ledger(stack, org).settle(2 * per_org, deadline_s=settle_s, webhook_steps=1)
        for org in QUIET_ORGS
    ]
    flooded_p99 = p99(latencies(stack, QUIET_ORGS, flooded))
    drain_s = noisy_sent / NOISY_RATE_LIMIT
    figures = await Ledger(stack, NOISY_ORG).settle(noisy_sent, deadline_s=60 + 2 * drain_s, webhook_steps=1)
    noisy_p99 = p99(latencies(stack, (NOISY_ORG,), flooded))
    figures.scenario = scenario
    figures.extra = {
        "quiet_rate_each": rate,
        "noisy_rate": rate * 10,
        "noisy_ingest_limit": NOISY_RATE_LIMIT,
        "condition_cost": estimate_source(HEAVY),
        "quiet_p99_ms_alone": round(quiet_p99 * 1000, 1),
        "quiet_p99_ms_flooded": round(flooded_p99 * 1000, 1),
        "ratio": round(flooded_p99 / quiet_p99, 2) if quiet_p99 else None,
        "noisy_p99_ms": round(noisy_p99 * 1000, 1),
        "quiet_lost": sum(f.lost for f in quiet),
        "quiet_stages_flooded": stages(stack, QUIET_ORGS, flooded),
        "noisy_stages": stages(stack, (NOISY_ORG,), flooded),
        "cpu_s_while_flooded": cpu,
    }
    figures.report()
    for books in quiet:
        assert_clean(books)
    assert_clean(figures)
    quiet_ingest = figures.extra["quiet_stages_flooded"]["ingest_p99_ms"]
    noisy_ingest = figures.extra["noisy_stages"]["ingest_p99_ms"]
    assert noisy_ingest > 2 * quiet_ingest, "only the flood waits to be ingested: " + figures.line()
    return figures


@pytest.mark.chaos  # ~85 s with its own stack: make chaos
async def test_noisy_neighbour_quick(limited: ChaosStack) -> None:
    """Nothing lost, and only the flood waits to be ingested; the end-to-end ratio is printed here
    and asserted in `make chaos`."""
    await noisy_neighbour(limited, seconds=8, rate=5, scenario="noisy-neighbour-quick")


@pytest.mark.chaos
@pytest.mark.timeout(1800)
async def test_noisy_neighbour_p99_within_twice_a_quiet_run() -> None:
    async with chaos_stack(trigger_env=LIMITED) as stack:
        figures = await noisy_neighbour(stack, seconds=60, rate=5, scenario="noisy-neighbour-60s")
    ratio = figures.extra["ratio"]
    assert ratio is not None and ratio <= 2.0, figures.line()
