"""Group work that arrives concurrently into fewer transactions.

Consumers run many handlers at once, each holding one message. When every handler opens its own
transaction, the stack pays a commit (an fsync), a connection checkout and a dozen statements
per message. A :class:`Batcher` lets each handler submit its item and wait for its own outcome,
while one task per key processes whatever has gathered as one batch: an idle key is served at
once, a busy one in batches of up to ``max_batch``.

Guarantees:

* Per key at most one batch runs at a time, so batches of one key never deadlock one another.
* A batch that raises is retried one item at a time, so one item that keeps failing (a poison
  message on its way to the dead-letter queue) never takes the others of its batch with it.
  ``process`` must therefore be all-or-nothing per call: one transaction, rolled back on error.
* Each submitter gets exactly its own outcome or exception; cancelling the processing task
  cancels the futures of the items it held, so their messages are redelivered.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Generic, TypeVar

from beez.kit.logging import get_logger

log = get_logger(__name__)

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")
R = TypeVar("R")

Process = Callable[[K, Sequence[T]], Awaitable[Sequence[R]]]
"""Processes one batch of one key, all or nothing; returns one outcome per item, in order."""


class Batcher(Generic[K, T, R]):
    """Collects items submitted concurrently per key and processes them in batches."""

    def __init__(
        self, process: Process[K, T, R], *, max_batch: int, name: str = "batch", linger: float = 0.0
    ) -> None:
        """``linger``: seconds an idle key waits after its first item for others to join it.

        For work off the latency path (bookkeeping consumers) a few milliseconds turn a trickle
        of one-item transactions into a few larger ones; 0 serves an idle key at once. The wait
        ends early once ``max_batch`` items have gathered, so a long linger never holds back a
        busy key (whose submitters, a consumer's handler slots, would otherwise sit idle).
        """
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        if linger < 0:
            raise ValueError("linger must not be negative")
        self._process = process
        self._max_batch = max_batch
        self._linger = linger
        self._name = name
        self._queues: dict[K, list[tuple[T, asyncio.Future[R]]]] = {}
        self._running: set[K] = set()
        self._full: dict[K, asyncio.Event] = {}
        """Set when a lingering key's queue reaches ``max_batch``."""
        self._tasks: set[asyncio.Task[None]] = set()
        self.batches = 0
        """How many batches ran (retries of a failed batch item by item included)."""

    async def submit(self, key: K, item: T) -> R:
        """Processes ``item`` in a batch of ``key``; returns its outcome or raises its error."""
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        queue = self._queues.setdefault(key, [])
        queue.append((item, future))
        if len(queue) >= self._max_batch and (full := self._full.get(key)) is not None:
            full.set()
        if key not in self._running:
            self._running.add(key)
            task = asyncio.create_task(self._drain(key))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return await future

    async def _drain(self, key: K) -> None:
        try:
            await asyncio.sleep(0)  # let handlers started by the same fetch join the first batch
            if self._linger and len(self._queues.get(key, ())) < self._max_batch:
                full = self._full[key] = asyncio.Event()
                try:
                    await asyncio.wait_for(full.wait(), self._linger)
                except TimeoutError:
                    pass
                finally:
                    self._full.pop(key, None)
            while queue := self._queues.get(key):
                batch, self._queues[key] = queue[: self._max_batch], queue[self._max_batch :]
                await self._run(key, batch)
        except BaseException:
            for _, future in self._queues.pop(key, []):
                future.cancel()
            raise
        finally:
            self._running.discard(key)
            if not self._queues.get(key):
                self._queues.pop(key, None)

    async def _run(self, key: K, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        self.batches += 1
        try:
            outcomes = await self._process(key, [item for item, _ in batch])
        except asyncio.CancelledError:
            for _, future in batch:
                future.cancel()
            raise
        except Exception as exc:
            if len(batch) == 1:
                _settle(batch[0][1], exc)
                return
            log.warning("batch failed; retrying its items one by one", batcher=self._name, error=repr(exc))
            for entry in batch:
                await self._run(key, [entry])
            return
        if len(outcomes) != len(batch):
            error = RuntimeError(f"{self._name}: {len(outcomes)} outcomes for {len(batch)} items")
            for _, future in batch:
                _settle(future, error)
            return
        for (_, future), outcome in zip(batch, outcomes, strict=True):
            if not future.done():
                future.set_result(outcome)


def _settle(future: asyncio.Future[R], exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)
