"""What a pull worker's handler may answer, and what the worker makes of a failure: the handler's
type, the error that is never retried, the retry backoff, the worker's counters, and a dead
letter's headers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from nats.aio.msg import Msg

from beez.kit.bus.headers import (
    DLQ_CONSUMER,
    DLQ_DELIVERIES,
    DLQ_ERROR,
    DLQ_ORIGINAL_MSG_ID,
    DLQ_SEQUENCE,
    DLQ_STREAM,
    DLQ_SUBJECT,
    MSG_ID,
)
from beez.kit.unavailable import is_unavailable

Handler = Callable[[Msg], Awaitable[None]]
"""Processes one message; returning means done (ack), raising means failed (retry or DLQ), raising
:class:`~beez.kit.bus.defer.Deferred` means "again after a delay" (not a failure)."""

Backoff = Callable[[int], float]
"""Seconds to wait before redelivering a message that failed on delivery ``n`` (1-based)."""

DLQ_ERROR_LIMIT = 1024
"""Bytes of ``Beez-Dlq-Error`` kept: enough for a message, not a traceback in a header."""


class PermanentError(Exception):
    """Raised by a handler for a message that can never succeed, however often it is retried.

    A poison message: undecodable bytes, a payload failing validation, a reference to something
    that cannot exist. The worker dead-letters it on the first delivery instead of burning the
    remaining attempts.
    """


def exponential_backoff(initial: float = 0.5, factor: float = 2.0, maximum: float = 10.0) -> Backoff:
    """``initial * factor ** (n - 1)`` seconds after the n-th delivery failed, capped at ``maximum``.

    Kept small on purpose: a nak'd message keeps its slot in ``max_ack_pending`` while it waits,
    and retries on a real schedule (minutes, hours) belong in PostgreSQL timers, not redelivery.
    """

    def delay(num_delivered: int) -> float:
        return float(min(maximum, initial * factor ** max(0, num_delivered - 1)))

    return delay


@dataclass
class WorkerStats:
    """Counters for metrics: ``failed`` counts failed handler attempts, retried or not."""

    processed: int = 0
    failed: int = 0
    dead_lettered: int = 0
    deferred: int = 0
    """Handler runs that raised :class:`~beez.kit.bus.defer.Deferred` (never counted)."""
    unavailable: int = 0
    """Handler attempts that failed because a dependency was unavailable (never counted)."""
    pauses: int = 0
    """Times the worker paused for an unavailable dependency."""


def dead_letter_headers(msg: Msg, error: str, consumer: str) -> dict[str, str]:
    """The headers of ``msg``'s dead letter: its own, minus ``Nats-*`` controls, plus ``Beez-Dlq-*``.

    ``Nats-*`` headers steer publishing (expected stream or sequence, TTL, rollup), so copying
    them could make the DLQ publish fail or misbehave; the original ``Nats-Msg-Id`` is kept as
    ``Beez-Dlq-Original-Msg-Id`` for a replay tool.
    """
    meta = msg.metadata
    original = dict(msg.headers or {})
    out = {k: v for k, v in original.items() if not k.lower().startswith("nats-")}
    if MSG_ID in original:
        out[DLQ_ORIGINAL_MSG_ID] = original[MSG_ID]
    out.update(
        {
            DLQ_ERROR: error,
            DLQ_STREAM: meta.stream,
            DLQ_SUBJECT: msg.subject,
            DLQ_SEQUENCE: str(meta.sequence.stream),
            DLQ_DELIVERIES: str(meta.num_delivered),
            DLQ_CONSUMER: consumer,
            # the consumer is part of the id: two consumers of one stream (trigger-executions and
            # analytics-executions) dead-lettering the same message must both be stored
            MSG_ID: f"dlq:{consumer}:{meta.stream}:{meta.sequence.stream}",
        }
    )
    return out


def is_outage(exc: BaseException) -> bool:
    """Whether a handler's failure is an unavailable dependency's (and so is never counted)."""
    return not isinstance(exc, PermanentError) and is_unavailable(exc)


def describe(exc: BaseException) -> str:
    """``Type: message`` on one line, at most DLQ_ERROR_LIMIT bytes of UTF-8."""
    text = " ".join(f"{type(exc).__name__}: {exc}".split())
    raw = text.encode()
    if len(raw) <= DLQ_ERROR_LIMIT:
        return text
    return raw[: DLQ_ERROR_LIMIT - 3].decode(errors="ignore") + "..."
