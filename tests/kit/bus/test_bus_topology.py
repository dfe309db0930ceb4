"""Stream names and declarations: prefixed, idempotent, updated in place, never deleted."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from nats.js import JetStreamContext, api

from beez.kit.bus import STREAMS, Topology, ensure_consumer, ensure_streams
from beez.kit.bus.topology import EVENTS


def test_prefix_applies_to_subjects_and_stream_names() -> None:
    topo = Topology("t1")
    assert topo.stream("EVENTS") == "T1_EVENTS"
    assert topo.events("acme", "signup") == "t1.events.acme.signup"
    assert topo.jobs("high", "acme") == "t1.jobs.high.acme"
    assert topo.executions("acme", "completed") == "t1.executions.acme.completed"
    assert topo.automation_changed("acme") == "t1.automations.acme.changed"
    assert topo.command("acme", "add_tag") == "t1.platform.commands.acme.add_tag"
    assert topo.waits("acme", "event") == "t1.waits.acme.event"
    assert topo.dlq("executor") == "t1.dlq.executor"
    assert topo.subject("jobs.>") == "t1.jobs.>"


def test_no_prefix_means_the_production_names() -> None:
    topo = Topology()
    assert topo.stream("JOBS") == "JOBS"
    assert topo.jobs("critical", "acme") == "jobs.critical.acme"


def test_unknown_job_priority_is_refused() -> None:
    with pytest.raises(ValueError, match="priority"):
        Topology().jobs("urgent", "acme")


async def test_ensure_streams_twice_changes_nothing(js: JetStreamContext, topology: Topology) -> None:
    before = {spec.name: await js.stream_info(topology.stream(spec.name)) for spec in STREAMS}
    await ensure_streams(js, topology)
    for spec in STREAMS:
        after = await js.stream_info(topology.stream(spec.name))
        assert after.config == before[spec.name].config
        assert after.created == before[spec.name].created


async def test_streams_have_the_designed_retention_and_windows(
    js: JetStreamContext, topology: Topology
) -> None:
    jobs = (await js.stream_info(topology.stream("JOBS"))).config
    assert jobs.retention == api.RetentionPolicy.WORK_QUEUE
    assert jobs.subjects == [topology.subject("jobs.>")]
    assert jobs.duplicate_window == 120
    events = (await js.stream_info(topology.stream("EVENTS"))).config
    assert events.retention == api.RetentionPolicy.LIMITS
    assert events.storage == api.StorageType.FILE
    assert events.duplicate_window == 120
    assert events.max_age == 7 * 24 * 3600
    dlq = (await js.stream_info(topology.stream("DLQ"))).config
    assert dlq.max_age == 30 * 24 * 3600


async def test_changed_stream_config_is_updated_in_place_keeping_messages(
    js: JetStreamContext, topology: Topology
) -> None:
    await js.publish(topology.events("acme", "signup"), b"kept")
    shorter = dataclasses.replace(EVENTS, max_age=timedelta(days=1))
    await ensure_streams(js, topology, [shorter])
    info = await js.stream_info(topology.stream("EVENTS"))
    assert info.config.max_age == 24 * 3600
    assert info.state.messages == 1


async def test_ensure_consumer_creates_then_updates_a_durable_in_place(
    js: JetStreamContext, topology: Topology
) -> None:
    stream = topology.stream("EVENTS")
    config = api.ConsumerConfig(
        durable_name="projector", ack_wait=30, max_deliver=5, filter_subject=topology.subject("events.>")
    )
    first = await ensure_consumer(js, stream, config)
    again = await ensure_consumer(js, stream, config)
    assert again.created == first.created
    updated = await ensure_consumer(js, stream, config.evolve(max_deliver=3, ack_wait=10))
    assert updated.created == first.created
    assert (updated.config.max_deliver, updated.config.ack_wait) == (3, 10)


async def test_ensure_consumer_accepts_several_filter_subjects(
    js: JetStreamContext, topology: Topology
) -> None:
    config = api.ConsumerConfig(
        durable_name="urgent",
        filter_subjects=[topology.subject("jobs.critical.>"), topology.subject("jobs.high.>")],
    )
    info = await ensure_consumer(js, topology.stream("JOBS"), config)
    assert info.config.filter_subjects == config.filter_subjects
