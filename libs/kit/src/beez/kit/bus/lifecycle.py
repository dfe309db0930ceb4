"""How every service runs its durable consumers: start once NATS is up, drain on SIGTERM, stop.

A service's consumers are background loops of its server (:class:`beez.kit.grpc.server.Server`),
made by :meth:`beez.kit.runtime.Runtime.consumers`. The loop waits for NATS, builds the
service's :class:`~beez.kit.bus.worker.PullWorker` s and runs them. On SIGTERM the server drains
its RPCs and then cancels its background loops; the loop then stops its workers gracefully, all
at once: they fetch nothing more, give back what still arrives, and let the handlers in flight
commit and ack for up to ``drain_s``, so a deploy leaves no message waiting out its ``ack_wait``
before another replica gets it. Handlers still running after that are cancelled, unacked, and
their messages are redelivered. The durable consumers stay on the server.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from nats.js import JetStreamContext

from beez.kit.bus.worker import PullWorker

WorkersFactory = Callable[[JetStreamContext], Sequence[PullWorker]]
"""Builds a consumer loop's workers once JetStream is connected."""


async def run_workers(workers: Sequence[PullWorker], *, drain_s: float) -> None:
    """Runs ``workers`` until cancelled (or until one fails), then drains and stops every one of them.

    Returns, or re-raises the cancellation or the failure, only once all of them have stopped,
    so a loop restarted after a failure never runs beside its predecessor's workers.
    """
    running = asyncio.gather(*(worker.run() for worker in workers))
    try:
        await asyncio.shield(running)
    finally:
        await asyncio.gather(*(worker.stop(timeout=drain_s) for worker in workers), return_exceptions=True)
        await asyncio.gather(running, return_exceptions=True)
