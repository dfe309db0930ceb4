"""Pure logic of bus dead letters: what a DLQ message says, its organization and error category,
the filters the RPCs take, and a payload shown to a person (decoded and masked).
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from google.protobuf import descriptor_pool, json_format, message_factory
from google.protobuf.message import DecodeError

from beez.api.messages.v1 import commands_pb2, events_pb2, jobs_pb2, lifecycle_pb2
from beez.kit.bus.headers import (
    CONTENT_TYPE,
    DLQ_CONSUMER,
    DLQ_DELIVERIES,
    DLQ_ERROR,
    DLQ_ORIGINAL_MSG_ID,
    DLQ_SEQUENCE,
    DLQ_STREAM,
    DLQ_SUBJECT,
    MSG_ID,
    ORG_ID,
    PROTOBUF_CONTENT_TYPE,
    REDRIVE_OF_MESSAGE,
)
from beez.kit.bus.subjects import ORG_PATTERN
from beez.kit.bus.topology import Topology
from beez.kit.logging import mask_text, mask_value

REDRIVE_OF = "Beez-Redrive-Of"
"""Header of a re-driven message: the id of the dead letter it came from."""

ORG_TOKEN = {
    "events": 1,
    "jobs": 2,
    "executions": 1,
    "automations": 1,
    "platform": 2,
    "waits": 1,
}
"""Per subject root, the index (in the unprefixed subject's tokens) of its organization token."""

REDRIVABLE_ROOTS = frozenset({"events", "jobs", "executions", "platform", "waits"})
"""Roots of the subjects the executor may publish (beez.kit.bus.permissions): a dead letter of
``automations.>`` is re-sent by the automation service, which alone may announce changes."""

KNOWN_MESSAGES = (commands_pb2, events_pb2, jobs_pb2, lifecycle_pb2)
"""Modules whose message types a payload is decoded as (importing them registers the types)."""

PAYLOAD_SHOWN = 64 * 1024
"""Bytes of a text payload decoded by GetDeadLetter, and characters of any payload it shows; the
rest is cut. A payload is masked before it is cut, so the cut cannot split a value the masker
would have recognised; the answer stays far below gRPC's 4 MiB message limit whatever the
payload (a 1 MiB protobuf message shown as JSON can take several times its size)."""


class State(StrEnum):
    DEAD = "dead"
    REDRIVEN = "redriven"


class Category(StrEnum):
    """Why a consumer gave up, from the error's exception type (``Type: message``)."""

    PERMANENT = "permanent"
    DELIVERY_LIMIT = "delivery_limit"
    TIMEOUT = "timeout"
    UNAVAILABLE = "unavailable"
    ERROR = "error"


_UNAVAILABLE_TYPES = frozenset(
    {
        "OperationalError",
        "InterfaceError",
        "ConnectionError",
        "ConnectionRefusedError",
        "ConnectionResetError",
        "ConnectionClosedError",
        "NoServersError",
        "ServiceUnavailableError",
        "NoRespondersError",
        "OSError",
    }
)


def categorize(error: str) -> Category:
    """The category of an error written by the worker as ``<ExceptionType>: <message>``."""
    kind = error.split(":", 1)[0].strip().rsplit(".", 1)[-1]
    if kind == "PermanentError":
        return Category.PERMANENT
    if kind == "DeliveryLimitReached":
        return Category.DELIVERY_LIMIT
    if kind in ("TimeoutError", "CancelledError"):
        return Category.TIMEOUT
    if kind in _UNAVAILABLE_TYPES:
        return Category.UNAVAILABLE
    return Category.ERROR


def subject_org(topology: Topology, subject: str) -> str:
    """The organization token of ``subject`` (``jobs.<priority>.<org>``, ``events.<org>.<type>``, ...);
    ``""`` for a subject outside the topology or naming none."""
    base = topology.subject("")
    if topology.prefix:
        if not subject.startswith(base):
            return ""
        subject = subject[len(base) :]
    tokens = subject.split(".")
    index = ORG_TOKEN.get(tokens[0])
    if index is None or len(tokens) <= index or not ORG_PATTERN.match(tokens[index]):
        return ""
    return tokens[index]


def redrivable(topology: Topology, subject: str) -> bool:
    """Whether the executor may publish ``subject`` again (see :data:`REDRIVABLE_ROOTS`)."""
    return any(subject.startswith(prefix) for prefix in redrivable_prefixes(topology))


def redrivable_prefixes(topology: Topology) -> list[str]:
    """The subject prefixes of :data:`REDRIVABLE_ROOTS` under ``topology`` (``t1.jobs.``, ...)."""
    return [topology.subject(f"{root}.") for root in sorted(REDRIVABLE_ROOTS)]


@dataclass(frozen=True)
class Arrival:
    """A dead letter as read from the DLQ stream, ready to be stored."""

    dlq_msg_id: str
    org_id: str
    consumer: str
    subject: str
    stream: str
    stream_seq: int
    deliveries: int
    headers: dict[str, str]
    error: str
    error_category: str
    payload: bytes
    stored_at: datetime | None = None
    """When the DLQ stream stored it (when it was dead-lettered); None: when it is folded in."""


DLQ_HEADERS = frozenset(
    {
        DLQ_ERROR,
        DLQ_STREAM,
        DLQ_SUBJECT,
        DLQ_SEQUENCE,
        DLQ_DELIVERIES,
        DLQ_CONSUMER,
        DLQ_ORIGINAL_MSG_ID,
        MSG_ID,
    }
)


def _int(value: str | None) -> int:
    try:
        return int(value or 0)
    except ValueError:
        return 0


def arrival(
    topology: Topology,
    subject: str,
    data: bytes,
    headers: Mapping[str, str] | None,
    dlq_seq: int,
    stored_at: datetime | None = None,
) -> Arrival:
    """What the dead letter on ``subject`` (``dlq.<consumer>``) says; never raises for its content.

    A message missing the worker's headers is stored with what it has: refusing it would
    dead-letter a dead letter. Its id falls back to its own DLQ sequence. The organization is the
    original subject's; a ``Beez-Org-Id`` naming another one is ignored (the subject is what
    permissions guard).
    """
    headers = dict(headers or {})
    consumer = headers.get(DLQ_CONSUMER) or subject.rsplit(".", 1)[-1]
    original_subject = headers.get(DLQ_SUBJECT, "")
    error = headers.get(DLQ_ERROR, "")
    original = {k: v for k, v in headers.items() if k not in DLQ_HEADERS}
    if DLQ_ORIGINAL_MSG_ID in headers:
        original[MSG_ID] = headers[DLQ_ORIGINAL_MSG_ID]
    return Arrival(
        dlq_msg_id=headers.get(MSG_ID) or f"dlq-seq:{dlq_seq}",
        org_id=subject_org(topology, original_subject),
        consumer=consumer,
        subject=original_subject,
        stream=headers.get(DLQ_STREAM, ""),
        stream_seq=_int(headers.get(DLQ_SEQUENCE)),
        deliveries=_int(headers.get(DLQ_DELIVERIES)),
        headers=original,
        error=error,
        error_category=categorize(error).value,
        payload=data,
        stored_at=stored_at,
    )


def redrive_headers(
    headers: Mapping[str, str], dead_letter_id: str, stream: str, stream_seq: int
) -> dict[str, str]:
    """The headers a re-drive publishes with: the original ones (its ``Nats-Msg-Id`` replaced by the
    outbox row's), plus ``Beez-Redrive-Of`` and the original's identity for deduplication
    (``Beez-Redrive-Of-Message``: its ``Nats-Msg-Id``, else ``<stream>:<seq>``, as
    :func:`beez.kit.bus.inbox.message_id` saw it; kept from an earlier re-drive). An event without
    an id takes that identity as its id in the trigger, so without it a re-drive of an event the
    trigger had ingested after all would start its automations again."""
    out = {k: v for k, v in headers.items() if k != MSG_ID}
    original = headers.get(REDRIVE_OF_MESSAGE) or headers.get(MSG_ID)
    if not original and stream and stream_seq:
        original = f"{stream}:{stream_seq}"
    if original:
        out[REDRIVE_OF_MESSAGE] = original
    out[REDRIVE_OF] = dead_letter_id
    return out


def redrive_msg_id(dead_letter_id: str, generation: int) -> str:
    """``redrive:<id>:<generation>``: a re-send of the same re-drive is dropped by the stream."""
    return f"redrive:{dead_letter_id}:{generation}"


@dataclass(frozen=True)
class DeadLetterFilter:
    """Which dead letters of one organization an RPC means."""

    org_id: str
    consumer: str = ""
    error_category: str = ""
    since: datetime | None = None
    before: datetime | None = None
    state: State | None = None

    @property
    def narrowed(self) -> bool:
        """Whether any filter beyond the organization is set."""
        return self.scope() != ("", "", "", "", "")

    def scope(self) -> tuple[str, str, str, str, str]:
        return (
            self.consumer,
            self.error_category,
            self.since.isoformat() if self.since else "",
            self.before.isoformat() if self.before else "",
            self.state.value if self.state else "",
        )


def masked_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Header values as a person may see them: PII masked (``Beez-Org-Id`` and ids stay)."""
    return {k: v if k in (ORG_ID, MSG_ID) else mask_text(v) for k, v in headers.items()}


def shown_payload(payload: bytes, headers: Mapping[str, str]) -> str:
    """The payload for a person: a known protobuf type as JSON, else UTF-8 text, else a note; masked,
    and cut at :data:`PAYLOAD_SHOWN` characters."""
    content_type = headers.get(CONTENT_TYPE, "")
    if content_type.startswith(PROTOBUF_CONTENT_TYPE) and "type=" in content_type:
        name = content_type.split("type=", 1)[1].split(";", 1)[0].strip()
        try:
            cls = message_factory.GetMessageClass(descriptor_pool.Default().FindMessageTypeByName(name))
            message = cls.FromString(payload)
            shown = json.dumps(mask_value(json_format.MessageToDict(message)), indent=2, sort_keys=True)
            return _cut(shown, len(payload))
        except (KeyError, DecodeError):
            pass
    head = payload[:PAYLOAD_SHOWN]
    try:
        # a cut payload may end inside a character: that partial character is left out
        text = codecs.getincrementaldecoder("utf-8")().decode(head, final=len(head) == len(payload))
    except UnicodeDecodeError:
        return f"<{len(payload)} bytes, not text>"
    try:
        return _cut(json.dumps(mask_value(json.loads(text)), indent=2, sort_keys=True), len(payload))
    except ValueError:
        suffix = "..." if len(payload) > PAYLOAD_SHOWN else ""
        return _cut(mask_text(text), len(payload)) + suffix


def _cut(shown: str, size: int) -> str:
    if len(shown) <= PAYLOAD_SHOWN:
        return shown
    return shown[:PAYLOAD_SHOWN] + f"\n... (cut; the payload has {size} bytes)"
