"""The durable consumer of the execution lifecycle (``executions.>``) that feeds the stats."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta

from google.protobuf.message import DecodeError
from nats.aio.msg import Msg
from nats.js import JetStreamContext

from beez.analytics.domain.counting import BadEvent, LifecycleEvent
from beez.analytics.service import AnalyticsService
from beez.api.messages.v1.lifecycle_pb2 import ExecutionEvent
from beez.kit.batching import Batcher
from beez.kit.bus.inbox import message_id
from beez.kit.bus.subjects import message_org, subject_parts
from beez.kit.bus.topology import EXECUTION_OUTCOME_SUBJECTS, Topology
from beez.kit.bus.worker import PermanentError, PullWorker
from beez.kit.logging import get_logger

log = get_logger(__name__)

DURABLE = "analytics-executions"
"""The durable consumer's name on the EXECUTIONS stream (and its inbox and DLQ name)."""

PURGE_EVERY_S = 3600.0


def message_key(msg: Msg, event: ExecutionEvent) -> str:
    """What the inbox remembers: the event's own id, else the message's id.

    The event id, not ``Nats-Msg-Id``: the executor may publish one event again under another
    message id (an outbox row written twice), and it must still count once.
    """
    return f"event:{event.id}" if event.id else message_id(msg)


class ExecutionEventsConsumer:
    """Applies ``ExecutionEvent`` messages from ``executions.>`` to the stats, in batches.

    Delivery semantics: at-least-once delivery (a :class:`PullWorker`), exactly-once effect. The
    message's key is claimed in the inbox in the same transaction as the counters change, and
    the counting is idempotent per execution on top of that (see :mod:`beez.analytics.service`).
    Undecodable messages and events without their ids are dead-lettered at once
    (``dlq.analytics-executions``); database trouble is retried by redelivery. The organization
    is the subject's (``executions.<org>.<kind>``): a body or ``Beez-Org-Id`` header naming
    another is dead-lettered at once, counting nothing.

    Each handler decodes and validates its message, then submits the event to a :class:`Batcher`
    and is acked once the transaction holding it commits: up to ``max_batch`` events per
    transaction. A batch that fails is retried event by event, so an event the database refuses
    fails (and in the end is dead-lettered) alone.

    All events share one batch key, so per process one batch runs at a time: batches stay as
    large as the traffic allows, and two batches of this process never wait on each other's rows.
    Batches of other replicas may run at once; the repository touches rows in sorted key order,
    so those wait for one another and never deadlock. Per-organization keys would run batches in
    parallel, but smaller ones, which costs more per event, and per event is what matters here.
    """

    def __init__(
        self,
        topology: Topology,
        service: AnalyticsService,
        *,
        concurrency: int,
        max_batch: int,
        linger: float = 0.0,
    ) -> None:
        self._topology = topology
        self._service = service
        self._concurrency = concurrency
        self.batcher: Batcher[str, LifecycleEvent, bool] = Batcher(
            self._record, max_batch=max_batch, name=DURABLE, linger=linger
        )

    async def handle(self, msg: Msg) -> None:
        """Applies one message's event; raises PermanentError for one that can never apply."""
        try:
            event = ExecutionEvent.FromString(msg.data)
        except DecodeError as exc:
            raise PermanentError(f"not an ExecutionEvent: {exc}") from exc
        org_id, _ = subject_parts(self._topology, "executions", msg.subject)
        message_org(org_id, event.organization_id, msg.headers, "execution event")
        try:
            prepared = self._service.prepare(message_key(msg, event), org_id, event)
        except BadEvent as exc:
            raise PermanentError(str(exc)) from exc
        if prepared is not None:
            await self.batcher.submit(DURABLE, prepared)

    async def _record(self, _key: str, events: Sequence[LifecycleEvent]) -> list[bool]:
        return await self._service.record_batch(DURABLE, events)

    def workers(self, js: JetStreamContext) -> list[PullWorker]:
        """The consumer's worker, for :meth:`beez.kit.runtime.Runtime.consumers` to run and drain."""
        worker = PullWorker(
            js,
            self._topology,
            stream="EXECUTIONS",
            durable=DURABLE,
            subjects=EXECUTION_OUTCOME_SUBJECTS,
            handler=self.handle,
            concurrency=self._concurrency,
        )
        return [worker]


def inbox_purger(service: AnalyticsService, retention: timedelta) -> Callable[[], Awaitable[None]]:
    """A background loop forgetting inbox entries older than ``retention``, hourly."""

    async def purge() -> None:
        while True:
            try:
                removed = await service.purge_inbox(retention)
            except Exception as exc:  # the database is away; try again next round
                log.warning("inbox purge failed", error=repr(exc))
            else:
                if removed:
                    log.info("inbox purged", removed=removed)
            await asyncio.sleep(PURGE_EVERY_S)

    return purge
