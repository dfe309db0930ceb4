"""What starting an execution takes, the same for an event trigger and a condition trigger:
the enrollment row with the keys its automation's policy makes it take, and the START it sends."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from beez.api.messages.v1.events_pb2 import Event
from beez.api.messages.v1.jobs_pb2 import ExecutionStart
from beez.api.workflow.v1.workflow_pb2 import Workflow
from beez.kit.bus.topology import priority_value
from beez.kit.ids import new_id
from beez.trigger.domain.index import enrollment_policy
from beez.trigger.repository.enrollments import EnrollRequest, NewEnrollment


class Startable(Protocol):
    """The automation index columns enrollment reads."""

    @property
    def automation_id(self) -> str: ...
    @property
    def version(self) -> int: ...
    @property
    def priority(self) -> str: ...
    @property
    def run_once(self) -> bool: ...
    @property
    def reentry(self) -> str: ...
    @property
    def max_concurrent_per_contact(self) -> int: ...
    @property
    def max_executions(self) -> int: ...


def plan_start(
    org_id: str, automation: Startable, workflow: Workflow, event: Event, now: datetime
) -> tuple[EnrollRequest, ExecutionStart]:
    """The enrollment ``event`` asks of ``automation`` and the START it would send.

    The enrollment is unique per (automation, ``event.id``), so the same event (a redelivery, or
    the same condition change seen again) never starts the automation twice.
    """
    policy = enrollment_policy(
        automation.run_once,
        automation.reentry,
        automation.max_concurrent_per_contact,
        automation.max_executions,
    )
    contact = event.contact_id or None
    execution_id = new_id()
    start = ExecutionStart(
        automation_id=automation.automation_id,
        automation_version=automation.version,
        workflow=workflow,
        event=event,
        contact_id=event.contact_id,
        priority_level=priority_value(automation.priority),
    )
    start.created_at.FromDatetime(now)
    enrollment = NewEnrollment(
        execution_id=execution_id,
        org_id=org_id,
        automation_id=automation.automation_id,
        automation_version=automation.version,
        event_id=event.id,
        contact_id=contact,
        priority=automation.priority,
        created_at=now,
        start=start.SerializeToString(),
    )
    request = EnrollRequest(
        enrollment,
        once_contact=contact if policy.once_per_contact else None,
        slot_contact=contact if policy.slots_per_contact is not None else None,
        slots=policy.slots_per_contact or 0,
        max_executions=policy.max_executions,
    )
    return request, start
