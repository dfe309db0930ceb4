"""Whether an event fires a trigger, and if not, why not.

Pure logic, shared by the trigger service (which matches every event against the automations
listening to its type) and the builder's ``TestTrigger`` (which shows a user why a sample event
would or would not fire). A trigger fires on an event when:

1. the event's type is the one the trigger listens to (``trigger.event``, else the catalog's);
2. every ``filters`` entry equals the event data's value (:mod:`beez.workflow.filters`);
3. the type's ``config`` rule holds, where the type has one:

   - ``contact_updated`` ``field``: ``data.changed`` (a list of field names) names it;
   - ``whatsapp_received``, ``sms_received``, ``message_received`` ``contains``: ``data.text``
     contains it, case-insensitively;
   - ``purchase_made``, ``payment_received`` ``min_amount``: ``data.amount`` is at least it;
   - ``score_changed`` ``threshold``/``direction``: ``data.old_score`` and ``data.new_score``
     cross it: up (the default) from below to at-or-above, down from at-or-above to below,
     either way with ``either``;
   - ``lifecycle_stage_changed`` ``from``/``to``: ``data.old_stage``/``data.new_stage``;
   - ``subscription_status_changed`` ``status``/``channel``: ``data.status``/``data.channel``;
   - ``automation_completed`` ``automation_id``/``outcome``: the same data fields.

``cart_abandoned`` matches its cart event like any event trigger; what makes it "no checkout
within X" is the wait :func:`started_workflow` puts in front of the automation's actions (the
executor runs that workflow; the trigger sends the automation's own, as announced).

Every reason names the trigger's path that failed (``trigger.filters.campaign``,
``trigger.config.threshold``), so a client can point at the field.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from google.protobuf import struct_pb2

from beez.api.workflow.v1.workflow_pb2 import Action, Branch, Trigger, Workflow
from beez.workflow import catalog
from beez.workflow.catalog.triggers import CHECKOUT_EVENT
from beez.workflow.filters import filters_match
from beez.workflow.model import struct_to_dict

__all__ = [
    "CART_WAIT_ID",
    "Miss",
    "TriggerMatcher",
    "explain",
    "listened_event",
    "started_workflow",
]

CART_WAIT_ID = "trigger:cart_abandoned:wait"
"""The id of the wait ``cart_abandoned`` puts in front of an automation's actions."""

CART_CHECKED_OUT_ID = "trigger:cart_abandoned:checked_out"
"""The id of the stop that ends a ``cart_abandoned`` execution whose checkout came in time."""

_MISSING = object()


@dataclass(frozen=True, slots=True)
class Miss:
    """One reason a trigger does not fire: the trigger's ``field`` that failed, and why."""

    field: str
    description: str


Rule = Callable[[Mapping[str, Any], Mapping[str, Any]], "Miss | None"]


def _get(data: Mapping[str, Any], key: str) -> Any:
    if key in data:
        return data[key]
    current: Any = data
    for part in key.split("."):
        if not isinstance(current, Mapping) or part not in current:
            return _MISSING
        current = current[part]
    return current


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _shown(value: Any) -> str:
    return "missing" if value is _MISSING else repr(value)


def _equals_rule(*pairs: tuple[str, str]) -> Rule:
    """A rule: each config key given must equal the data field of the pair."""

    def rule(config: Mapping[str, Any], data: Mapping[str, Any]) -> Miss | None:
        for key, field in pairs:
            if key in config:
                actual = _get(data, field)
                if actual is _MISSING or not filters_match({field: config[key]}, data):
                    return Miss(
                        f"trigger.config.{key}",
                        f"event.data.{field} is {_shown(actual)}, not {config[key]!r}",
                    )
        return None

    return rule


def _changed_field(config: Mapping[str, Any], data: Mapping[str, Any]) -> Miss | None:
    if "field" not in config:
        return None
    changed = _get(data, "changed")
    if not isinstance(changed, list) or config["field"] not in changed:
        return Miss(
            "trigger.config.field",
            f"event.data.changed ({_shown(changed)}) does not name {config['field']!r}",
        )
    return None


def _contains(config: Mapping[str, Any], data: Mapping[str, Any]) -> Miss | None:
    if "contains" not in config:
        return None
    text = _get(data, "text")
    needle = str(config["contains"]).casefold()
    if not isinstance(text, str) or needle not in text.casefold():
        return Miss("trigger.config.contains", f"event.data.text does not contain {config['contains']!r}")
    return None


def _min_amount(config: Mapping[str, Any], data: Mapping[str, Any]) -> Miss | None:
    if "min_amount" not in config:
        return None
    amount = _number(_get(data, "amount"))
    if amount is None:
        return Miss("trigger.config.min_amount", "event.data.amount is missing or not a number")
    if amount < float(config["min_amount"]):
        return Miss(
            "trigger.config.min_amount", f"event.data.amount {amount:g} is below {config['min_amount']}"
        )
    return None


def _score_crossed(config: Mapping[str, Any], data: Mapping[str, Any]) -> Miss | None:
    threshold = _number(config.get("threshold"))
    if threshold is None:
        return Miss("trigger.config.threshold", "is required")
    old, new = _number(_get(data, "old_score")), _number(_get(data, "new_score"))
    if old is None or new is None:
        return Miss("trigger.config.threshold", "event.data.old_score and new_score must both be numbers")
    direction = config.get("direction", "up")
    up = old < threshold <= new
    down = new < threshold <= old
    if (
        (direction == "up" and up)
        or (direction == "down" and down)
        or (direction == "either" and (up or down))
    ):
        return None
    return Miss(
        "trigger.config.threshold",
        f"the score went from {old:g} to {new:g}, which does not cross {threshold:g} {direction}",
    )


RULES: dict[str, Rule] = {
    "contact_updated": _changed_field,
    "whatsapp_received": _contains,
    "sms_received": _contains,
    "message_received": _contains,
    "purchase_made": _min_amount,
    "payment_received": _min_amount,
    "score_changed": _score_crossed,
    "lifecycle_stage_changed": _equals_rule(("from", "old_stage"), ("to", "new_stage")),
    "subscription_status_changed": _equals_rule(("status", "status"), ("channel", "channel")),
    "automation_completed": _equals_rule(("automation_id", "automation_id"), ("outcome", "outcome")),
}
"""The config rule of each trigger type that has one."""


def listened_event(trigger: Trigger) -> str | None:
    """The event type ``trigger`` listens to: ``trigger.event``, else the catalog's default."""
    if trigger.event:
        return trigger.event
    entry = catalog.trigger_type(trigger.type)
    return entry.event if entry is not None else None


def _filter_misses(filters: Mapping[str, Any], data: Mapping[str, Any]) -> list[Miss]:
    misses = []
    for key, expected in filters.items():
        if not filters_match({key: expected}, data):
            actual = _get(data, key)
            misses.append(
                Miss(f"trigger.filters.{key}", f"event.data.{key} is {_shown(actual)}, not {expected!r}")
            )
    return misses


class TriggerMatcher:
    """A trigger's filters and config, decoded once, matched against many events' data."""

    __slots__ = ("config", "filters", "rule", "type")

    def __init__(self, trigger: Trigger) -> None:
        self.type = trigger.type
        self.filters = struct_to_dict(trigger.filters)
        self.config = struct_to_dict(trigger.config)
        self.rule = RULES.get(trigger.type)

    def matches(self, data: Mapping[str, Any]) -> bool:
        """Whether an event of the listened type with ``data`` fires the trigger."""
        if not filters_match(self.filters, data):
            return False
        return self.rule is None or self.rule(self.config, data) is None

    def misses(self, data: Mapping[str, Any]) -> list[Miss]:
        """Every reason ``data`` does not fire the trigger (empty: it fires)."""
        misses = _filter_misses(self.filters, data)
        if self.rule is not None:
            miss = self.rule(self.config, data)
            if miss is not None:
                misses.append(miss)
        return misses


def explain(trigger: Trigger, event_type: str, data: Mapping[str, Any]) -> list[Miss]:
    """Every reason an event of ``event_type`` with ``data`` does not fire ``trigger``."""
    misses: list[Miss] = []
    listened = listened_event(trigger)
    if listened is None:
        entry = catalog.trigger_type(trigger.type)
        if entry is None or entry.category == "event":
            misses.append(Miss("trigger.event", "names no event type"))
        else:
            misses.append(Miss("trigger.type", f"a {entry.category} trigger does not fire on events"))
    elif listened != event_type:
        misses.append(
            Miss("trigger.event", f"listens to {listened}, not {event_type or 'an event without a type'}")
        )
    misses.extend(TriggerMatcher(trigger).misses(data))
    return misses


def started_workflow(workflow: Workflow) -> Workflow:
    """The workflow an execution of ``workflow`` runs: the automation's own, except for
    ``cart_abandoned``.

    There the actions go in the ``timeout`` branch of a ``wait_for_event`` on the checkout event
    (``config.checkout_event``, default ``checkout.completed``) of the same contact that times out
    after ``config.within``; the checkout arriving first ends the execution at a ``stop``
    without running them. The wait is the executor's, registered with and matched by the trigger
    like any ``wait_for_event``. The result depends on the workflow alone, so one automation
    version runs one workflow: the executor derives it from the announced one it verified.
    """
    trigger = workflow.trigger
    if trigger.type != "cart_abandoned":
        return workflow
    config = struct_to_dict(trigger.config)
    within = config.get("within")
    if not isinstance(within, dict):
        return workflow
    stop_config = struct_pb2.Struct()
    stop_config.update({"reason": "checked out in time: the cart was not abandoned"})
    wait = Action(
        id=CART_WAIT_ID,
        type="wait_for_event",
        branches=[
            Branch(name="event", actions=[Action(id=CART_CHECKED_OUT_ID, type="stop", config=stop_config)]),
            Branch(name="timeout", actions=list(workflow.actions)),
        ],
    )
    wait.config.update(
        {
            "event": config.get("checkout_event") or CHECKOUT_EVENT,
            "timeout": {"value": within.get("value"), "unit": within.get("unit")},
        }
    )
    started = Workflow()
    started.CopyFrom(workflow)
    del started.actions[:]
    started.actions.append(wait)
    return started
