"""The jobs the trigger sends to the executor, and their message ids.

* Start: ``Job{reason: START, execution_id, organization_id, enqueued_at, start}`` on
  ``jobs.<priority>.<org>``, ``Nats-Msg-Id = start:<execution_id>``; the start sweeper's n-th
  re-dispatch of it has ``start:<execution_id>:again:<n>``, so JetStream's duplicate window does
  not drop it (decision 0008).
* Signal: ``Job{reason: SIGNAL, execution_id, organization_id, enqueued_at, signal, event,
  token=<wait id>}`` on ``jobs.<priority>.<org>``, ``Nats-Msg-Id = signal:<wait id>``; signal is
  ``event`` (wait_for_event), ``met`` (wait_until) or ``goal``.

Both go through the outbox in the transaction that decided them.
"""

from __future__ import annotations

from datetime import datetime

from beez.api.messages.v1.events_pb2 import Event
from beez.api.messages.v1.jobs_pb2 import ExecutionStart, Job, JobReason
from beez.kit.bus.outbox import OutboxMessage
from beez.kit.bus.topology import Topology

Outgoing = OutboxMessage
"""A message for the outbox (subject, message, ``Nats-Msg-Id``, organization)."""


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
) -> Outgoing:
    job = Job(
        execution_id=execution_id,
        reason=JobReason.JOB_REASON_START,
        organization_id=org_id,
        start=start,
    )
    job.enqueued_at.FromDatetime(now)
    return Outgoing(topology.jobs(start.priority, org_id), job, msg_id or start_msg_id(execution_id), org_id)


def signal_job(
    topology: Topology,
    org_id: str,
    execution_id: str,
    wait_id: str,
    signal: str,
    event: Event,
    priority: str,
    now: datetime,
) -> Outgoing:
    job = Job(
        execution_id=execution_id,
        reason=JobReason.JOB_REASON_SIGNAL,
        organization_id=org_id,
        signal=signal,
        event=event,
        token=wait_id,
    )
    job.enqueued_at.FromDatetime(now)
    return Outgoing(topology.jobs(priority, org_id), job, signal_msg_id(wait_id), org_id)
