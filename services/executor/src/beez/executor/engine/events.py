"""Lifecycle events, and the messages one transaction sends.

Every state change announces itself on ``executions.<org>.<kind>`` (started, step_completed,
step_failed, waiting, completed, failed, cancelled) through the outbox, in the transaction of the
change. :class:`Outbox` buffers a transaction's messages and hands them to the store when the
block ends; the store writes them in one statement just before the commit, so a rollback drops
them with the state they announce.

Completed steps are merged: one STEP_COMPLETED message per execution and transaction carries
all its completed steps (decision 0012). They commit together, and a message per step cost the
benchmark's automation a sixth of the stack's CPU per execution. A single step keeps the id its
own event always had. On the executions stream the message keeps its place: it goes before the
execution's next lifecycle event of the transaction (or last); other streams' messages
(commands, jobs, waits) never had an order with it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from google.protobuf import timestamp_pb2

from beez.api.messages.v1 import lifecycle_pb2
from beez.api.messages.v1.lifecycle_pb2 import ExecutionEventKind
from beez.api.workflow.v1 import workflow_pb2
from beez.executor import messages
from beez.executor.messages import Outgoing
from beez.executor.models import Execution
from beez.kit.bus.topology import Topology

STEP_COMPLETED = ExecutionEventKind.EXECUTION_EVENT_KIND_STEP_COMPLETED


def execution_event(
    execution: Execution, kind: ExecutionEventKind, event_id: str, **fields: Any
) -> lifecycle_pb2.ExecutionEvent:
    """A lifecycle event of ``execution``: its identity fields, and the event's own ``fields``."""
    return lifecycle_pb2.ExecutionEvent(
        id=event_id,
        kind=kind,
        organization_id=execution.org_id,
        execution_id=execution.id,
        automation_id=execution.automation_id,
        automation_version=execution.automation_version,
        contact_id=execution.contact_id,
        converted=execution.converted,
        **fields,
    )


class Outbox:
    """The messages of one transaction, in order, with completed steps merged per execution."""

    def __init__(self, topology: Topology) -> None:
        self.topology = topology
        self._messages: list[Outgoing] = []
        self._steps: dict[str, tuple[Execution, list[lifecycle_pb2.StepCompleted]]] = {}

    def emit(self, outgoing: Outgoing) -> None:
        """Adds a message (a command, a job, a wait registration) to the transaction's outbox."""
        self._messages.append(outgoing)

    def lifecycle(
        self,
        execution: Execution,
        now: datetime,
        kind: ExecutionEventKind,
        event_id: str,
        *,
        step: workflow_pb2.Action | None = None,
        error: str = "",
        category: str = "",
        duration_ms: int = 0,
        with_queue_wait: bool = False,
    ) -> None:
        """Announces a change of ``execution``; a completed step waits to be merged (see above)."""
        if kind == STEP_COMPLETED and step is not None:
            completed = lifecycle_pb2.StepCompleted(
                id=event_id,
                step_id=step.id,
                step_type=step.type,
                occurred_at=messages.timestamp(now),
                duration_ms=duration_ms,
            )
            entry = self._steps.get(execution.id)
            if entry is None:
                self._steps[execution.id] = (execution, [completed])
            else:
                entry[1].append(completed)
            return
        event = execution_event(
            execution,
            kind,
            event_id,
            step_id=step.id if step is not None else "",
            step_type=step.type if step is not None else "",
            error=error,
            error_category=category,
            occurred_at=messages.timestamp(now),
            duration_ms=duration_ms,
            queue_wait_ms=(execution.queue_wait_ms or 0) if with_queue_wait else 0,
        )
        self._merge_steps(execution.id)  # on the stream, the steps completed before it go first
        self._messages.append(messages.lifecycle(self.topology, event))

    def close(self) -> list[Outgoing]:
        """Every message of the transaction, in order, the pending completed steps last."""
        for execution_id in list(self._steps):
            self._merge_steps(execution_id)
        closed, self._messages = self._messages, []
        return closed

    def _merge_steps(self, execution_id: str) -> None:
        entry = self._steps.pop(execution_id, None)
        if entry is None:
            return
        execution, steps = entry
        last = steps[-1]
        occurred_at: timestamp_pb2.Timestamp = last.occurred_at
        event = execution_event(
            execution,
            STEP_COMPLETED,
            last.id if len(steps) == 1 else f"{steps[0].id}+{len(steps) - 1}",
            step_id=last.step_id,
            step_type=last.step_type,
            occurred_at=occurred_at,
            duration_ms=last.duration_ms,
            steps=steps,
        )
        self._messages.append(messages.lifecycle(self.topology, event))
