"""The trigger's JetStream consumers: events in, automation changes, wait registrations, lifecycle.

Every consumer is a durable :class:`~beez.kit.bus.worker.PullWorker`: at-least-once delivery,
explicit ack after the handler's transaction commits, bounded redelivery, and a dead letter on
``dlq.<durable>`` for a message that can never be handled (raised as
:class:`~beez.kit.bus.worker.PermanentError`). Each handler is idempotent by a key, written in
its docstring, so a redelivery changes nothing. Organizations come from the subject, never from
a body alone.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Mapping, Sequence

from google.protobuf.message import DecodeError
from nats.aio.msg import Msg
from nats.js import JetStreamContext

from beez.api.messages.v1.events_pb2 import Event
from beez.api.messages.v1.lifecycle_pb2 import ExecutionEvent, WaitRegistration
from beez.kit.batching import Batcher
from beez.kit.bus.headers import CONTENT_TYPE, MSG_ID, ORG_ID, PROTOBUF_CONTENT_TYPE
from beez.kit.bus.inbox import message_id
from beez.kit.bus.lifecycle import WorkersFactory
from beez.kit.bus.subjects import automation_change, message_org, same_org, subject_parts
from beez.kit.bus.topology import EXECUTION_OUTCOME_SUBJECTS, Topology
from beez.kit.bus.worker import Handler, PermanentError, PullWorker
from beez.kit.clock import Clock
from beez.kit.db import Database
from beez.kit.grpc.errors import InvalidArgument
from beez.trigger import service
from beez.trigger.commands import CommandsConsumer
from beez.trigger.config import TriggerSettings
from beez.trigger.credits import StartCredits
from beez.trigger.domain.index import InvalidChange
from beez.trigger.domain.waits import InvalidRegistration
from beez.trigger.ingest import Ingested, Ingestor
from beez.trigger.limits import IngestLimit
from beez.workflow.context import event_from_json
from beez.workflow.errors import WorkflowError


def decode_event(data: bytes, headers: Mapping[str, str]) -> Event:
    """An event from protobuf bytes or from its JSON (either spelling of field names).

    The ``Content-Type`` decides when it is given; an unlabelled payload is read as JSON when it
    is a JSON object, else as protobuf (a serialized Event never starts with ``{``, but may start
    with a newline, so sniffing alone is not enough).
    """
    content_type = headers.get(CONTENT_TYPE, "")
    try:
        if content_type.startswith(PROTOBUF_CONTENT_TYPE):
            return Event.FromString(data)
        if content_type.startswith("application/json"):
            return event_from_json(data)
        if data.lstrip()[:1] == b"{":
            try:
                return event_from_json(data)
            except WorkflowError as exc:
                try:
                    return Event.FromString(data)
                except DecodeError:
                    raise exc from None
        return Event.FromString(data)
    except (DecodeError, WorkflowError) as exc:
        raise PermanentError(f"undecodable event: {exc}") from exc


class EventsConsumer:
    """``events.<org>.<type>`` → ingestion (durable ``trigger-events``).

    The organization is the subject's: the body's ``organizationId`` is overwritten, as over
    gRPC, and a ``Beez-Org-Id`` header naming another organization is refused. The type is the
    subject's when the body has none and must agree with it otherwise. Protobuf and JSON
    payloads are both read (see :func:`decode_event`). An event without an id takes the
    message's ``Nats-Msg-Id`` or, lacking one, its stream position, so every delivery of one
    message is the same event.

    Idempotent by ``(org, event id)``: the first delivery records the event and does its work
    in one transaction; a redelivery (or the same event already published over gRPC) finds the
    id and does nothing. Events handled at the same time share one ingestion, whatever their
    organization (a :class:`~beez.kit.batching.Batcher` keyed by a hash of the organization into
    ``shards``: an organization always lands in the same shard and a shard's batches never
    overlap, so two batches never hold one organization's rows and never deadlock one another);
    each message is acked only once its own event is committed. Invalid events are
    dead-lettered at once.

    With ``limit``, an organization over its ingestion rate has its event delayed, never dropped
    (:mod:`beez.trigger.limits`): given ``overflow`` (the main consumer), the event is set aside
    on ``overflow.events.<org>.<type>`` under the message id ``<org>:<event id>`` (a re-sent
    copy is dropped by the stream's duplicate window, a late one by the event's id) and acked;
    without it (the ``trigger-overflow`` consumer, ``root`` ``overflow.events``), it is deferred
    (:class:`~beez.kit.bus.defer.Deferred`).
    """

    def __init__(
        self,
        ingestor: Ingestor,
        topology: Topology,
        *,
        batch_max: int,
        shards: int = 2,
        limit: IngestLimit | None = None,
        overflow: JetStreamContext | None = None,
        root: str = "events",
    ) -> None:
        self._ingestor = ingestor
        self._limit = limit
        self._overflow = overflow
        self._root = root
        self._shards = shards
        self._batcher: Batcher[int, tuple[str, Event], Ingested] = Batcher(
            lambda _, items: ingestor.ingest_many(items), max_batch=batch_max, name="events"
        )
        self._topology = topology

    async def handle(self, msg: Msg) -> None:
        org, subject_type = subject_parts(self._topology, self._root, msg.subject)
        headers = msg.headers or {}
        same_org(org, headers.get(ORG_ID, ""), "event")
        event = decode_event(msg.data, headers)
        if not event.type:
            event.type = subject_type
        elif event.type != subject_type:
            raise PermanentError(f"event of type {event.type!r} published on {msg.subject!r}")
        if not event.id:
            event.id = message_id(msg)
        try:
            prepared = self._ingestor.prepare(org, [event], ["event"])
        except InvalidArgument as exc:
            problems = "; ".join(
                f"{violation.field}: {violation.description}" for violation in exc.violations
            )
            raise PermanentError(f"invalid event: {problems}") from exc
        if self._limit is not None:
            if self._overflow is None:
                await self._limit.admit(org)
            elif await self._limit.wait_for(org) is not None:
                await self._set_aside(self._overflow, msg, org, event)
                return
        await self._batcher.submit(zlib.crc32(org.encode()) % self._shards, (org, prepared[0]))

    async def _set_aside(self, js: JetStreamContext, msg: Msg, org: str, event: Event) -> None:
        """Publishes ``event`` (its id and type filled in) on the OVERFLOW stream; returns once
        the stream stored it, so the original may be acked."""
        headers = {
            **(msg.headers or {}),
            MSG_ID: f"{org}:{event.id}",
            CONTENT_TYPE: PROTOBUF_CONTENT_TYPE,
        }
        await js.publish(self._topology.overflow(org, event.type), event.SerializeToString(), headers=headers)


class AutomationsConsumer:
    """``automations.<org>.changed`` → the automation index (durable ``trigger-automations``).

    Idempotent by revision: an upsert applies only when the message's revision is newer than
    the row's, so redelivered and out-of-order messages change nothing. No inbox is needed. The
    same transaction replaces a time-based trigger's pending fires (decision 0038).
    """

    def __init__(
        self, db: Database, clock: Clock, topology: Topology, min_schedule_interval_s: float = 60.0
    ) -> None:
        self._db = db
        self._clock = clock
        self._topology = topology
        self._min_interval_s = min_schedule_interval_s

    async def handle(self, msg: Msg) -> None:
        org, change = automation_change(self._topology, msg.subject, msg.data, msg.headers)
        try:
            await service.apply_automation_change(
                self._db, self._clock, change, org, min_schedule_interval_s=self._min_interval_s
            )
        except InvalidChange as exc:
            raise PermanentError(str(exc)) from exc


class WaitsConsumer:
    """``waits.<org>.<kind>`` → wait registrations and cancellations (durable ``trigger-waits``).

    Idempotent by wait id: a registration never overwrites an existing row, and a cancellation
    leaves a closed tombstone, so a registration redelivered (or arriving late, after its
    cancellation or its execution's end) stays closed.
    """

    def __init__(self, db: Database, clock: Clock, topology: Topology) -> None:
        self._db = db
        self._clock = clock
        self._topology = topology

    async def handle(self, msg: Msg) -> None:
        org, _ = subject_parts(self._topology, "waits", msg.subject)
        try:
            registration = WaitRegistration.FromString(msg.data)
        except DecodeError as exc:
            raise PermanentError(f"undecodable WaitRegistration: {exc}") from exc
        org = message_org(org, registration.organization_id, msg.headers, "wait registration")
        try:
            await service.apply_wait_registration(self._db, self._clock, registration, org)
        except InvalidRegistration as exc:
            raise PermanentError(str(exc)) from exc


class ExecutionsConsumer:
    """``executions.<org>.<event>`` → slots, enrollments and waits (durable ``trigger-executions``).

    On completed, failed or cancelled: frees the execution's concurrency slots, marks its
    enrollment ended and closes its waits, and publishes ``automation.completed`` through the
    outbox when an automation of the organization listens to it; on started: drops the start
    payload the enrollment kept. Other kinds are acknowledged untouched. The organization is the
    subject's (a body or header naming another is dead-lettered) and every statement is confined
    to it, so an event
    published under one organization never touches another's enrollments, waits or slots.
    Idempotent by execution id: every effect is a delete or a guarded update that finds nothing
    to do the second time, so no inbox row per lifecycle message is needed.

    Handlers running at once submit their decoded event to a :class:`~beez.kit.batching.Batcher`
    and each message is acked once its batch committed: one transaction of at most five set-based
    statements per batch instead of one transaction per event. The batch key is a shard of the
    execution id (``crc32(id) % shards``), not the organization: lifecycle events need nothing
    per organization, so one key per shard lets every event in flight join a batch, and the
    started and ended events of one execution always share a key, so they are never applied by
    two batches of one replica at once; in one batch they merge (see
    :func:`~beez.trigger.service.merge`). Batches of other shards and replicas may still touch
    the same executions (a redelivery, a started and a completed on two replicas); the lock
    order of :meth:`~beez.trigger.repository.Repository.apply_lifecycle` makes them wait for
    each other instead of deadlocking.
    """

    def __init__(
        self,
        db: Database,
        clock: Clock,
        topology: Topology,
        *,
        batch_max: int,
        shards: int,
        linger: float = 0.0,
        credits: StartCredits | None = None,
    ) -> None:
        """``credits``: dispatch what the batch's organizations held back for their start
        credit as far as the starts and ends give credit back (decision 0039)."""
        self._topology = topology
        self._shards = shards
        self._batcher: Batcher[int, service.Lifecycle, None] = Batcher(
            lambda _, batch: service.apply_lifecycle(db, clock, batch, credits, topology),
            max_batch=batch_max,
            name="lifecycle",
            linger=linger,
        )

    @property
    def batches(self) -> int:
        """How many batches (transactions) have applied lifecycle events so far."""
        return self._batcher.batches

    async def handle(self, msg: Msg) -> None:
        org, _ = subject_parts(self._topology, "executions", msg.subject)
        try:
            event = ExecutionEvent.FromString(msg.data)
        except DecodeError as exc:
            raise PermanentError(f"undecodable ExecutionEvent: {exc}") from exc
        org = message_org(org, event.organization_id, msg.headers, "execution event")
        change = service.lifecycle(event, org)
        if change is not None:
            shard = zlib.crc32(change.execution_id.encode()) % self._shards
            await self._batcher.submit(shard, change)


def worker_factories(
    topology: Topology,
    settings: TriggerSettings,
    db: Database,
    clock: Clock,
    ingestor: Ingestor,
    ingest_limit: IngestLimit | None = None,
    credits: StartCredits | None = None,
) -> dict[str, WorkersFactory]:
    """The trigger's six durable consumers, by durable name, each run by :meth:`Runtime.consumers`;
    events over ``ingest_limit`` wait on the OVERFLOW stream; lifecycle batches release what
    organizations held back for ``credits`` (decision 0039)."""

    def factory(
        stream: str,
        durable: str,
        subjects: str | Sequence[str],
        handler: Callable[[JetStreamContext], Handler],
        concurrency: int,
        max_ack_pending: int | None = None,
    ) -> WorkersFactory:
        def build(js: JetStreamContext) -> list[PullWorker]:
            worker = PullWorker(
                js,
                topology,
                stream=stream,
                durable=durable,
                subjects=subjects,
                handler=handler(js),
                concurrency=concurrency,
                max_ack_pending=max_ack_pending,
                max_deliver=settings.consumer_max_deliver,
                ack_wait=settings.consumer_ack_wait_s,
            )
            return [worker]

        return build

    def events(overflow: JetStreamContext | None, root: str) -> Handler:
        return EventsConsumer(
            ingestor,
            topology,
            batch_max=settings.events_batch_max,
            shards=settings.events_batch_shards,
            limit=ingest_limit,
            overflow=overflow,
            root=root,
        ).handle

    specs = [
        factory(
            "EVENTS",
            "trigger-events",
            "events.>",
            lambda js: events(js, "events"),
            settings.events_concurrency,
            settings.events_max_ack_pending or 4 * settings.events_concurrency,
        ),
        factory(
            "OVERFLOW",
            "trigger-overflow",
            "overflow.events.>",
            lambda _: events(None, "overflow.events"),
            settings.overflow_concurrency,
            2 * settings.overflow_concurrency,
        ),
        factory(
            "AUTOMATIONS",
            "trigger-automations",
            "automations.>",
            lambda _: AutomationsConsumer(db, clock, topology, settings.schedule_min_interval_s).handle,
            settings.automations_concurrency,
        ),
        factory(
            "WAITS",
            "trigger-waits",
            "waits.>",
            lambda _: WaitsConsumer(db, clock, topology).handle,
            settings.waits_concurrency,
        ),
        factory(
            "EXECUTIONS",
            "trigger-executions",
            EXECUTION_OUTCOME_SUBJECTS,
            lambda _: (
                ExecutionsConsumer(
                    db,
                    clock,
                    topology,
                    batch_max=settings.executions_batch_max,
                    linger=settings.executions_linger_s,
                    shards=settings.executions_batch_shards,
                    credits=credits,
                ).handle
            ),
            settings.executions_concurrency,
        ),
        factory(
            "COMMANDS",
            "trigger-commands",
            "platform.commands.>",
            lambda _: CommandsConsumer(ingestor, topology, clock).handle,
            settings.commands_concurrency,
        ),
    ]
    return dict(zip(DURABLES, specs, strict=True))


DURABLES = (
    "trigger-events",
    "trigger-overflow",
    "trigger-automations",
    "trigger-waits",
    "trigger-executions",
    "trigger-commands",
)
