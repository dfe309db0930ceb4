"""Header names carried on Beez messages, and the payload encoding they describe."""

from __future__ import annotations

from google.protobuf.message import Message
from nats.js.api import Header

MSG_ID = Header.MSG_ID.value
"""``Nats-Msg-Id``: the stream drops a second message with the same id within its duplicate window."""

STATUS = Header.STATUS.value
"""A status reply's code (``Status: 503`` no responders, ``408`` request expired, ...)."""

ORG_ID = "Beez-Org-Id"
"""The organization a message belongs to, so consumers and tools can scope it without decoding."""

CONTENT_TYPE = "Content-Type"
"""``application/x-protobuf; type=<full name>`` for protobuf payloads."""

PROTOBUF_CONTENT_TYPE = "application/x-protobuf"

DLQ_ERROR = "Beez-Dlq-Error"
"""``<ExceptionType>: <message>`` of the last failure, truncated to about 1 KB."""
DLQ_STREAM = "Beez-Dlq-Stream"
"""The stream the dead letter was read from."""
DLQ_SUBJECT = "Beez-Dlq-Subject"
"""The subject it was published on, where a replay would publish it again."""
DLQ_SEQUENCE = "Beez-Dlq-Sequence"
"""Its sequence in that stream."""
DLQ_DELIVERIES = "Beez-Dlq-Deliveries"
"""How many times it was delivered before being dead-lettered."""
DLQ_CONSUMER = "Beez-Dlq-Consumer"
"""The durable consumer that gave up on it."""
DLQ_ORIGINAL_MSG_ID = "Beez-Dlq-Original-Msg-Id"
"""Its original ``Nats-Msg-Id``, which the dead letter cannot keep under that name."""

REDRIVE_OF_MESSAGE = "Beez-Redrive-Of-Message"
"""On a re-driven message: the identity the original message had for deduplication (its
``Nats-Msg-Id``, else ``<stream>:<sequence>``), which the re-drive cannot keep as its own
``Nats-Msg-Id`` (the stream's duplicate window would drop it).
:func:`beez.kit.bus.inbox.message_id` returns it, so a consumer that had processed the original
recognises the re-drive as the same message."""


def encode(message: bytes | Message) -> tuple[bytes, dict[str, str]]:
    """The wire payload of ``message`` and the headers describing it.

    Protobuf messages are serialized and labelled with their full type name, so a consumer (or
    a person reading the DLQ) knows how to decode them; raw bytes go as they are.
    """
    if isinstance(message, Message):
        content_type = f"{PROTOBUF_CONTENT_TYPE}; type={message.DESCRIPTOR.full_name}"
        return message.SerializeToString(), {CONTENT_TYPE: content_type}
    if isinstance(message, bytes | bytearray | memoryview):
        return bytes(message), {}
    raise TypeError(f"cannot publish {type(message).__name__}: expected bytes or a protobuf Message")
