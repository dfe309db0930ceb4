"""The messages the executor sends, and the subjects and message ids they go out with.

Everything here is built in memory and written to the outbox by the engine, in the transaction
of the state change it announces. Message ids (``Nats-Msg-Id``) are derived from what the
message is about, so a re-sent row is dropped by the stream's duplicate window:

* lifecycle ``executions.<org>.<kind>``: ``<idempotency key>:<kind>`` for step events,
  ``exec:<id>:<kind>:<token>`` for waiting, ``exec:<id>:<kind>:<run>`` for the rest;
* jobs ``jobs.<priority>.<org>``: ``timer:<timer id>``, ``resume:<token>``, ``retry:<token>``;
* wait registrations ``waits.<org>.register`` / ``waits.<org>.cancel``: ``wait:<id>:register``,
  ``wait:<id>:cancel`` (the registration id is the token its signal jobs carry back);
* platform commands ``platform.commands.<org>.<verb>``: ``<idempotency key>:cmd:<index>``;
* events ``events.<org>.<type>``: the event's own id.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from google.protobuf import struct_pb2, timestamp_pb2

from beez.api.messages.v1 import jobs_pb2, lifecycle_pb2
from beez.api.workflow.v1 import workflow_pb2
from beez.kit.bus.outbox import OutboxMessage
from beez.kit.bus.topology import JOB_PRIORITIES, Topology
from beez.workflow.status import EVENT_NAMES

Outgoing = OutboxMessage
"""A message for the outbox (subject, message, ``Nats-Msg-Id``, organization)."""


def timestamp(moment: datetime) -> timestamp_pb2.Timestamp:
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(moment)
    return ts


def struct(value: Mapping[str, Any]) -> struct_pb2.Struct:
    result = struct_pb2.Struct()
    result.update(dict(value))
    return result


def priority_of(*candidates: str) -> str:
    """The first valid job priority among ``candidates``, else ``normal``."""
    for candidate in candidates:
        if candidate in JOB_PRIORITIES:
            return candidate
    return "normal"


def job(
    topology: Topology,
    *,
    org_id: str,
    execution_id: str,
    priority: str,
    reason: int,
    token: str,
    msg_id: str,
    now: datetime,
) -> Outgoing:
    """A job pointing at an execution (TIMER, RESUME or RETRY), answering ``token``."""
    message = jobs_pb2.Job(
        execution_id=execution_id,
        reason=reason,  # type: ignore[arg-type]
        organization_id=org_id,
        enqueued_at=timestamp(now),
        token=token,
    )
    return Outgoing(topology.jobs(priority_of(priority), org_id), message, msg_id, org_id)


def lifecycle(topology: Topology, event: lifecycle_pb2.ExecutionEvent) -> Outgoing:
    """A lifecycle event on ``executions.<org>.<kind>``; its id is its message id."""
    subject = topology.executions(event.organization_id, EVENT_NAMES[event.kind])
    return Outgoing(subject, event, event.id, event.organization_id)


def wait_registration(
    topology: Topology,
    *,
    registration_id: str,
    kind: int,
    org_id: str,
    execution_id: str,
    contact_id: str,
    event_type: str = "",
    filters: Mapping[str, Any] | None = None,
    conditions: Sequence[workflow_pb2.Condition] = (),
    expires_at: datetime | None = None,
) -> Outgoing:
    """Asks the trigger service to turn matching events into SIGNAL jobs carrying ``registration_id``."""
    message = lifecycle_pb2.WaitRegistration(
        id=registration_id,
        kind=kind,  # type: ignore[arg-type]
        organization_id=org_id,
        execution_id=execution_id,
        contact_id=contact_id,
        event_type=event_type,
        conditions=list(conditions),
    )
    if filters:
        message.filters.CopyFrom(struct(filters))
    if expires_at is not None:
        message.expires_at.CopyFrom(timestamp(expires_at))
    return Outgoing(topology.waits(org_id, "register"), message, f"wait:{registration_id}:register", org_id)


def wait_cancellation(
    topology: Topology, *, registration_id: str, kind: int, org_id: str, execution_id: str
) -> Outgoing:
    """Withdraws a registration: the execution no longer waits for it."""
    message = lifecycle_pb2.WaitRegistration(
        id=registration_id,
        kind=kind,  # type: ignore[arg-type]
        organization_id=org_id,
        execution_id=execution_id,
        cancel=True,
    )
    return Outgoing(topology.waits(org_id, "cancel"), message, f"wait:{registration_id}:cancel", org_id)
