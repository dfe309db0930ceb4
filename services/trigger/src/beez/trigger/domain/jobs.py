"""The jobs the trigger sends to the executor, and their message ids.

* Start: ``Job{reason: START, execution_id, organization_id, enqueued_at, start}`` on
  ``jobs.<priority>.<org>``, ``Nats-Msg-Id = start:<execution_id>``; the start sweeper's n-th
  re-dispatch of it has ``start:<execution_id>:again:<n>``, so JetStream's duplicate window does
  not drop it (decision 0008).
* Signal: ``Job{reason: SIGNAL, execution_id, organization_id, enqueued_at, signal_kind, event,
  token=<wait id>}`` on ``jobs.<priority>.<org>``, ``Nats-Msg-Id = signal:<wait id>``; signal_kind
  is ``EVENT`` (wait_for_event), ``MET`` (wait_until) or ``GOAL``.

Both go through the outbox in the transaction that decided them.
"""

from __future__ import annotations

from datetime import datetime

from google.protobuf.message import DecodeError

from beez.api.messages.v1.events_pb2 import Event
from beez.api.messages.v1.jobs_pb2 import ExecutionStart, Job, JobReason, JobSignal
from beez.kit.bus.outbox import OutboxMessage
from beez.kit.bus.topology import Topology, priority_name, priority_value
from beez.kit.logging import get_logger

log = get_logger(__name__)


def start_msg_id(execution_id: str) -> str:
    return f"start:{execution_id}"


def redispatch_msg_id(execution_id: str, n: int) -> str:
    return f"start:{execution_id}:again:{n}"


def signal_msg_id(wait_id: str) -> str:
    return f"signal:{wait_id}"


def start_job(
    topology: Topology,
    org_id: str,
    execution_id: str,
    start: ExecutionStart,
    now: datetime,
    msg_id: str | None = None,
) -> OutboxMessage:
    """The START job of ``start``, on the subject of its priority (normal when it names none)."""
    job = Job(
        execution_id=execution_id,
        reason=JobReason.JOB_REASON_START,
        organization_id=org_id,
        start=start,
    )
    job.enqueued_at.FromDatetime(now)
    subject = topology.jobs(priority_name(start.priority_level) or "normal", org_id)
    return OutboxMessage(subject, job, msg_id or start_msg_id(execution_id), org_id)


def stored_start_job(
    topology: Topology,
    org_id: str,
    execution_id: str,
    payload: bytes,
    priority: str,
    now: datetime,
    msg_id: str | None = None,
) -> OutboxMessage | None:
    """The START job of an enrollment that kept its serialized START (held for credit, or never
    reported started); ``priority`` is the enrollment's. None, logged, when the payload cannot
    be read."""
    try:
        start = ExecutionStart.FromString(bytes(payload))
    except DecodeError as exc:
        log.error("undecodable START payload", execution_id=execution_id, error=str(exc))
        return None
    if not start.priority_level:  # stored by a trigger that sent the priority as a string
        start.priority_level = priority_value(priority)
    return start_job(topology, org_id, execution_id, start, now, msg_id)


def signal_job(
    topology: Topology,
    org_id: str,
    execution_id: str,
    wait_id: str,
    signal: JobSignal,
    event: Event,
    priority: str,
    now: datetime,
) -> OutboxMessage:
    """The SIGNAL job answering the wait ``wait_id``; ``priority`` is the subject token."""
    job = Job(
        execution_id=execution_id,
        reason=JobReason.JOB_REASON_SIGNAL,
        organization_id=org_id,
        signal_kind=signal,
        event=event,
        token=wait_id,
    )
    job.enqueued_at.FromDatetime(now)
    return OutboxMessage(topology.jobs(priority, org_id), job, signal_msg_id(wait_id), org_id)
