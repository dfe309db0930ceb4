"""The JetStream topology: every stream, its subjects, and how names are formed.

All services declare the same streams at start (:func:`ensure_streams`), so no service depends on
another having started first. Names go through a :class:`Topology`, whose optional prefix lets the
test suite (and, if ever needed, several environments on one server) run fully isolated: with
prefix ``t1`` the subject ``events.acme.signup`` becomes ``t1.events.acme.signup`` and the stream
``EVENTS`` becomes ``T1_EVENTS`` (stream names cannot contain dots).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal

from nats.js import JetStreamContext, api
from nats.js.errors import BadRequestError
from pydantic import BaseModel, ConfigDict, Field

from beez.api.messages.v1.jobs_pb2 import JobPriority
from beez.kit.logging import get_logger

log = get_logger(__name__)

DEFAULT_DUPLICATE_WINDOW = timedelta(minutes=2)
"""How long a stream remembers ``Nats-Msg-Id`` values to drop re-sends (the server's default too)."""

JOB_PRIORITIES = ("critical", "high", "normal", "low")
"""The priority token of ``jobs.<priority>.<org>``, most urgent first."""

PRIORITY_NAMES: dict[JobPriority, str] = {
    JobPriority.JOB_PRIORITY_CRITICAL: "critical",
    JobPriority.JOB_PRIORITY_HIGH: "high",
    JobPriority.JOB_PRIORITY_NORMAL: "normal",
    JobPriority.JOB_PRIORITY_LOW: "low",
}
"""The subject token of each ``JobPriority``; ``UNSPECIFIED`` has none."""

PRIORITY_VALUES: dict[str, JobPriority] = {name: value for value, name in PRIORITY_NAMES.items()}
"""The ``JobPriority`` a subject token names."""


def priority_name(value: JobPriority) -> str:
    """The subject token of ``value``; ``""`` for ``UNSPECIFIED`` (or a value this build does not know)."""
    return PRIORITY_NAMES.get(value, "")


_UNSPECIFIED = JobPriority.JOB_PRIORITY_UNSPECIFIED  # looked up once: the enum wrapper's getattr is slow


def priority_value(name: str) -> JobPriority:
    """The ``JobPriority`` named ``name``; ``UNSPECIFIED`` for anything else."""
    return PRIORITY_VALUES.get(name, _UNSPECIFIED)


EXECUTION_OUTCOME_SUBJECTS = (
    "executions.*.started",
    "executions.*.completed",
    "executions.*.failed",
    "executions.*.cancelled",
)
"""The lifecycle subjects that begin or end an execution: consumers that count executions or free
what they hold filter on these (NATS 2.10 ``filter_subjects``) and never see the step events."""

STREAM_NAME_IN_USE = 10058
"""JetStream error code: a stream of that name exists with a different configuration."""


@dataclass(frozen=True)
class StreamSpec:
    """One stream, described with unprefixed names; :meth:`Topology.stream_config` applies a prefix.

    Every stream gets a duplicate window, not only those fed by outside publishers: each service
    publishes through its outbox relay, which may re-send after a crash and relies on the window
    to drop the copy.
    """

    name: str
    subjects: tuple[str, ...]
    description: str
    retention: api.RetentionPolicy = api.RetentionPolicy.LIMITS
    max_age: timedelta | None = None
    duplicate_window: timedelta = DEFAULT_DUPLICATE_WINDOW
    storage: api.StorageType = field(default=api.StorageType.FILE)


EVENTS = StreamSpec(
    "EVENTS",
    ("events.>",),
    "Business events in: events.<org>.<type>; Nats-Msg-Id is the event id.",
    max_age=timedelta(days=7),
)
OVERFLOW = StreamSpec(
    "OVERFLOW",
    ("overflow.events.>",),
    "Events over their organization's ingestion limit, set aside: overflow.events.<org>.<type>.",
    retention=api.RetentionPolicy.WORK_QUEUE,
)
JOBS = StreamSpec(
    "JOBS",
    ("jobs.>",),
    "Execution jobs: jobs.<priority>.<org>; a job points at state kept in PostgreSQL.",
    retention=api.RetentionPolicy.WORK_QUEUE,
)
EXECUTIONS = StreamSpec(
    "EXECUTIONS",
    ("executions.>",),
    "Execution lifecycle: executions.<org>.<event>.",
    max_age=timedelta(days=7),
)
AUTOMATIONS = StreamSpec(
    "AUTOMATIONS",
    ("automations.>",),
    "Automation definitions changed: automations.<org>.changed.",
    max_age=timedelta(days=30),
)
COMMANDS = StreamSpec(
    "COMMANDS",
    ("platform.commands.>",),
    "Changes to things other modules own: platform.commands.<org>.<verb>.",
    max_age=timedelta(days=7),
)
WAITS = StreamSpec(
    "WAITS",
    ("waits.>",),
    "Wait registrations: waits.<org>.<kind>.",
    max_age=timedelta(days=30),
)
DLQ = StreamSpec(
    "DLQ",
    ("dlq.>",),
    "Dead letters: dlq.<consumer>, the original data and headers plus Beez-Dlq-* headers.",
    max_age=timedelta(days=30),
)

STREAMS: tuple[StreamSpec, ...] = (EVENTS, OVERFLOW, JOBS, EXECUTIONS, AUTOMATIONS, COMMANDS, WAITS, DLQ)
"""Every stream of the engine."""

MiB = 1024 * 1024


class StreamLimits(BaseModel):
    """How large one stream may grow and how many copies the cluster keeps (decision 0027).

    ``max_bytes`` -1 is unbounded; ``max_age_s`` None keeps the stream's own retention (its
    :class:`StreamSpec`), 0 keeps messages forever. ``discard`` ``new`` refuses a publish once the
    stream is full (the publisher gets JetStream error 10077, "maximum bytes exceeded", and an
    outbox keeps the row and retries); ``old`` drops the oldest messages instead, silently, so
    it suits only streams whose old messages nobody needs any more.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    replicas: int = Field(default=1, ge=1, le=5)
    max_bytes: int = Field(default=-1, ge=-1)
    max_age_s: float | None = Field(default=None, ge=0)
    discard: Literal["old", "new"] = "new"


DEFAULT_STREAM_LIMITS: dict[str, StreamLimits] = {
    "EVENTS": StreamLimits(max_bytes=256 * MiB),
    "OVERFLOW": StreamLimits(max_bytes=256 * MiB),
    "JOBS": StreamLimits(max_bytes=256 * MiB),
    "EXECUTIONS": StreamLimits(max_bytes=256 * MiB),
    "AUTOMATIONS": StreamLimits(max_bytes=64 * MiB),
    "COMMANDS": StreamLimits(max_bytes=64 * MiB),
    "WAITS": StreamLimits(max_bytes=64 * MiB),
    "DLQ": StreamLimits(max_bytes=64 * MiB),
}
"""Development limits: one replica, a few hundred MiB, a full stream refuses new messages.
The server reserves each stream's ``max_bytes`` at creation, so these stay small enough for a
laptop (and for the test suite's many prefixes on one server); production sets its own
(``BEEZ_STREAMS``, deploy/k8s)."""


def stream_limits(overrides: Mapping[str, StreamLimits] | None = None) -> dict[str, StreamLimits]:
    """:data:`DEFAULT_STREAM_LIMITS` with the fields ``overrides`` set, per stream (unprefixed name).

    Raises ValueError for a stream that does not exist.
    """
    unknown = sorted(set(overrides or {}) - set(DEFAULT_STREAM_LIMITS))
    if unknown:
        raise ValueError(
            f"no such stream: {', '.join(unknown)} (streams: {', '.join(DEFAULT_STREAM_LIMITS)})"
        )
    merged = dict(DEFAULT_STREAM_LIMITS)
    for name, override in (overrides or {}).items():
        merged[name] = merged[name].model_copy(update=override.model_dump(exclude_unset=True))
    return merged


@dataclass(frozen=True)
class Topology:
    """Subject and stream names, prefixed for isolation when ``prefix`` is set."""

    prefix: str = ""

    def subject(self, raw: str) -> str:
        """``raw`` (e.g. ``jobs.>``) as it appears on the wire."""
        return f"{self.prefix}.{raw}" if self.prefix else raw

    def stream(self, name: str) -> str:
        """The server-side name of the stream called ``name`` (e.g. ``JOBS``)."""
        return f"{self.prefix.upper()}_{name}" if self.prefix else name

    def events(self, org: str, type_: str) -> str:
        """``events.<org>.<type>``: a business event of one organization."""
        return self.subject(f"events.{org}.{type_}")

    def overflow(self, org: str, type_: str) -> str:
        """Where an event over its organization's ingestion limit waits its turn."""
        return self.subject(f"overflow.events.{org}.{type_}")

    def jobs(self, priority: str, org: str) -> str:
        """``jobs.<priority>.<org>``; ``priority`` is one of :data:`JOB_PRIORITIES`."""
        if priority not in JOB_PRIORITIES:
            raise ValueError(f"unknown job priority {priority!r}; expected one of {JOB_PRIORITIES}")
        return self.subject(f"jobs.{priority}.{org}")

    def executions(self, org: str, event: str) -> str:
        """``executions.<org>.<event>``: started, step_completed (a transaction's steps), completed, ..."""
        return self.subject(f"executions.{org}.{event}")

    def automation_changed(self, org: str) -> str:
        """``automations.<org>.changed``."""
        return self.subject(f"automations.{org}.changed")

    def command(self, org: str, verb: str) -> str:
        """``platform.commands.<org>.<verb>``."""
        return self.subject(f"platform.commands.{org}.{verb}")

    def request(self, org: str, verb: str) -> str:
        """``platform.requests.<org>.<verb>``: a command the owner answers (core NATS request-reply,
        outside every stream; decision 0042)."""
        return self.subject(f"platform.requests.{org}.{verb}")

    def waits(self, org: str, kind: str) -> str:
        """``waits.<org>.<kind>``."""
        return self.subject(f"waits.{org}.{kind}")

    def dlq(self, consumer: str) -> str:
        """``dlq.<consumer>``: where the consumer named ``consumer`` puts its dead letters."""
        return self.subject(f"dlq.{consumer}")

    def stream_config(self, spec: StreamSpec, limits: StreamLimits | None = None) -> api.StreamConfig:
        """The server configuration of ``spec`` under this topology's prefix, within ``limits``
        (default: the development ones)."""
        limits = limits or DEFAULT_STREAM_LIMITS.get(spec.name, StreamLimits())
        max_age = spec.max_age.total_seconds() if spec.max_age else None
        if limits.max_age_s is not None:
            max_age = limits.max_age_s
        return api.StreamConfig(
            name=self.stream(spec.name),
            description=spec.description,
            subjects=[self.subject(s) for s in spec.subjects],
            retention=spec.retention,
            storage=spec.storage,
            max_age=max_age,
            max_bytes=limits.max_bytes,
            discard=api.DiscardPolicy.NEW if limits.discard == "new" else api.DiscardPolicy.OLD,
            num_replicas=limits.replicas,
            duplicate_window=spec.duplicate_window.total_seconds(),
        )


async def ensure_streams(
    js: JetStreamContext,
    topology: Topology,
    specs: Iterable[StreamSpec] = STREAMS,
    limits: Mapping[str, StreamLimits] | None = None,
) -> None:
    """Declares every stream of ``specs`` within ``limits`` (by unprefixed name; default
    :data:`DEFAULT_STREAM_LIMITS`); safe to run at every start of every replica.

    A missing stream is created; one with the same configuration is left alone; one with a
    different configuration (new limits included) is updated in place, keeping its messages.
    Nothing is ever deleted. A change the server cannot apply in place (e.g. retention to or from
    work-queue, or replicas above 1 on a server that is not clustered) raises, so the operator
    decides how to migrate the data.
    """
    chosen = stream_limits(limits)
    for spec in specs:
        config = topology.stream_config(spec, chosen.get(spec.name))
        try:
            await js.add_stream(config)
        except BadRequestError as exc:
            if exc.err_code != STREAM_NAME_IN_USE:
                raise
            await js.update_stream(config)
            log.info("stream updated", stream=config.name)


async def ensure_consumer(js: JetStreamContext, stream: str, config: api.ConsumerConfig) -> api.ConsumerInfo:
    """Declares the durable consumer ``config`` on ``stream``; safe to run at every start.

    On 2.10+ servers consumer creation is create-or-update: an existing durable with the same
    configuration is returned as is, and one whose editable fields differ (ack_wait,
    max_deliver, max_ack_pending, filter subjects, ...) is updated in place, keeping its position
    and pending acks. A change to a field the server cannot edit (deliver policy, ack policy)
    raises. The consumer is never deleted, since that would lose its delivery state.
    """
    if not config.durable_name:
        raise ValueError("ensure_consumer needs a durable consumer (config.durable_name)")
    config = config.evolve(name=config.durable_name)
    return await js.add_consumer(stream, config)
