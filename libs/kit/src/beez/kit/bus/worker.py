"""A durable JetStream pull consumer that runs a handler per message, retries, and dead-letters.

See :class:`PullWorker` for the delivery semantics every consumer of the engine inherits.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Sequence

from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js import JetStreamContext, api
from opentelemetry.trace import SpanKind

from beez.kit.bus.attempts import DeliveryCounts
from beez.kit.bus.defer import Deferred
from beez.kit.bus.headers import (
    STATUS,
)
from beez.kit.bus.outcomes import (
    Backoff,
    Handler,
    PermanentError,
    WorkerStats,
    dead_letter_headers,
    describe,
    exponential_backoff,
    is_outage,
)
from beez.kit.bus.topology import Topology, ensure_consumer
from beez.kit.logging import get_logger
from beez.kit.telemetry import extracted_context, span, tracer

__all__ = ["Backoff", "Handler", "PermanentError", "PullWorker", "WorkerStats", "exponential_backoff"]

log = get_logger(__name__)
_tracer = tracer(__name__)

DESCRIPTION_HEADER = "Description"
PENDING_HEADER = "Nats-Pending-Messages"
LOST_GRACE = 2.0
"""Seconds past its expiry after which a pull request that neither delivered nor ended is lost."""


class PullWorker:
    """A durable pull consumer on one stream running ``handler`` on up to ``concurrency`` messages.

    Delivery semantics: **at least once**. A message is acked only after ``handler`` returns, so
    a crash, a lost ack or a stop that times out leads to redelivery; ``handler`` must therefore
    be idempotent, either naturally (unique keys, upserts, state machines that ignore a step
    already taken) or through the inbox (:func:`beez.kit.bus.inbox.claim`) in the same
    transaction as its effect. Nothing here deduplicates deliveries.

    * While the handler runs, ``in_progress()`` is sent every ``ack_wait / 3`` to ``ack_wait / 2``
      (one loop per worker beats for all its handlers) so the server does not redeliver a slow
      but healthy handler's message to another replica.
    * A failure is retried with ``nak(delay=backoff(n))`` up to ``max_deliver`` counted attempts.
    * A failure caused by an unavailable dependency (:func:`beez.kit.unavailable.is_unavailable`:
      PostgreSQL or NATS away, gRPC ``UNAVAILABLE``) is never counted. The worker *holds* the
      message (no ack, no nak, heartbeats go on, so the server does not deliver it again and its
      delivery count stays where it was) and *pauses*: it asks for no more messages. It then
      probes with backoff (``probe_initial`` doubling to ``probe_max``) by running the handler
      again on one held message, each probe on the next one; once one succeeds, or fails for a
      reason of its own, the dependency is back: the other held messages run again and pulling
      resumes.
    * A held message the server delivers anyway is not charged for it (:mod:`.attempts`; what a
      restart costs: docs/decisions/0028-outage-safe-consumers.md).
    * A handler raising :class:`~beez.kit.bus.defer.Deferred` is not a failure either: the worker
      keeps the message (beating its ack timer, its handler slot freed for other messages) and
      runs the handler again after the delay. The server sees no redelivery, so a deferral never
      counts as an attempt. At :meth:`stop`, a deferred message is given back with
      ``nak(delay=<the rest of its wait>)``. Deferred messages still count toward
      ``max_ack_pending``: give a consumer that defers a ``max_ack_pending`` above its
      ``concurrency`` so other messages keep flowing while some wait.
    * After the last attempt, or at once for a :class:`PermanentError`, the message is published to
      ``dlq.<durable>`` (original data and headers plus ``Beez-Dlq-*``, ``Nats-Msg-Id`` =
      ``dlq:<durable>:<stream>:<seq>`` so one consumer dead-lettering twice stores it once, while
      every consumer of a stream gets its own dead letter) and terminated only once the DLQ
      stream acknowledged it (PubAck). TERM rather than ACK: both end redelivery (and remove the
      message from a work-queue stream), but TERM records that processing did not succeed, in
      the consumer's state and as a ``MSG_TERMINATED`` advisory monitoring can count. A DLQ
      publish that fails naks the message with a delay: it comes back, goes to the DLQ without
      running the handler, and is never dropped.
    * The consumer's server-side ``max_deliver`` is unlimited (-1): the worker enforces its own
      bound, since only it can tell counted attempts from uncounted ones. When the worker died
      during the last attempt the message comes back past the bound and goes to the DLQ without
      running the handler.

    Order is not preserved across concurrent handlers or retries. :meth:`run` survives NATS
    outages (fetches time out, then resume after reconnect) and errors (logged, retried after a
    pause); it returns only after :meth:`stop`, which leaves the durable consumer in place.
    """

    def __init__(
        self,
        js: JetStreamContext,
        topology: Topology,
        *,
        stream: str,
        durable: str,
        subjects: str | Sequence[str],
        handler: Handler,
        concurrency: int = 10,
        max_deliver: int = 5,
        ack_wait: float = 30.0,
        max_ack_pending: int | None = None,
        batch: int | None = None,
        backoff: Backoff | None = None,
        heartbeat: bool = True,
        deliver_policy: api.DeliverPolicy = api.DeliverPolicy.ALL,
        fetch_timeout: float = 5.0,
        stop_timeout: float = 30.0,
        error_pause: float = 1.0,
        probe_initial: float = 0.5,
        probe_max: float = 5.0,
    ) -> None:
        """``stream`` and ``subjects`` are unprefixed names (``"JOBS"``, ``"jobs.>"``); the topology
        prefixes them. ``max_ack_pending`` defaults to ``concurrency``: the server never hands
        this consumer more messages than its handlers can hold (note that nak'd messages waiting
        for their delay count too). ``batch`` (default ``concurrency``) caps one fetch; a fetch
        never asks for more than the free handler slots, so no fetched message waits unseen
        while its ``ack_wait`` runs.
        """
        if concurrency < 1 or max_deliver < 1 or ack_wait <= 0:
            raise ValueError("concurrency and max_deliver must be >= 1 and ack_wait > 0")
        self._js = js
        self._stream = topology.stream(stream)
        self._durable = durable
        raw = [subjects] if isinstance(subjects, str) else list(subjects)
        self._subjects = [topology.subject(s) for s in raw]
        self._dlq_subject = topology.dlq(durable)
        self._handler = handler
        self._concurrency = concurrency
        self._max_deliver = max_deliver
        self._ack_wait = ack_wait
        self._max_ack_pending = max_ack_pending or concurrency
        self._batch = batch or concurrency
        self._backoff = backoff or exponential_backoff()
        self._heartbeat_interval = ack_wait / 3 if heartbeat else None
        self._deliver_policy = deliver_policy
        self._fetch_timeout = fetch_timeout
        self._stop_timeout = stop_timeout
        self._error_pause = error_pause
        self._sub: Subscription | None = None
        self._next_subject = ""
        self._low_water = max(1, self._batch // 2)
        self._outstanding = 0
        """Messages asked for by open pull requests and not delivered yet."""
        self._lost_after = 0.0
        self._wake = asyncio.Event()
        self._broken: Exception | None = None
        self._inflight: set[asyncio.Task[None]] = set()
        self._handling: dict[int, tuple[Msg, float]] = {}
        """Messages whose handler runs, by ``id``: the message and when it last reset its AckWait."""
        self._stopping = asyncio.Event()
        self._stopped = asyncio.Event()
        self._running = False
        self._probe_initial = probe_initial
        self._probe_max = max(probe_max, probe_initial)
        self._held: dict[int, Msg] = {}  # held for an unavailable dependency, by stream sequence
        self._deferring = 0
        """Messages waiting out a deferral: their handler slot is free meanwhile."""
        self._counts = DeliveryCounts()
        self._recovery: asyncio.Task[None] | None = None
        self.stats = WorkerStats()

    @property
    def durable(self) -> str:
        return self._durable

    @property
    def stream(self) -> str:
        """The server-side (prefixed) name of the stream it consumes."""
        return self._stream

    @property
    def in_flight(self) -> int:
        """Messages whose handler is running now."""
        return len(self._inflight)

    @property
    def paused(self) -> bool:
        """Whether the worker holds messages for an unavailable dependency and pulls no more."""
        return bool(self._held)

    def consumer_config(self) -> api.ConsumerConfig:
        """The durable consumer this worker declares (create-or-update) when it starts."""
        single = len(self._subjects) == 1
        return api.ConsumerConfig(
            durable_name=self._durable,
            name=self._durable,
            deliver_policy=self._deliver_policy,
            ack_policy=api.AckPolicy.EXPLICIT,
            ack_wait=self._ack_wait,
            max_deliver=-1,
            max_ack_pending=self._max_ack_pending,
            filter_subject=self._subjects[0] if single else None,
            filter_subjects=None if single else self._subjects,
        )

    async def run(self) -> None:
        """Pulls and dispatches messages until :meth:`stop`; never raises for bus trouble."""
        if self._running:
            raise RuntimeError(f"worker {self._durable} is already running")
        self._running = True
        self._stopping.clear()
        self._stopped.clear()
        stop_wait = asyncio.create_task(self._stopping.wait())
        beats = asyncio.create_task(self._heartbeats()) if self._heartbeat_interval else None
        graceful = False
        failures = 0
        try:
            while not self._stopping.is_set():
                try:
                    await self._round(stop_wait)
                    failures = 0
                    continue
                except TimeoutError as exc:
                    if self._sub is not None:
                        continue
                    error: Exception = exc  # declaring the consumer timed out: NATS is away
                except Exception as exc:
                    error = exc
                failures += 1
                log.warning("consumer error", consumer=self._durable, error=describe(error))
                await self._unsubscribe()  # re-declare and re-bind on the next round
                pause = min(self._error_pause * 2 ** (failures - 1), 10 * self._error_pause)
                await asyncio.wait({stop_wait}, timeout=pause)
            graceful = True
        finally:
            stop_wait.cancel()
            await self._shutdown(graceful)
            if beats is not None:
                beats.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await beats
            self._running = False
            self._stopped.set()

    async def stop(self, timeout: float | None = None) -> None:
        """Stops fetching, waits up to ``timeout`` (else ``stop_timeout``) for running handlers, then
        unsubscribes.

        Handlers still running after that are cancelled; their messages are not acked and the
        server redelivers them after ``ack_wait``. The durable consumer is kept.
        """
        if timeout is not None:
            self._stop_timeout = timeout
        self._stopping.set()
        if self._running:
            await self._stopped.wait()

    async def _round(self, stop_wait: asyncio.Task[bool]) -> None:
        """Binds the consumer if needed, asks for as many messages as handlers are free, then waits.

        A continuous pull: pull requests stay open for ``fetch_timeout`` and the server sends
        each message the moment it has one, so a message costs no request of its own. A new
        request goes out when the free handler slots exceed what is already asked for by half a
        batch (or by anything, when nothing is asked for). Messages arrive in
        :meth:`_on_delivery`; a request's end (expired, or refused) comes back as a status
        message naming how many of its messages it did not deliver. A request that neither
        delivers nor ends in ``fetch_timeout`` plus a grace (lost in a reconnect or a server
        restart) is written off.
        """
        nc = self._js._nc
        loop = asyncio.get_running_loop()
        if self._sub is None:
            await ensure_consumer(self._js, self._stream, self.consumer_config())
            self._next_subject = f"{self._js._prefix}.CONSUMER.MSG.NEXT.{self._stream}.{self._durable}"
            self._outstanding = 0
            self._sub = await nc.subscribe(nc.new_inbox(), cb=self._on_delivery)
        if self._broken is not None:
            broken, self._broken = self._broken, None
            raise broken
        if self._outstanding and loop.time() > self._lost_after:
            self._outstanding = 0
        busy = len(self._inflight) - self._deferring + len(self._held)
        want = 0 if self._held else min(self._concurrency - busy - self._outstanding, self._batch)
        if want > 0 and (want >= self._low_water or not self._outstanding):
            request = {"batch": want, "expires": int(self._fetch_timeout * 1e9)}
            await nc.publish(self._next_subject, json.dumps(request).encode(), reply=self._sub.subject)
            self._outstanding += want
            self._lost_after = loop.time() + self._fetch_timeout + LOST_GRACE
        self._wake.clear()
        wake = asyncio.ensure_future(self._wake.wait())
        try:
            timeout = max(0.0, self._lost_after - loop.time()) if self._outstanding else self._fetch_timeout
            await asyncio.wait({wake, stop_wait}, timeout=timeout + 0.01, return_when=asyncio.FIRST_COMPLETED)
        finally:
            wake.cancel()

    async def _on_delivery(self, msg: Msg) -> None:
        """Handles what arrives on the pull inbox: a message to process, or a request's end."""
        status = (msg.headers or {}).get(STATUS) if not msg.reply else None
        if status is None and self._stopping.is_set():
            # stop() was called: no handler starts any more; give it straight back
            with contextlib.suppress(Exception):
                await msg.nak()
            return
        if status is None:
            self._outstanding = max(0, self._outstanding - 1)
            self._lost_after = asyncio.get_running_loop().time() + self._fetch_timeout + LOST_GRACE
            if self._counts and self._rehold(msg):
                return
            task = asyncio.create_task(self._process(msg))
            self._inflight.add(task)
            task.add_done_callback(self._done)
            return
        if status == "100":  # an idle heartbeat (none are asked for)
            return
        pending = (msg.headers or {}).get(PENDING_HEADER)
        self._outstanding = max(0, self._outstanding - int(pending)) if pending else 0
        if status == "409" and "deleted" in (msg.headers or {}).get(DESCRIPTION_HEADER, "").lower():
            self._broken = RuntimeError(f"consumer {self._durable} was deleted")
        elif status == "503":  # no responders: deleted while no request was open (so no 409 came)
            self._broken = RuntimeError(f"consumer {self._durable} is gone (no responders)")
        self._wake.set()

    def _done(self, task: asyncio.Task[None]) -> None:
        self._inflight.discard(task)
        self._wake.set()

    async def _shutdown(self, graceful: bool) -> None:
        pending = set(self._inflight)
        if pending and graceful:
            _, pending = await asyncio.wait(pending, timeout=self._stop_timeout)
        for task in pending:
            task.cancel()
        if pending:
            log.warning("handlers cancelled at stop", consumer=self._durable, count=len(pending))
            await asyncio.gather(*pending, return_exceptions=True)
        await self._release_held()
        await self._unsubscribe()
        # Acks are fire-and-forget writes; push the last ones out before the caller closes.
        with contextlib.suppress(Exception):
            await self._js._nc.flush(timeout=2)

    async def _release_held(self) -> None:
        """At stop: ends the probing and gives held messages back for another replica (or restart)."""
        recovery, self._recovery = self._recovery, None
        if recovery is not None:
            recovery.cancel()
            await asyncio.gather(recovery, return_exceptions=True)
        held = list(self._held.values())
        self._held.clear()
        for msg in held:
            self._handling.pop(id(msg), None)
            with contextlib.suppress(Exception):
                await msg.nak()

    async def _unsubscribe(self) -> None:
        sub, self._sub = self._sub, None
        if sub is not None:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()

    async def _process(self, msg: Msg) -> None:
        """Runs the handler for one delivery and settles it: ack, nak with delay, or DLQ + term;
        or holds it when a dependency is unavailable."""
        try:
            attempt = self._counts.attempt(msg)
            if attempt > self._max_deliver:
                error = (
                    f"DeliveryLimitReached: delivered {msg.metadata.num_delivered} times "
                    f"({attempt} counted) without an outcome (worker stopped or crashed during the "
                    "last attempt, or dead-lettering failed)"
                )
                await self._dead_letter(msg, error)
                return
            try:
                if not await self._handle_deferring(msg):
                    return  # stop() came while it was deferred: given back
            except asyncio.CancelledError:
                raise  # stop() gave up waiting: no ack, the server redelivers after ack_wait
            except Exception as exc:
                if is_outage(exc):
                    if self._stopping.is_set():  # give it back, not counted as far as we know
                        await msg.nak()
                    else:
                        self._hold(msg, exc)
                    return
                await self._settle_failure(msg, exc)
            else:
                await msg.ack()  # its memory stays: a copy redelivered despite the ack is uncounted
                self.stats.processed += 1
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # settling failed (connection lost): the server redelivers
            log.warning("could not settle message", consumer=self._durable, error=describe(exc))

    async def _settle_failure(self, msg: Msg, exc: Exception) -> None:
        """A counted failure: nak with the backoff, or dead-letter after the last attempt."""
        self.stats.failed += 1
        attempt = self._counts.attempt(msg)
        if isinstance(exc, PermanentError) or attempt >= self._max_deliver:
            log.warning(
                "message dead-lettered",
                consumer=self._durable,
                subject=msg.subject,
                deliveries=msg.metadata.num_delivered,
                attempt=attempt,
                error=describe(exc),
            )
            await self._dead_letter(msg, describe(exc))
        else:
            delay = self._backoff(attempt)
            log.info(
                "message will be retried",
                consumer=self._durable,
                subject=msg.subject,
                deliveries=msg.metadata.num_delivered,
                attempt=attempt,
                delay=delay,
                error=describe(exc),
            )
            self._counts.released(msg)
            await msg.nak(delay=delay)

    def _hold(self, msg: Msg, exc: Exception) -> None:
        """Keeps ``msg`` unsettled (heartbeats go on) and pauses until the dependency is back."""
        self.stats.unavailable += 1
        if not self._held:
            self.stats.pauses += 1
            log.warning(
                "dependency unavailable: consumer paused",
                consumer=self._durable,
                subject=msg.subject,
                error=describe(exc),
            )
        seq = msg.metadata.sequence.stream
        self._held[seq] = msg
        self._counts.held(msg)
        self._handling[id(msg)] = (msg, asyncio.get_running_loop().time())
        if self._recovery is None or self._recovery.done():
            self._recovery = asyncio.create_task(self._recover())

    def _rehold(self, msg: Msg) -> bool:
        """A new delivery of a message held before (:meth:`.DeliveryCounts.redelivered`); True when
        it is still held: the new delivery replaces it and no handler starts for it."""
        if not self._counts.redelivered(msg):
            return False
        seq = msg.metadata.sequence.stream
        old = self._held.get(seq)
        if old is None:
            return False
        self._handling.pop(id(old), None)
        self._held[seq] = msg
        self._handling[id(msg)] = (msg, asyncio.get_running_loop().time())
        return True

    async def _recover(self) -> None:
        """Probes with backoff by running one held message's handler again; when the dependency
        answers, runs every held message again and lets pulling resume."""
        pause = self._probe_initial
        while self._held and not self._stopping.is_set():
            await asyncio.sleep(pause)
            if not self._held:
                break
            seq, msg = next(iter(self._held.items()))
            try:
                await self._handle(msg)
            except asyncio.CancelledError:
                raise
            except Deferred:
                pass  # the dependency answered: the message runs again below, deferral and all
            except Exception as exc:
                if is_outage(exc):
                    current = self._held.pop(seq, None)
                    if current is not None:  # the next probe tries another; heartbeats go on
                        self._held[seq] = current
                        self._handling[id(current)] = (current, asyncio.get_running_loop().time())
                    self.stats.unavailable += 1
                    pause = min(pause * 2, self._probe_max)
                    continue
                msg = self._held.pop(seq, msg)
                with contextlib.suppress(Exception):
                    await self._settle_failure(msg, exc)
            else:
                msg = self._held.pop(seq, msg)
                with contextlib.suppress(Exception):
                    await msg.ack()
                    self.stats.processed += 1
            break
        held = list(self._held.values())
        self._held.clear()
        if held:
            log.info("dependency back: consumer resumed", consumer=self._durable, held=len(held))
        for msg in held:
            self._handling.pop(id(msg), None)
            task = asyncio.create_task(self._process(msg))
            self._inflight.add(task)
            task.add_done_callback(self._done)
        self._wake.set()

    async def _handle_deferring(self, msg: Msg) -> bool:
        """Runs the handler, and again after each :class:`Deferred` once its delay has passed.

        False when :meth:`stop` came during a deferral: the message was given back (nak with the
        rest of its delay) and must not be settled.
        """
        while True:
            try:
                await self._handle(msg)
                return True
            except Deferred as deferral:
                self.stats.deferred += 1
                log.debug(
                    "message deferred", consumer=self._durable, subject=msg.subject, reason=deferral.reason
                )
                if not await self._wait_deferral(msg, deferral.delay):
                    return False

    async def _wait_deferral(self, msg: Msg, delay: float) -> bool:
        """Keeps ``msg`` (ack timer beaten, handler slot freed) for ``delay`` seconds; False if stopped."""
        loop = asyncio.get_running_loop()
        until = loop.time() + delay
        with contextlib.suppress(Exception):
            await msg.in_progress()
        self._handling[id(msg)] = (msg, loop.time())
        self._deferring += 1
        self._wake.set()
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=delay)
        finally:
            self._deferring -= 1
            self._handling.pop(id(msg), None)
        if not self._stopping.is_set():
            return True
        with contextlib.suppress(Exception):
            await msg.nak(delay=max(0.0, until - loop.time()))
        return False

    async def _handle(self, msg: Msg) -> None:
        self._handling[id(msg)] = (msg, asyncio.get_running_loop().time())
        try:
            with (
                extracted_context(msg.headers),
                span(
                    _tracer,
                    f"{self._durable} process",
                    kind=SpanKind.CONSUMER,
                    attributes=lambda: {
                        "messaging.system": "nats",
                        "messaging.destination.name": msg.subject,
                        "messaging.consumer.group.name": self._durable,
                    },
                ),
            ):
                await self._handler(msg)
        finally:
            self._handling.pop(id(msg), None)

    async def _heartbeats(self) -> None:
        """Resets the ack timer of every message whose handler has run for ack_wait/3 since its last reset.

        One loop for the whole worker rather than a task per message: it wakes every ack_wait/6,
        so no handler goes longer than ack_wait/2 without a beat.
        """
        assert self._heartbeat_interval is not None
        interval = self._heartbeat_interval
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(interval / 2)
            now = loop.time()
            due = [(key, msg) for key, (msg, last) in self._handling.items() if now - last >= interval]
            for key, msg in due:
                try:
                    await msg.in_progress()
                except Exception as exc:  # a missed beat costs at most a redelivery
                    log.debug("heartbeat failed", consumer=self._durable, error=describe(exc))
                if key in self._handling:
                    self._handling[key] = (msg, loop.time())

    async def _dead_letter(self, msg: Msg, error: str) -> None:
        """Publishes the dead letter and terminates ``msg`` once the DLQ stream stored it (PubAck);
        when the publish fails the message is nak'd with a delay and comes back, never dropped."""
        meta = msg.metadata
        try:
            await self._js.publish(
                self._dlq_subject, msg.data, headers=dead_letter_headers(msg, error, self._durable)
            )
        except Exception as exc:
            delay = self._backoff(max(1, self._counts.attempt(msg)))
            log.error(
                "dead-lettering failed; the message is kept",
                consumer=self._durable,
                subject=msg.subject,
                deliveries=meta.num_delivered,
                retry_in=delay,
                error=describe(exc),
            )
            await msg.nak(delay=delay)
            return
        await msg.term()
        self._counts.forget(msg)
        self.stats.dead_lettered += 1
