"""The automation index: what an ``AutomationChanged`` means for matching and enrollment.

Pure logic. :func:`index_entry` turns an announcement into the row the projection keeps;
:func:`enrollment_policy` reads the settings into the keys enrollment enforces; and
:class:`CompiledTriggers` keeps, per immutable ``(automation_id, version)``, the decoded
workflow with its trigger filters and compiled entry conditions, so matching an event costs a
dictionary lookup and one CEL evaluation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from beez.api.messages.v1.lifecycle_pb2 import AutomationChanged, ChangeKind
from beez.api.workflow.v1.workflow_pb2 import Workflow
from beez.kit.bus.topology import JOB_PRIORITIES
from beez.kit.cache import BoundedCache
from beez.kit.logging import get_logger
from beez.workflow.conditions import CompiledCondition, compile_conditions
from beez.workflow.errors import ConditionBudgetError, ConditionError
from beez.workflow.triggering import TriggerMatcher, listened_event

log = get_logger(__name__)

DEFAULT_PRIORITY = "normal"

AUTOMATION_TRIGGERED = "automation.triggered"
"""The event type that starts ``data.automation_id`` directly (the trigger_automation action)."""

AUTOMATION_COMPLETED = "automation.completed"
"""The event type the trigger publishes when an execution ends (the automation_completed trigger)."""


@dataclass(frozen=True, slots=True)
class IndexEntry:
    """One automation as the projection stores it."""

    automation_id: str
    org_id: str
    revision: int
    version: int
    active: bool
    deleted: bool
    trigger_type: str
    event_type: str | None
    priority: str
    run_once: bool
    max_executions: int
    reentry: str
    max_concurrent_per_contact: int
    workflow: bytes
    reads: list[str] | None = None
    """A condition trigger's fields, sorted (the automation index's ``reads``); None otherwise."""


def condition_reads(workflow: Workflow) -> list[str] | None:
    """The fields a condition trigger reads; None for other triggers, [] for a config that does
    not compile (such an automation is never evaluated: validation should have refused it)."""
    from beez.trigger.domain.conditions import CONDITION_TYPES, NotACondition, compile_condition
    from beez.workflow.model import struct_to_dict

    if workflow.trigger.type not in CONDITION_TYPES:
        return None
    try:
        return sorted(compile_condition(workflow.trigger.type, struct_to_dict(workflow.trigger.config)).reads)
    except NotACondition as exc:
        log.error("condition trigger does not compile", trigger_type=workflow.trigger.type, error=str(exc))
        return []


class InvalidChange(ValueError):
    """An announcement that can never be applied (no automation id, no organization)."""


def listened_event_type(workflow: Workflow) -> str | None:
    """The event type a workflow's trigger listens to: ``trigger.event``, else the catalog's."""
    return listened_event(workflow.trigger)


def priority_of(workflow: Workflow) -> str:
    """``settings.priority`` when it names a job priority, else normal."""
    priority = workflow.settings.priority
    return priority if priority in JOB_PRIORITIES else DEFAULT_PRIORITY


def index_entry(change: AutomationChanged, org_id: str) -> IndexEntry:
    """The row for ``change``; ``org_id`` is the organization the message belongs to.

    A deleted automation becomes an inactive tombstone without its workflow.
    """
    if not change.automation_id:
        raise InvalidChange("AutomationChanged without automation_id")
    if not org_id:
        raise InvalidChange("AutomationChanged without organization")
    deleted = change.kind == ChangeKind.CHANGE_KIND_DELETED
    workflow = change.workflow
    settings = workflow.settings
    return IndexEntry(
        automation_id=change.automation_id,
        org_id=org_id,
        revision=change.revision,
        version=change.version,
        active=change.active and not deleted,
        deleted=deleted,
        trigger_type=workflow.trigger.type,
        event_type=listened_event_type(workflow),
        priority=priority_of(workflow),
        run_once=settings.run_once,
        max_executions=max(0, settings.max_executions),
        reentry=settings.reentry,
        max_concurrent_per_contact=(
            settings.max_concurrent_per_contact if settings.HasField("max_concurrent_per_contact") else 1
        ),
        workflow=b"" if deleted else workflow.SerializeToString(deterministic=True),
        reads=None if deleted else condition_reads(workflow),
    )


@dataclass(frozen=True, slots=True)
class EnrollmentPolicy:
    """The keys enrollment takes for one automation, read from its settings.

    * ``once_per_contact``: ``runOnce``, or ``reentry: never`` (the same thing): a row in
      ``run_once`` per (automation, contact), forever;
    * ``slots_per_contact``: ``maxConcurrentPerContact`` (default 1), or 1 for
      ``reentry: after_exit``; ``reentry: always`` (and no reentry) leaves only this limit.
      None when ``once_per_contact`` already makes it moot;
    * ``max_executions``: a guarded counter per automation; 0 means unlimited.

    The per-contact keys need a contact: an event without one starts contact-less executions,
    bounded only by ``max_executions``.
    """

    once_per_contact: bool
    slots_per_contact: int | None
    max_executions: int


def enrollment_policy(
    run_once: bool, reentry: str, max_concurrent_per_contact: int, max_executions: int
) -> EnrollmentPolicy:
    once = run_once or reentry == "never"
    slots = 1 if reentry == "after_exit" else max(1, max_concurrent_per_contact)
    return EnrollmentPolicy(
        once_per_contact=once,
        slots_per_contact=None if once else slots,
        max_executions=max(0, max_executions),
    )


@dataclass(frozen=True, slots=True)
class CompiledTrigger:
    """An automation version ready to match: ``conditions`` is None when it has none.

    ``broken`` marks entry conditions that do not compile (validation should have refused
    them): such a version never starts, rather than starting unguarded.
    """

    workflow: Workflow
    matcher: TriggerMatcher
    conditions: CompiledCondition | None
    broken: bool = False

    def filters_hold(self, data: dict[str, Any]) -> bool:
        """Whether the trigger's filters and its type's config rule hold for the event data
        (:mod:`beez.workflow.triggering`)."""
        return self.matcher.matches(data)

    def conditions_hold(self, context: dict[str, Any], now: datetime) -> bool:
        """Whether the entry conditions hold; conditions too costly for this event's data do
        not (they are not run, and the refusal is logged)."""
        if self.broken:
            return False
        if self.conditions is None:
            return True
        try:
            return self.conditions.evaluate(context, now)
        except ConditionBudgetError as exc:
            log.warning("entry conditions not evaluated", workflow=self.workflow.name, error=str(exc))
            return False


def compile_trigger(automation_id: str, version: int, workflow_bytes: bytes) -> CompiledTrigger:
    workflow = Workflow.FromString(workflow_bytes)
    matcher = TriggerMatcher(workflow.trigger)
    if not len(workflow.conditions):
        return CompiledTrigger(workflow, matcher, None)
    try:
        return CompiledTrigger(workflow, matcher, compile_conditions(workflow.conditions))
    except ConditionError as exc:
        log.error(
            "entry conditions do not compile; the automation will not start",
            automation_id=automation_id,
            version=version,
            error=str(exc),
        )
        return CompiledTrigger(workflow, matcher, None, broken=True)


COMPILED_BYTES_CACHED = 64 * 1024 * 1024
"""Serialized bytes of the workflows whose compiled triggers are kept (a workflow may be 1 MiB)."""


class CompiledTriggers:
    """An LRU of :class:`CompiledTrigger` by ``(automation_id, version)``, bounded by entries and bytes.

    Versions are immutable, so an entry never goes stale; the bounds only limit memory. An
    entry's size is its workflow's serialized size.
    """

    def __init__(self, size: int, max_bytes: int = COMPILED_BYTES_CACHED) -> None:
        self._entries: BoundedCache[tuple[str, int], CompiledTrigger] = BoundedCache(
            max_entries=size, max_bytes=max_bytes, sizeof=lambda compiled: compiled.workflow.ByteSize()
        )

    def get(self, automation_id: str, version: int, workflow_bytes: bytes) -> CompiledTrigger:
        key = (automation_id, version)
        found = self._entries.get(key)
        if found is not None:
            return found
        compiled = compile_trigger(automation_id, version, workflow_bytes)
        self._entries.put(key, compiled)
        return compiled

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def bytes(self) -> int:
        return self._entries.bytes
