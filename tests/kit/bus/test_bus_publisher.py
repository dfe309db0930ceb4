"""Publishing: one message per id within the window, with type, organization and trace headers."""

from __future__ import annotations

import pytest
from google.protobuf.wrappers_pb2 import StringValue
from nats.js import JetStreamContext
from opentelemetry import context, trace
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

from beez.kit.bus import Publisher, Topology
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
