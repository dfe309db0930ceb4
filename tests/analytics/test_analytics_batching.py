"""Analytics applies lifecycle events in batches with the effect of applying them one at a time."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from psycopg import DataError

from beez.analytics.consumers import DURABLE, ExecutionEventsConsumer
from beez.analytics.domain.counting import LifecycleEvent
from beez.analytics.service import AnalyticsService, AutomationStats
from beez.api.messages.v1.lifecycle_pb2 import ExecutionEvent
from beez.kit.bus.publisher import Publisher
from beez.kit.bus.topology import Topology
from beez.kit.bus.worker import PermanentError
from beez.kit.clock import SystemClock
from tests.analytics.support import lifecycle, publish
from tests.analytics.test_analytics_stats import drained, stats
from tests.automation.support import eventually, new_org
from tests.support.inproc import InProcService


def service_of(svc: InProcService) -> AnalyticsService:
    return AnalyticsService(svc.runtime.db, SystemClock())


def prepared(service: AnalyticsService, events: Sequence[ExecutionEvent]) -> list[LifecycleEvent]:
    """The events as the consumer submits them, each under its event id."""
    out = []
    for event in events:
        item = service.prepare(f"event:{event.id}", event.organization_id, event)
        assert item is not None
        out.append(item)
    return out


def message(svc: InProcService, event: ExecutionEvent | bytes, org: str = "org_junk") -> Msg:
    """The message the executor would publish for ``event``, under its organization's subject."""
    if isinstance(event, bytes):
        data = event
    else:
        data, org = event.SerializeToString(), event.organization_id
    subject = svc.runtime.topology.executions(org, "completed")
    return Msg(svc.runtime.nc, subject=subject, data=data, headers={})  # type: ignore[arg-type]


def counts(stats: AutomationStats) -> tuple[int, int, int, int]:
    return (stats.total, stats.succeeded, stats.failed, stats.cancelled)


async def test_a_batch_counts_duplicate_messages_and_events_of_one_execution_once(
    analytics: InProcService,
) -> None:
    service = service_of(analytics)
    org, aid = new_org(), "aut_dup"
    started = lifecycle("started", org, aid, "ex1")
    completed = lifecycle("completed", org, aid, "ex1", at_s=2, duration_ms=2000)
    completed_again = ExecutionEvent()  # the same event, re-sent under an id of its own
    completed_again.CopyFrom(completed)
    completed_again.id = "ev_resent"
    batch = prepared(
        service,
        [
            started,
            started,  # the same message delivered twice
            completed,
            completed_again,
            lifecycle("started", org, aid, "ex2"),
            lifecycle("failed", org, aid, "ex2", at_s=1, duration_ms=1000),
        ],
    )

    first = await service.record_batch(DURABLE, batch)
    again = await service.record_batch(DURABLE, batch)

    assert first == [True, False, True, False, True, True]
    assert again == [False] * len(batch)
    result = await service.automation_stats(org, aid)
    assert counts(result) == (2, 1, 1, 0)
    assert result.duration_p50_ms == 2000.0


async def test_a_batch_has_the_effect_of_its_events_applied_one_at_a_time(analytics: InProcService) -> None:
    service = service_of(analytics)
    batched, one_by_one, aid = new_org(), new_org(), "aut_seq"

    def scenario(org: str) -> list[ExecutionEvent]:
        return [
            lifecycle("started", org, aid, "ok"),
            lifecycle("completed", org, aid, "ok", at_s=2.5),  # duration from the start: 2500
            lifecycle("failed", org, aid, "retried", at_s=10, duration_ms=10_000),
            lifecycle("completed", org, aid, "retried", at_s=70, duration_ms=70_000),
            lifecycle("failed", org, aid, "retried", at_s=10, duration_ms=10_000),  # late: stale
            lifecycle("cancelled", org, aid, "gone", at_s=4),  # no start seen: no duration
            lifecycle("started", org, aid, "gone", at_s=1),
            lifecycle("started", org, "aut_other", "ok", at_s=3),  # counted under its first automation
            lifecycle("started", org, aid, "running"),
        ]

    events = scenario(batched)
    # Two batches, so the second finds rows the first stored.
    outcomes = await service.record_batch(DURABLE, prepared(service, events[:4]))
    outcomes += await service.record_batch(DURABLE, prepared(service, events[4:]))
    singly = [await service.record(DURABLE, f"event:{e.id}", one_by_one, e) for e in scenario(one_by_one)]

    assert outcomes == singly == [True, True, True, True, False, True, False, False, True]
    result = await service.automation_stats(batched, aid)
    assert result == await service.automation_stats(one_by_one, aid)
    assert counts(result) == (4, 2, 0, 1)
    assert (result.duration_p50_ms, result.duration_p99_ms) == pytest.approx((36_250, 69_325))
    assert counts(await service.automation_stats(batched, "aut_other")) == (0, 0, 0, 0)


async def test_concurrent_messages_share_one_transaction_and_a_poison_fails_alone(
    analytics: InProcService,
) -> None:
    service = service_of(analytics)
    consumer = ExecutionEventsConsumer(analytics.runtime.topology, service, concurrency=64, max_batch=64)
    org, aid = new_org(), "aut_batch"
    first = [
        lifecycle(kind, org, aid, f"a{i}", at_s=i) for i in range(10) for kind in ("started", "completed")
    ]

    await asyncio.gather(*(consumer.handle(message(analytics, event)) for event in first))

    assert consumer.batcher.batches == 1
    assert counts(await service.automation_stats(org, aid)) == (10, 10, 0, 0)

    second = [lifecycle("completed", org, aid, f"b{i}", at_s=i) for i in range(10)]
    poison = lifecycle("completed", org, aid, "b\x00", at_s=1)  # PostgreSQL text refuses NUL
    incomplete = lifecycle("completed", org, "", "b_no_automation")
    outcomes = await asyncio.gather(
        *(consumer.handle(message(analytics, event)) for event in [*second[:5], poison, *second[5:]]),
        consumer.handle(message(analytics, incomplete)),
        consumer.handle(message(analytics, b"\xff\xff not protobuf")),
        return_exceptions=True,
    )

    assert outcomes[:5] == outcomes[6:11] == [None] * 5
    assert isinstance(outcomes[5], DataError)  # not permanent: retried by redelivery, then dead-lettered
    assert [type(error) for error in outcomes[11:]] == [PermanentError, PermanentError]
    assert consumer.batcher.batches == 1 + 1 + 11  # the failed batch, then each of its events alone
    assert counts(await service.automation_stats(org, aid)) == (20, 20, 0, 0)


async def test_a_poison_event_among_others_on_the_bus_is_dead_lettered_alone(
    analytics: InProcService, js: JetStreamContext, bus_prefix: str
) -> None:
    topology, publisher = Topology(bus_prefix), Publisher(js)
    org, aid = new_org(), "aut_bus"
    good = [lifecycle(kind, org, aid, f"ex{i}", at_s=i) for i in range(20) for kind in ("started", "failed")]
    poison = lifecycle("failed", org, aid, "ex\x00", at_s=1)
    incomplete = lifecycle("failed", org, aid, "")
    await asyncio.gather(*(publish(publisher, topology, event) for event in [*good, poison, incomplete]))

    async def dead_letters() -> list[tuple[str, str]]:
        stream = topology.stream("DLQ")
        found = (await js.stream_info(stream)).state.messages
        if found < 2:
            return []
        letters = [await js.get_msg(stream, seq) for seq in range(1, found + 1)]
        return [
            (ExecutionEvent.FromString(m.data or b"").id, (m.headers or {})["Beez-Dlq-Deliveries"])
            for m in letters
        ]

    # The poison is retried (0.5 + 1 + 2 + 4 s of backoff) before it is dead-lettered.
    letters = await eventually(dead_letters, within=30, what="two dead letters")
    assert sorted(letters) == sorted([(incomplete.id, "1"), (poison.id, "5")])
    await drained(js, topology)
    reply = await stats(analytics, org, aid)
    assert (reply.total, reply.succeeded, reply.failed) == (20, 0, 20)
