"""What an organization's workflows must respect besides the format: the caps on one execution
and the senders it may use (issue #12, decision 0023).

Validation (create, update, clone, ValidateAutomation) refuses a workflow whose worst case goes
past the organization's caps, or whose ``send_email`` sends as a sender it has not verified. The
caps are those the executor reports for the organization (what an admin set through
``SetOrganizationLimits``, else the settings), or, when it cannot answer, the deployment's
settings (``BEEZ_MAX_*_PER_EXECUTION`` and ``BEEZ_ORG_LIMITS``) kept here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from beez.api.workflow.v1.workflow_pb2 import Workflow
from beez.workflow.amplification import ExecutionLimits
from beez.workflow.errors import Issue
from beez.workflow.schedules import DEFAULT_MIN_INTERVAL_S
from beez.workflow.senders import SenderPolicy, sender_issues
from beez.workflow.validate import validate_workflow

__all__ = ["OrganizationRules"]


@dataclass(frozen=True)
class OrganizationRules:
    """The caps (default, and per organization) and the verified senders workflows are checked against."""

    defaults: ExecutionLimits = field(default_factory=ExecutionLimits)
    configured: Mapping[str, ExecutionLimits] = field(default_factory=dict)
    senders: SenderPolicy = field(default_factory=SenderPolicy)
    min_schedule_interval_s: float = DEFAULT_MIN_INTERVAL_S
    """The most often a time-based trigger may fire (``BEEZ_SCHEDULE_MIN_INTERVAL_S``, decision 0038)."""

    def limits(self, org_id: str) -> ExecutionLimits:
        """The caps one execution of ``org_id`` runs under, as configured."""
        return self.configured.get(org_id, self.defaults)

    def issues(self, org_id: str, workflow: Workflow, limits: ExecutionLimits | None = None) -> list[Issue]:
        """Every problem of ``workflow`` for ``org_id``, in document order, then its senders'.

        ``limits``: the organization's caps as the executor reported them (None: as configured).
        """
        return [
            *validate_workflow(
                workflow,
                limits=limits or self.limits(org_id),
                min_schedule_interval_s=self.min_schedule_interval_s,
            ),
            *sender_issues(workflow, org_id, self.senders),
        ]
