"""The executor's JetStream consumers: the job queues, one durable consumer per priority.

Delivery semantics: **at least once, exactly once in effect.** A job is acked only after the
engine has committed what it did, so a crash, a timeout or a lost ack redelivers it. Redelivery
is harmless because a job is a pointer, not a command: the execution row decides what happens.
A START job inserts the execution by its id (``ON CONFLICT DO NOTHING``); TIMER, SIGNAL, RESUME
and RETRY jobs carry the token of the wait they answer, and change nothing unless the execution
still waits for exactly that token (or was woken by that very job and has not moved since); a
step attempt interrupted after its action ran is retried under the same idempotency key, which
the provider deduplicates.

Priorities: ``jobs.critical.>``, ``jobs.high.>``, ``jobs.normal.>`` and ``jobs.low.>`` each have
their own durable consumer (``executor-jobs-<priority>``) and their own handler slots, so a
backlog of low jobs never delays a critical one; see :func:`split_concurrency`.

Jobs are batched: the handlers holding them submit them to a :class:`~beez.kit.batching.Batcher`
and one transaction applies a whole batch. START jobs create their executions and run their
internal steps in memory (:meth:`Engine.start_batch`); wake-up jobs (TIMER, SIGNAL, RESUME,
RETRY) lock all their executions in one statement and run the steps they unblock
(:meth:`Engine.wake_batch`). Each handler then finishes its own job (an external action, more
steps) and acks it, so a crash anywhere still redelivers every job whose effect is not
committed. Batches are keyed by priority and a shard of the execution id: a critical job never
waits behind a batch of low ones, and two shards keep the database busy while the process
computes the next batch.

A handler running past ``job_timeout_s`` is cancelled and the attempt fails (the worker naks it
for redelivery). Undecodable jobs are dead-lettered at once on ``dlq.executor-jobs-<priority>``.

Defence in depth (docs/decisions/0018), before a job joins a batch, so a refused job runs
nothing: its body must name the organization its subject ``jobs.<priority>.<org>`` names (and
so must a ``Beez-Org-Id`` header), else it is dead-lettered at once with the reason; a START
must carry a workflow the automation service announced for its version
(:class:`~beez.executor.announcements.AnnouncedWorkflows`): another workflow is dead-lettered at
once, a version not announced yet is retried and, after the last delivery, dead-lettered.

``executor-automations`` (:class:`AutomationsConsumer`) records those announcements from
``automations.>``.
"""

from __future__ import annotations

import asyncio
import functools
import zlib
from collections.abc import Sequence

from google.protobuf.message import DecodeError
from nats.aio.msg import Msg
from nats.js import JetStreamContext

from beez.api.messages.v1 import jobs_pb2
from beez.executor.announcements import AnnouncedWorkflows
from beez.executor.engine import Continuation, Engine
from beez.kit.batching import Batcher
from beez.kit.bus.subjects import automation_change, message_org, subject_parts
from beez.kit.bus.topology import JOB_PRIORITIES, Topology
from beez.kit.bus.worker import PermanentError, PullWorker
from beez.kit.logging import get_logger

log = get_logger(__name__)

SHARDS = 2
"""Batches of one kind and priority that may be in progress at once."""

WEIGHTS = {"critical": 4, "high": 3, "normal": 2, "low": 1}
"""How the process's job concurrency is shared out between the priorities."""


def split_concurrency(total: int) -> dict[str, int]:
    """Handler slots per priority: ``total`` shared 4:3:2:1, at least one slot each.

    With the default 10 that is critical 4, high 3, normal 2, low 1. Slots are not borrowed
    across priorities: idle critical slots stay free for the next critical job.
    """
    weight_sum = sum(WEIGHTS.values())
    return {p: max(1, total * WEIGHTS[p] // weight_sum) for p in JOB_PRIORITIES}


def job_org(topology: Topology, priority: str, msg: Msg, job: jobs_pb2.Job) -> str:
    """The organization of ``job``: its subject's, which its body (and header) must name too."""
    org, rest = subject_parts(topology, f"jobs.{priority}", msg.subject)
    if rest:
        raise PermanentError(f"subject {msg.subject!r} is not jobs.{priority}.<org>")
    return message_org(org, job.organization_id, msg.headers, "job", required=True)


def decode_job(msg: Msg) -> jobs_pb2.Job:
    """The job in ``msg``; a message that cannot be a job is dead-lettered at once."""
    try:
        job = jobs_pb2.Job.FromString(msg.data)
    except DecodeError as exc:
        raise PermanentError(f"not a Job: {exc}") from exc
    if not job.execution_id or not job.organization_id:
        raise PermanentError("a job needs execution_id and organization_id")
    if job.reason == jobs_pb2.JOB_REASON_START and not job.HasField("start"):
        raise PermanentError("a START job needs its ExecutionStart")
    return job


class JobConsumers:
    """The pull workers of the four job priorities, all handing jobs to one engine.

    :meth:`beez.kit.runtime.Runtime.consumers` runs :attr:`workers`: it starts them once NATS is
    up and drains them when the server stops.
    """

    def __init__(
        self,
        js: JetStreamContext,
        topology: Topology,
        engine: Engine,
        announced: AnnouncedWorkflows,
        *,
        concurrency: int = 10,
        job_timeout: float = 300.0,
        ack_wait: float = 30.0,
        max_deliver: int = 5,
        start_batch: int = 64,
    ) -> None:
        self._engine = engine
        self._announced = announced
        self._topology = topology
        self._job_timeout = job_timeout
        self._starts: Batcher[tuple[str, int], jobs_pb2.Job, Continuation] = Batcher(
            self._start_batch, max_batch=start_batch, name="start jobs"
        )
        self._wakes: Batcher[tuple[str, int], jobs_pb2.Job, Continuation] = Batcher(
            self._wake_batch, max_batch=start_batch, name="wake-up jobs"
        )
        self.workers = [
            PullWorker(
                js,
                topology,
                stream="JOBS",
                durable=f"executor-jobs-{priority}",
                subjects=[f"jobs.{priority}.>"],
                handler=functools.partial(self.handle, priority),
                concurrency=slots,
                ack_wait=ack_wait,
                max_deliver=max_deliver,
                fetch_timeout=1.0,
            )
            for priority, slots in split_concurrency(concurrency).items()
        ]

    async def handle(self, priority: str, msg: Msg) -> None:
        """Runs one job within the job timeout; returning acks it, raising retries it."""
        job = decode_job(msg)
        job_org(self._topology, priority, msg, job)
        start = job.reason == jobs_pb2.JOB_REASON_START
        key = (priority, zlib.crc32(job.execution_id.encode()) % SHARDS)
        batcher = self._starts if start else self._wakes
        async with asyncio.timeout(self._job_timeout):
            if start:
                await self._announced.verify(job)
            continuation = await batcher.submit(key, job)
            await self._engine.continue_job(job, continuation)

    async def _start_batch(self, key: tuple[str, int], jobs: Sequence[jobs_pb2.Job]) -> list[Continuation]:
        return await self._engine.start_batch(jobs)

    async def _wake_batch(self, key: tuple[str, int], jobs: Sequence[jobs_pb2.Job]) -> list[Continuation]:
        return await self._engine.wake_batch(jobs)


class AutomationsConsumer:
    """``automations.<org>.changed`` → the announced workflow digests (durable ``executor-automations``).

    Delivery semantics: at least once, idempotent by key: a digest is recorded once per
    (organization, automation, version, digest), so a redelivery changes nothing. The
    organization is the subject's, which the body must name too; an announcement whose digest
    does not match its workflow, or without one, is dead-lettered at once. Deletions record
    nothing: executions enrolled before the deletion still start, as they did before this check.
    The consumer reads the stream from its start, so a new executor learns every version
    announced within the stream's retention (30 days).
    """

    def __init__(self, topology: Topology, announced: AnnouncedWorkflows, *, concurrency: int = 4) -> None:
        self._topology = topology
        self._announced = announced
        self._concurrency = concurrency

    async def handle(self, msg: Msg) -> None:
        org, change = automation_change(self._topology, msg.subject, msg.data, msg.headers)
        await self._announced.record(change, org)

    def workers(self, js: JetStreamContext) -> list[PullWorker]:
        """Its worker, for :meth:`beez.kit.runtime.Runtime.consumers` to run and drain."""
        worker = PullWorker(
            js,
            self._topology,
            stream="AUTOMATIONS",
            durable="executor-automations",
            subjects="automations.>",
            handler=self.handle,
            concurrency=self._concurrency,
        )
        return [worker]
