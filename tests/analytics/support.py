"""Helpers of the analytics tests: building and publishing execution lifecycle events."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from google.protobuf.timestamp_pb2 import Timestamp

from beez.api.messages.v1.lifecycle_pb2 import ExecutionEvent, ExecutionEventKind
from beez.kit.bus.publisher import Publisher
from beez.kit.bus.topology import Topology

KINDS = {
    "started": ExecutionEventKind.EXECUTION_EVENT_KIND_STARTED,
    "step_completed": ExecutionEventKind.EXECUTION_EVENT_KIND_STEP_COMPLETED,
    "completed": ExecutionEventKind.EXECUTION_EVENT_KIND_COMPLETED,
    "failed": ExecutionEventKind.EXECUTION_EVENT_KIND_FAILED,
    "cancelled": ExecutionEventKind.EXECUTION_EVENT_KIND_CANCELLED,
}
T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


def lifecycle(
    kind: str,
    org: str,
    automation_id: str,
    execution_id: str,
    *,
    at_s: float = 0.0,
    duration_ms: int = 0,
    event_id: str | None = None,
) -> ExecutionEvent:
    """An ExecutionEvent of ``kind`` happening ``at_s`` seconds after T0."""
    occurred = Timestamp()
    occurred.FromDatetime(T0 + timedelta(seconds=at_s))
    return ExecutionEvent(
        id=event_id or f"ev_{uuid.uuid4().hex[:12]}",
        kind=KINDS[kind],
        organization_id=org,
        execution_id=execution_id,
        automation_id=automation_id,
        automation_version=1,
        occurred_at=occurred,
        duration_ms=duration_ms,
    )


async def publish(
    publisher: Publisher, topology: Topology, event: ExecutionEvent, *, msg_id: str | None = None
) -> None:
    """Publishes ``event`` on ``executions.<org>.<kind>`` as the executor's outbox would."""
    kind = ExecutionEventKind.Name(event.kind).removeprefix("EXECUTION_EVENT_KIND_").lower()
    subject = topology.executions(event.organization_id, kind)
    await publisher.publish(
        subject, event, msg_id=msg_id or f"executor:{event.id}", org_id=event.organization_id
    )
