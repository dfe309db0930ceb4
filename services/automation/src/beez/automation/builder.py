"""The builder's trigger and condition tools (frame 4): categories with counts, validating a
trigger, testing a trigger against a sample event, evaluating conditions on sample data.

Nothing here is stored or run: the answers come from ``beez.workflow`` (the catalog,
:mod:`beez.workflow.triggering`, :mod:`beez.workflow.conditions.explain`), the same code the
trigger service matches events with and the engine evaluates conditions with. Only testing an
existing automation's trigger reads anything, and only the caller's organization's automation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from beez.api.messages.v1.events_pb2 import Event
from beez.api.workflow.v1.workflow_pb2 import Condition, Trigger
from beez.automation.service import AutomationService
from beez.kit.clock import Clock
from beez.kit.grpc.errors import FieldViolation, InvalidArgument
from beez.kit.grpc.identity import Identity
from beez.workflow import catalog
from beez.workflow.catalog.entries import TRIGGER_CATEGORIES
from beez.workflow.conditions import compile_conditions, condition_issues
from beez.workflow.conditions.explain import Evaluation, evaluate_parts
from beez.workflow.context import build_context
from beez.workflow.errors import ConditionError, Issue
from beez.workflow.model import struct_to_dict
from beez.workflow.triggering import explain, listened_event
from beez.workflow.validate import trigger_issues

CATEGORY_NAMES: dict[str, str] = {
    "time": "Time-based",
    "event": "Event-based",
    "condition": "Condition-based",
}

MAX_TEST_CONDITIONS = 100
"""The most top-level conditions one EvaluateConditions call takes."""


@dataclass(frozen=True, slots=True)
class Category:
    category: str
    name: str
    count: int


@dataclass(frozen=True, slots=True)
class TriggerTest:
    """Would the event fire: the listened event type and every reason it would not (none: it fires)."""

    event_type: str
    reasons: list[Issue]

    @property
    def fires(self) -> bool:
        return not self.reasons


def _violations(issues: list[Issue], prefix: str = "") -> list[FieldViolation]:
    return [FieldViolation(f"{prefix}{issue.field}", issue.description) for issue in issues]


class BuilderService:
    """Frame 4's trigger and condition tools; ``automations`` reads an automation to test."""

    def __init__(self, automations: AutomationService, clock: Clock) -> None:
        self._automations = automations
        self._clock = clock

    @staticmethod
    def categories() -> list[Category]:
        """Every category, with how many trigger types it has (0 for one without any yet)."""
        counts = dict.fromkeys(TRIGGER_CATEGORIES, 0)
        for entry in catalog.trigger_types():
            counts[entry.category] = counts.get(entry.category, 0) + 1
        return [Category(name, CATEGORY_NAMES.get(name, name), count) for name, count in counts.items()]

    @staticmethod
    def validate_trigger(trigger: Trigger | None) -> list[Issue]:
        """Every problem of ``trigger``, paths under ``trigger``."""
        return trigger_issues(trigger)

    async def test_trigger(
        self, identity: Identity, trigger: Trigger | None, automation_id: str, event: Event | None
    ) -> TriggerTest:
        """Whether ``event`` would fire ``trigger``, or the trigger of the caller's automation
        ``automation_id`` (then its entry conditions are checked too, on the event and its
        contact snapshot). An invalid trigger or event is INVALID_ARGUMENT; another
        organization's automation is NOT_FOUND."""
        if bool(automation_id) == (trigger is not None):
            raise InvalidArgument(
                "give a trigger or an automation_id",
                [FieldViolation("trigger", "give exactly one of trigger and automation_id")],
            )
        if event is None or not event.type:
            raise InvalidArgument("a sample event is required", [FieldViolation("event.type", "is required")])
        conditions: list[Condition] = []
        if automation_id:
            view = await self._automations.get(identity, automation_id)
            trigger = view.workflow.trigger
            conditions = list(view.workflow.conditions)
        else:
            problems = trigger_issues(trigger)
            if problems:
                raise InvalidArgument(
                    f"{len(problems)} invalid field(s) in the trigger", _violations(problems)
                )
        assert trigger is not None
        data = struct_to_dict(event.data)
        reasons = [Issue(miss.field, miss.description) for miss in explain(trigger, event.type, data)]
        if conditions and not reasons:
            reasons.extend(self._condition_reasons(conditions, event))
        return TriggerTest(listened_event(trigger) or "", reasons)

    def _condition_reasons(self, conditions: list[Condition], event: Event) -> list[Issue]:
        try:
            compiled = compile_conditions(conditions)
        except ConditionError as exc:
            return list(exc.issues)
        try:
            holds = compiled.evaluate(build_context(event, None), self._clock.now(), strict=True)
        except ConditionError as exc:
            return list(exc.issues)
        return [] if holds else [Issue("conditions", "the entry conditions do not hold for this event")]

    def evaluate_conditions(
        self, conditions: list[Condition], data: Mapping[str, Any], now: datetime | None
    ) -> Evaluation:
        """``conditions`` on ``data`` (roots contact, event, vars, execution) at ``now`` (default:
        the service clock): the whole result and each part's. Invalid conditions, or data with
        other roots, are INVALID_ARGUMENT."""
        violations: list[FieldViolation] = []
        if not conditions:
            violations.append(FieldViolation("conditions", "at least one condition is required"))
        elif len(conditions) > MAX_TEST_CONDITIONS:
            violations.append(FieldViolation("conditions", f"at most {MAX_TEST_CONDITIONS} are allowed"))
        else:
            violations += _violations(condition_issues(conditions, "conditions"))
        for key, value in data.items():
            if key not in ("contact", "event", "vars", "execution"):
                violations.append(
                    FieldViolation(f"data.{key}", "must be one of contact, event, vars, execution")
                )
            elif not isinstance(value, dict):
                violations.append(FieldViolation(f"data.{key}", "must be an object"))
        if violations:
            raise InvalidArgument(f"{len(violations)} invalid field(s)", violations)
        return evaluate_parts(conditions, dict(data), now or self._clock.now())
