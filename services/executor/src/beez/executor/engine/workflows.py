"""The workflow an execution runs, and what its steps see of the execution.

Workflow versions are immutable and stored once per content (the SHA-256 of their deterministic
serialization), so they are cached in the process by digest, with the compiled conditions of
their steps: a version never changes, and neither do its conditions.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from beez.api.workflow.v1 import workflow_pb2
from beez.executor.engine.store import Unit
from beez.kit.cache import BoundedCache
from beez.workflow.branches import compile_step_conditions, step_conditions_path
from beez.workflow.conditions import CompiledCondition
from beez.workflow.context import build_context
from beez.workflow.intervals import quiet_hours_end, zone
from beez.workflow.model import struct_to_dict

WORKFLOWS_CACHED = 512
WORKFLOW_BYTES_CACHED = 64 * 1024 * 1024
"""Serialized bytes of the workflows kept (a workflow may be 1 MiB: 512 of them would be 512 MiB)."""
DIGESTS_REMEMBERED = 4096
CONDITIONS_CACHED = 4096


class Workflows:
    """The process's cache of workflow versions and of their steps' compiled conditions."""

    def __init__(self, max_bytes: int = WORKFLOW_BYTES_CACHED) -> None:
        self._workflows: BoundedCache[str, workflow_pb2.Workflow] = BoundedCache(
            max_entries=WORKFLOWS_CACHED, max_bytes=max_bytes, sizeof=lambda workflow: workflow.ByteSize()
        )
        self._saved: set[str] = set()
        """Digests of workflows known to be committed: their INSERT can be skipped."""
        self._conditions: dict[tuple[str, str], CompiledCondition] = {}
        """Compiled step conditions by (workflow digest, path)."""

    async def load(self, unit: Unit) -> workflow_pb2.Workflow:
        """The workflow of the unit's execution (kept on the unit once loaded)."""
        if unit.workflow is None:
            digest = unit.execution.workflow_digest
            cached = self._workflows.get(digest)
            if cached is None:
                definition = await unit.tx.load_workflow(digest)
                if definition is None:
                    raise RuntimeError(f"workflow {digest} of execution {unit.execution.id} is missing")
                cached = workflow_pb2.Workflow.FromString(definition)
                self.remember(digest, cached)
            unit.workflow = cached
        return unit.workflow

    def remember(self, digest: str, workflow: workflow_pb2.Workflow) -> None:
        self._workflows.put(digest, workflow)

    def is_cached(self, digest: str) -> bool:
        return digest in self._workflows

    @property
    def cached_bytes(self) -> int:
        """Serialized bytes of the workflows kept."""
        return self._workflows.bytes

    def is_saved(self, digest: str) -> bool:
        return digest in self._saved

    def remember_saved(self, digests: Iterable[str]) -> None:
        if len(self._saved) > DIGESTS_REMEMBERED:
            self._saved.clear()
        self._saved.update(digests)

    def step_conditions(self, unit: Unit, action: workflow_pb2.Action) -> CompiledCondition:
        """The ``config.conditions`` of the step at the position, compiled once per workflow version.

        Raises:
            ConditionError: they do not parse or compile (the step fails: the workflow is wrong).
        """
        assert unit.execution.position is not None
        path = step_conditions_path(unit.execution.position)
        key = (unit.execution.workflow_digest, path)
        compiled = self._conditions.get(key)
        if compiled is None:
            compiled = compile_step_conditions(struct_to_dict(action.config), path)
            if len(self._conditions) >= CONDITIONS_CACHED:
                self._conditions.clear()
            self._conditions[key] = compiled
        return compiled


def step_context(unit: Unit, action: workflow_pb2.Action | None) -> dict[str, Any]:
    """What templates and conditions of a step see: contact, event, vars and the execution."""
    execution = unit.execution
    context = build_context(
        None,
        None,
        execution.vars,
        {
            "id": execution.id,
            "automation_id": execution.automation_id,
            "automation_version": execution.automation_version,
            "contact_id": execution.contact_id,
            "step_id": action.id if action is not None else "",
            "position": execution.position or "",
            "started_at": execution.started_at.isoformat() if execution.started_at else "",
            "timezone": unit.workflow.settings.timezone if unit.workflow is not None else "",
        },
    )
    context["contact"] = execution.contact
    context["event"] = execution.trigger_event
    return context


def time_zone(unit: Unit) -> Any:
    """The contact's time zone, else the workflow's, else UTC."""
    workflow = unit.workflow
    return zone(
        str(unit.execution.contact.get("timezone") or ""), workflow.settings.timezone if workflow else ""
    )


def quiet_hours_over(unit: Unit) -> datetime | None:
    """When the workflow's quiet hours end, if they hold now; None outside them (or without any)."""
    workflow = unit.workflow
    if workflow is None or not workflow.settings.HasField("quiet_hours"):
        return None
    quiet = workflow.settings.quiet_hours
    if not quiet.start or not quiet.end:
        return None
    try:
        return quiet_hours_end(unit.now, quiet.start, quiet.end, time_zone(unit))
    except ValueError:
        return None
