"""Analytics counts executions from the lifecycle stream once each, and reports percentiles."""

from __future__ import annotations

import uuid

import grpc
import pytest
from nats.js import JetStreamContext

from beez.analytics.consumers import DURABLE
from beez.analytics.service import AnalyticsService
from beez.api.analytics.v1 import analytics_pb2, analytics_pb2_grpc
from beez.kit.bus.publisher import Publisher
from beez.kit.bus.topology import Topology
from beez.kit.clock import SystemClock
from tests.analytics.support import lifecycle, publish
from tests.automation.support import eventually, new_org, violations
from tests.support.inproc import InProcService


async def stats(svc: InProcService, org: str, automation_id: str) -> analytics_pb2.GetAutomationStatsResponse:
    stub = analytics_pb2_grpc.AnalyticsServiceStub(svc.channel)
    request = analytics_pb2.GetAutomationStatsRequest(automation_id=automation_id)
    reply: analytics_pb2.GetAutomationStatsResponse = await stub.GetAutomationStats(
        request, metadata=svc.metadata(org)
    )
    return reply


async def drained(js: JetStreamContext, topology: Topology) -> None:
    """Waits until the analytics consumer has acked everything on the EXECUTIONS stream."""
    stream = topology.stream("EXECUTIONS")

    async def done() -> bool:
        last = (await js.stream_info(stream)).state.last_seq
        try:
            info = await js.consumer_info(stream, DURABLE)
        except Exception:  # not declared yet
            return False
        caught_up: bool = (
            info.ack_floor.stream_seq >= last and info.num_ack_pending == 0 and info.num_pending == 0
        )
        return caught_up

    await eventually(done, what="the analytics consumer catching up")


async def test_each_execution_counts_once_whatever_the_bus_redelivers(
    analytics: InProcService, js: JetStreamContext, bus_prefix: str
) -> None:
    topology, publisher = Topology(bus_prefix), Publisher(js)
    org, aid = new_org(), "aut_1"
    completed = lifecycle("completed", org, aid, "ex1", at_s=5, duration_ms=100)
    events = [
        lifecycle("started", org, aid, "ex1"),
        lifecycle("step_completed", org, aid, "ex1", at_s=1),
        completed,
        lifecycle("started", org, aid, "ex2"),
        lifecycle("failed", org, aid, "ex2", at_s=3, duration_ms=300),
        lifecycle("started", org, aid, "ex3"),
        lifecycle("cancelled", org, aid, "ex3", at_s=4, duration_ms=400),
        lifecycle("started", org, aid, "ex4"),  # still running
    ]
    for event in events:
        await publish(publisher, topology, event)
    # The same event again under another message id (past the stream's duplicate detection)...
    await publish(publisher, topology, completed, msg_id="executor:outbox:999")
    # ...and a second "started" for an execution already counted, with an event id of its own.
    await publish(publisher, topology, lifecycle("started", org, aid, "ex1", at_s=0.5))

    await drained(js, topology)
    reply = await stats(analytics, org, aid)

    assert (reply.automation_id, reply.total, reply.succeeded, reply.failed, reply.cancelled) == (
        aid,
        4,
        1,
        1,
        1,
    )
    assert reply.success_rate == pytest.approx(1 / 3)
    assert reply.duration_p50_ms == 100.0  # completed executions only


async def test_the_same_message_handled_twice_applies_once(analytics: InProcService) -> None:
    service = AnalyticsService(analytics.runtime.db, SystemClock())
    org = new_org()
    event = lifecycle("started", org, "aut_1", "ex1")

    first = await service.record(DURABLE, "executor:outbox:1", org, event)
    second = await service.record(DURABLE, "executor:outbox:1", org, event)

    assert (first, second) == (True, False)
    assert (await stats(analytics, org, "aut_1")).total == 1


async def test_a_retried_execution_that_failed_then_completed_counts_as_succeeded(
    analytics: InProcService, js: JetStreamContext, bus_prefix: str
) -> None:
    topology, publisher = Topology(bus_prefix), Publisher(js)
    org, aid = new_org(), "aut_retry"
    for event in (
        lifecycle("started", org, aid, "ex1"),
        lifecycle("failed", org, aid, "ex1", at_s=10, duration_ms=10_000),
        lifecycle("completed", org, aid, "ex1", at_s=70, duration_ms=70_000),
    ):
        await publish(publisher, topology, event)
        await drained(js, topology)  # in order: the retry completes after the failure
    # A late copy of the failure (another event id, the old time) changes nothing.
    await publish(publisher, topology, lifecycle("failed", org, aid, "ex1", at_s=10, duration_ms=10_000))
    await drained(js, topology)

    reply = await stats(analytics, org, aid)
    assert (reply.total, reply.succeeded, reply.failed, reply.cancelled) == (1, 1, 0, 0)
    assert reply.success_rate == 1.0
    assert reply.duration_p50_ms == 70_000.0


async def test_percentiles_cover_completed_durations_and_fall_back_on_the_start_time(
    analytics: InProcService, js: JetStreamContext, bus_prefix: str
) -> None:
    topology, publisher = Topology(bus_prefix), Publisher(js)
    org, aid = new_org(), "aut_p"
    for i in range(1, 11):  # 100, 200, ... 1000 ms
        await publish(
            publisher, topology, lifecycle("completed", org, aid, f"ex{i}", at_s=i, duration_ms=i * 100)
        )
    await publish(publisher, topology, lifecycle("failed", org, aid, "slow", at_s=20, duration_ms=10**9))
    # Without duration_ms, the time since the started event is the duration.
    await publish(publisher, topology, lifecycle("started", org, "aut_q", "q1", at_s=0))
    await drained(js, topology)
    await publish(publisher, topology, lifecycle("completed", org, "aut_q", "q1", at_s=2.5))
    await drained(js, topology)

    reply = await stats(analytics, org, aid)
    assert (reply.total, reply.succeeded, reply.failed) == (11, 10, 1)
    assert reply.success_rate == pytest.approx(10 / 11)
    # percentile_cont interpolates: p50 halfway between 500 and 600, and so on.
    assert (reply.duration_p50_ms, reply.duration_p95_ms, reply.duration_p99_ms) == pytest.approx(
        (550, 955, 991)
    )
    assert (await stats(analytics, org, "aut_q")).duration_p50_ms == 2500.0


async def test_stats_are_zero_for_an_unknown_automation_and_for_another_organization(
    analytics: InProcService, js: JetStreamContext, bus_prefix: str
) -> None:
    topology = Topology(bus_prefix)
    org = new_org()
    await publish(Publisher(js), topology, lifecycle("completed", org, "aut_1", "ex1", duration_ms=5))
    await drained(js, topology)

    assert (await stats(analytics, org, "aut_1")).total == 1
    for reply in (await stats(analytics, org, "aut_unknown"), await stats(analytics, new_org(), "aut_1")):
        assert (reply.total, reply.succeeded, reply.success_rate, reply.duration_p99_ms) == (0, 0, 0.0, 0.0)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stats(analytics, org, "")
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violations(err.value) == [("automation_id", "is required")]


async def test_undecodable_and_incomplete_events_are_dead_lettered_at_once(
    analytics: InProcService, js: JetStreamContext, bus_prefix: str
) -> None:
    topology, publisher = Topology(bus_prefix), Publisher(js)
    org = new_org()
    await publisher.publish(topology.executions(org, "started"), b"\xff\xff not protobuf", msg_id="junk-1")
    no_automation = lifecycle("started", org, "", f"ex_{uuid.uuid4().hex[:6]}")
    await publish(publisher, topology, no_automation)

    async def dead_letters() -> int:
        info = await js.stream_info(topology.stream("DLQ"))
        return info.state.messages if info.state.messages >= 2 else 0

    assert await eventually(dead_letters, what="two dead letters") == 2
    first = await js.get_msg(topology.stream("DLQ"), 1)
    assert first.subject == topology.dlq(DURABLE)
    assert (first.headers or {})["Beez-Dlq-Deliveries"] == "1"


async def test_an_event_whose_body_or_header_names_another_organization_is_dead_lettered_and_counts_nowhere(
    analytics: InProcService, js: JetStreamContext, bus_prefix: str
) -> None:
    topology, publisher = Topology(bus_prefix), Publisher(js)
    org, victim = new_org(), new_org()
    forged = lifecycle("completed", victim, "aut_1", "ex_forged", duration_ms=5)
    await publisher.publish(topology.executions(org, "completed"), forged, msg_id="forged-body", org_id=org)
    mine = lifecycle("completed", org, "aut_1", "ex_header", duration_ms=5)
    await publisher.publish(
        topology.executions(org, "completed"), mine, msg_id="forged-header", org_id=victim
    )

    async def letters() -> list[str]:
        last = (await js.stream_info(topology.stream("DLQ"))).state.last_seq
        found = [await js.get_msg(topology.stream("DLQ"), seq) for seq in range(1, last + 1)]
        errors = [(m.headers or {}).get("Beez-Dlq-Error", "") for m in found]
        return errors if len(errors) >= 2 else []

    errors = await eventually(letters, what="two dead letters")
    refused = f"of organization {victim!r} published under {org!r}"
    assert sorted(errors) == [
        f"PermanentError: execution event (header Beez-Org-Id) {refused}",
        f"PermanentError: execution event {refused}",
    ]
    await drained(js, topology)
    assert (await stats(analytics, victim, "aut_1")).total == 0
    assert (await stats(analytics, org, "aut_1")).total == 0
