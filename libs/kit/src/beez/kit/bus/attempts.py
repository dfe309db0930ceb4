"""Which deliveries of a message count as attempts, when a worker holds messages through an outage.

The server counts every delivery. A worker that holds a message while a dependency is away (decision
0028) may see it delivered again anyway (its heartbeats were lost while NATS was away, or ack_wait
passed): those extra deliveries are the outage's, not the handler's. :class:`DeliveryCounts`
remembers, per stream sequence, the delivery a message was last held at and how many deliveries
must not count, so ``attempt = num_delivered - uncounted``. The memory is per process and bounded
(the oldest entries are forgotten first).
"""

from __future__ import annotations

from collections import OrderedDict

from nats.aio.msg import Msg

UNCOUNTED_MEMORY = 10_000
"""Messages whose uncounted deliveries a worker remembers (the oldest are forgotten first)."""


class DeliveryCounts:
    """Held messages' deliveries, and the attempt each delivery counts as."""

    def __init__(self, memory: int = UNCOUNTED_MEMORY) -> None:
        self._memory = memory
        self._uncounted: OrderedDict[int, int] = OrderedDict()
        """Stream sequence -> deliveries that must not count as attempts."""
        self._holds: OrderedDict[int, int] = OrderedDict()
        """Stream sequence -> the delivery it was last held at, until the worker settles it: a
        later delivery of it that the worker did not cause by a nak comes from a lost hold."""

    def __bool__(self) -> bool:
        """Whether any message is remembered as held."""
        return bool(self._holds)

    def attempt(self, msg: Msg) -> int:
        """The counted attempt this delivery is: deliveries so far minus the uncounted ones."""
        meta = msg.metadata
        return meta.num_delivered - self._uncounted.get(meta.sequence.stream, 0)

    def held(self, msg: Msg) -> None:
        """``msg`` is held at this delivery."""
        self._remember(self._holds, msg.metadata.sequence.stream, msg.metadata.num_delivered)

    def released(self, msg: Msg) -> None:
        """``msg`` is given back with a nak: its next delivery is the worker's doing, and counts."""
        self._holds.pop(msg.metadata.sequence.stream, None)

    def redelivered(self, msg: Msg) -> bool:
        """Accounts for a new delivery of a message held before: the deliveries since the hold are
        uncounted. False when the message was not held."""
        meta = msg.metadata
        seq = meta.sequence.stream
        held_at = self._holds.get(seq)
        if held_at is None:
            return False
        extra = max(0, meta.num_delivered - held_at)
        self._remember(self._uncounted, seq, self._uncounted.get(seq, 0) + extra)
        self._remember(self._holds, seq, meta.num_delivered)
        return True

    def forget(self, msg: Msg) -> None:
        """``msg`` is settled for good: nothing about it needs remembering."""
        seq = msg.metadata.sequence.stream
        self._uncounted.pop(seq, None)
        self._holds.pop(seq, None)

    def _remember(self, memory: OrderedDict[int, int], seq: int, value: int) -> None:
        memory[seq] = value
        memory.move_to_end(seq)
        while len(memory) > self._memory:
            memory.popitem(last=False)
