"""Registered waits, and which event satisfies which wait.

Pure logic. A wait belongs to an execution and a contact, and is matched against every event
of that contact in the same organization:

- ``event`` (wait_for_event): the event's type equals ``event_type`` and its data passes
  ``filters``; the signal is ``JOB_SIGNAL_EVENT`` and carries the event;
- ``until`` (wait_until): ``conditions`` hold for the event's context (its contact snapshot,
  the event itself); the signal is ``JOB_SIGNAL_MET``;
- ``goal``: as ``event`` when ``event_type`` is set, and/or ``conditions`` hold; the signal
  is ``JOB_SIGNAL_GOAL`` and carries the event.

In general a wait matches when each part it has holds: ``event_type`` (if set), ``filters``
(if any), ``conditions`` (if any); a wait with none of them never matches. A wait fires once:
matching closes it. Conditions see ``contact``, ``event`` and ``execution.id``; the
execution's ``vars`` live in the executor, so conditions on ``vars.*`` do not hold here.

Waits without a contact never match: there is nothing to tell which events concern them.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from google.protobuf import json_format

from beez.api.messages.v1.jobs_pb2 import JobSignal
from beez.api.messages.v1.lifecycle_pb2 import WaitRegistration
from beez.api.workflow.v1.workflow_pb2 import Condition
from beez.kit.logging import get_logger
from beez.workflow.conditions import CompiledCondition, compile_conditions
from beez.workflow.errors import ConditionBudgetError, ConditionError
from beez.workflow.filters import filters_match
from beez.workflow.model import struct_to_dict
from beez.workflow.waits import REGISTRATION_NAMES, SIGNALS

log = get_logger(__name__)


class InvalidRegistration(ValueError):
    """A registration that can never be stored (no id, organization, execution or kind)."""


@dataclass(frozen=True, slots=True)
class Registration:
    """A wait as the trigger stores it."""

    id: str
    org_id: str
    execution_id: str
    contact_id: str
    kind: str
    event_type: str
    filters: dict[str, Any]
    conditions: list[dict[str, Any]]
    expires_at: datetime | None


def registration(message: WaitRegistration, org_id: str) -> Registration:
    """The stored form of ``message``, which belongs to ``org_id``."""
    if not message.id:
        raise InvalidRegistration("WaitRegistration without id")
    if not org_id:
        raise InvalidRegistration("WaitRegistration without organization")
    if not message.cancel:
        if not message.execution_id:
            raise InvalidRegistration("WaitRegistration without execution_id")
        if message.kind not in REGISTRATION_NAMES:
            raise InvalidRegistration(f"WaitRegistration of unknown kind {message.kind}")
    expires_at = message.expires_at.ToDatetime(tzinfo=UTC) if message.HasField("expires_at") else None
    return Registration(
        id=message.id,
        org_id=org_id,
        execution_id=message.execution_id,
        contact_id=message.contact_id,
        kind=REGISTRATION_NAMES.get(message.kind, "unspecified"),
        event_type=message.event_type,
        filters=struct_to_dict(message.filters),
        conditions=[json_format.MessageToDict(condition) for condition in message.conditions],
        expires_at=expires_at,
    )


@dataclass(frozen=True, slots=True)
class OpenWait:
    """An open wait, as loaded for matching, with the priority of its execution's jobs."""

    id: str
    execution_id: str
    contact_id: str
    kind: str
    event_type: str
    filters: dict[str, Any]
    conditions: list[dict[str, Any]]
    expires_at: datetime | None
    priority: str


class WaitMatcher:
    """Decides which signal (if any) an event sends to a wait; caches compiled conditions by wait."""

    def __init__(self, cache_size: int = 4096) -> None:
        self._size = cache_size
        self._compiled: OrderedDict[str, CompiledCondition | None] = OrderedDict()

    def signal(
        self, wait: OpenWait, event_type: str, data: dict[str, Any], context: dict[str, Any], now: datetime
    ) -> JobSignal | None:
        """The signal ``wait`` gets from this event, or None. Expired waits get nothing."""
        if wait.expires_at is not None and wait.expires_at <= now:
            return None
        signal = SIGNALS.get(wait.kind)
        if signal is None or not wait.contact_id:
            return None
        if not (wait.event_type or wait.filters or wait.conditions):
            return None
        if wait.event_type and wait.event_type != event_type:
            return None
        if wait.filters and not filters_match(wait.filters, data):
            return None
        if wait.conditions:
            compiled = self._conditions(wait)
            if compiled is None:
                return None
            scoped = {**context, "execution": {"id": wait.execution_id}}
            try:
                if not compiled.evaluate(scoped, now):
                    return None
            except ConditionBudgetError as exc:  # too costly for this event's data: no signal
                log.warning("wait conditions not evaluated", wait_id=wait.id, error=str(exc))
                return None
        return signal

    def _conditions(self, wait: OpenWait) -> CompiledCondition | None:
        if wait.id in self._compiled:
            self._compiled.move_to_end(wait.id)
            return self._compiled[wait.id]
        compiled: CompiledCondition | None
        try:
            conditions = [json_format.ParseDict(item, Condition()) for item in wait.conditions]
            compiled = compile_conditions(conditions)
        except (ConditionError, json_format.ParseError) as exc:
            log.error("wait conditions do not compile; the wait never fires", wait_id=wait.id, error=str(exc))
            compiled = None
        self._compiled[wait.id] = compiled
        if len(self._compiled) > self._size:
            self._compiled.popitem(last=False)
        return compiled
