"""Publishing: one message per id within the window, with type, organization and trace headers."""

from __future__ import annotations

import pytest
from google.protobuf.wrappers_pb2 import StringValue
from nats.js import JetStreamContext
from nats.js.errors import APIError, NoStreamResponseError
from opentelemetry import context, trace
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

from beez.kit.bus import Publisher, Topology
from beez.kit.bus.publisher import Publication
from tests.kit.bus.bus_support import stream_messages


async def test_same_msg_id_twice_stores_one_message(js: JetStreamContext, topology: Topology) -> None:
    publisher = Publisher(js)
    subject = topology.events("acme", "signup")
    first = await publisher.publish(subject, b"evt-1", msg_id="evt-1")
    second = await publisher.publish(subject, b"evt-1", msg_id="evt-1")
    assert not first.duplicate
    assert second.duplicate is True
    assert second.seq == first.seq
    assert len(await stream_messages(js, topology.stream("EVENTS"))) == 1


async def test_protobuf_message_carries_its_type_org_and_trace(
    js: JetStreamContext, topology: Topology
) -> None:
    span = NonRecordingSpan(SpanContext(0xABC, 0xDEF, is_remote=False, trace_flags=TraceFlags(1)))
    token = context.attach(trace.set_span_in_context(span))
    try:
        await Publisher(js).publish(
            topology.executions("acme", "completed"),
            StringValue(value="done"),
            msg_id="exec-1:completed",
            org_id="acme",
            headers={"X-Custom": "kept"},
        )
    finally:
        context.detach(token)
    [msg] = await stream_messages(js, topology.stream("EXECUTIONS"))
    assert StringValue.FromString(msg.data or b"").value == "done"
    headers = msg.headers or {}
    assert headers["Content-Type"] == "application/x-protobuf; type=google.protobuf.StringValue"
    assert headers["Beez-Org-Id"] == "acme"
    assert headers["Nats-Msg-Id"] == "exec-1:completed"
    assert headers["X-Custom"] == "kept"
    assert headers["traceparent"] == f"00-{0xABC:032x}-{0xDEF:016x}-01"


async def test_publishing_without_msg_id_is_refused(js: JetStreamContext, topology: Topology) -> None:
    with pytest.raises(ValueError, match="msg_id"):
        await Publisher(js).publish(topology.events("acme", "x"), b"", msg_id="")


async def test_publish_many_returns_the_acks_in_order_and_drops_repeats(
    js: JetStreamContext, topology: Topology
) -> None:
    publisher = Publisher(js)
    subject = topology.events("acme", "bulk")
    batch = [Publication(subject, f"m-{i}".encode(), f"m-{i}", org_id="acme") for i in range(50)]

    acks = await publisher.publish_many(batch)
    again = await publisher.publish_many(batch[:10])

    assert [ack.seq for ack in acks] == list(range(acks[0].seq, acks[0].seq + 50))
    assert not any(ack.duplicate for ack in acks)
    assert all(ack.duplicate for ack in again)
    stored = await stream_messages(js, topology.stream("EVENTS"))
    assert [m.data for m in stored] == [f"m-{i}".encode() for i in range(50)]
    assert all((m.headers or {})["Beez-Org-Id"] == "acme" for m in stored)


async def test_publish_many_raises_when_a_message_has_no_stream(
    js: JetStreamContext, topology: Topology
) -> None:
    publisher = Publisher(js, timeout=2.0)
    good = Publication(topology.events("acme", "ok"), b"ok", "ok-1")
    lost = Publication(f"{topology.prefix}-nowhere.at.all", b"x", "lost-1")

    with pytest.raises(NoStreamResponseError):
        await publisher.publish_many([good, lost, good])
    assert publisher.awaiting_acks == 0  # nothing left waiting
    assert [ack.duplicate for ack in await publisher.publish_many([good])] == [True]  # and it goes on


async def test_publish_many_raises_the_streams_refusal(js: JetStreamContext, topology: Topology) -> None:
    publisher = Publisher(js)
    refused = Publication(
        topology.events("acme", "x"), b"x", "refused-1", headers={"Nats-Expected-Stream": "ELSEWHERE"}
    )
    with pytest.raises(APIError, match="expected stream does not match"):
        await publisher.publish_many([refused])
    assert publisher.awaiting_acks == 0


async def test_publish_many_gives_up_when_acks_do_not_come(js: JetStreamContext, topology: Topology) -> None:
    silent = f"{topology.prefix}-silent.x"
    sub = await js._nc.subscribe(silent)  # takes the message, never answers: no PubAck ever comes
    publisher = Publisher(js, timeout=0.3)
    try:
        with pytest.raises(TimeoutError):
            await publisher.publish_many([Publication(silent, b"x", "silent-1")])
        assert publisher.awaiting_acks == 0
        assert [
            ack.seq > 0
            for ack in await publisher.publish_many([Publication(topology.events("acme", "y"), b"y", "y-1")])
        ] == [True]
    finally:
        await sub.unsubscribe()


async def test_publish_many_needs_every_msg_id(js: JetStreamContext, topology: Topology) -> None:
    with pytest.raises(ValueError, match="msg_id"):
        await Publisher(js).publish_many([Publication(topology.events("acme", "x"), b"x", "")])
