"""What the CRM, task, data and notification actions do to an execution, from their rendered config.

Each function reads a step's rendered ``config`` and returns an :class:`Effect`: the platform
command it sends (verb and fields), what the step log records (``output``), the change to the
execution's own contact snapshot (``contact_changes``, applied by :func:`apply_contact_changes`)
and the variables it sets. The executor's actions turn the command into a ``PlatformCommand``;
the dry run applies the changes to its context; so both see the same contact afterwards.

A config that cannot work raises :class:`StepError` (category ``invalid_config``), the
permanent failure the executor records.

Task, calendar, activity and conversation steps create objects and refer to earlier ones, so their
effects also take the step's :class:`StepScope` (:mod:`beez.workflow.effects_tasks`,
:mod:`beez.workflow.effects_conversations`, decision 0043); :func:`effect_of` with a scope
dispatches to them.

Contact changes: ``add_tags``, ``remove_tags``, ``add_lists``, ``remove_lists``, ``fields`` (a
dict merged in), ``score``, ``score_delta``, ``assigned_user``, ``assigned_team``, ``consent``
(merged per channel), ``deleted``. The CRM's other verbs are :mod:`beez.workflow.effects_crm`;
:func:`effect_of` finds them too.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any, cast

from google.protobuf import json_format, struct_pb2

from beez.workflow.model import plain

__all__ = [
    "EFFECTS",
    "INT32_MAX",
    "INT32_MIN",
    "Effect",
    "ScopedCompute",
    "StepError",
    "StepScope",
    "add_tag",
    "add_to_list",
    "apply_contact_changes",
    "assign_user",
    "create_task",
    "effect_of",
    "int32",
    "remove_from_list",
    "remove_tag",
    "scoped_effects",
    "send_internal_notification",
    "set_variable",
    "step_scope_key",
    "text",
    "update_field",
    "update_score",
    "whole",
]

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1


class StepError(ValueError):
    """A step that cannot be performed as configured; retrying cannot help.

    ``category`` is what the step log and dead letters show (``invalid_config``,
    ``no_contact``, ``invalid_recipient``).
    """

    def __init__(self, message: str, category: str = "invalid_config") -> None:
        super().__init__(message)
        self.category = category


@dataclass(frozen=True)
class Effect:
    """What one CRM, task, data or notification step does."""

    command: str = ""
    """The platform command's verb (``add_tag``...), "" when the step sends none."""
    values: dict[str, Any] = field(default_factory=dict)
    """The command's fields (``tag``, ``field`` and ``value``, ``delta``...)."""
    output: dict[str, Any] = field(default_factory=dict)
    """What the step log records."""
    contact_changes: dict[str, Any] = field(default_factory=dict)
    vars: dict[str, Any] = field(default_factory=dict)
    needs_contact: bool = True
    """Whether the step fails (``no_contact``) when the execution has no contact."""


_ATTEMPT = re.compile(r":attempt:\d+$")


def step_scope_key(key: str) -> str:
    """A step's attempt-independent key: ``exec:<id>:step:<position>`` of an idempotency key
    ``exec:<id>:step:<position>:attempt:<n>`` (a key without an attempt is returned as is)."""
    return _ATTEMPT.sub("", key)


@dataclass(frozen=True)
class StepScope:
    """Where a step runs, for the effects that create objects or refer to earlier ones
    (decision 0043): the ids they create are derived from ``key``, so every attempt of the step,
    and the dry run of the same position, name the same object."""

    key: str
    """``exec:<execution id>:step:<position>``, without the attempt."""
    now: datetime
    """The step's time: relative dates (``due_in``, ``start_in``) count from it."""
    event: Mapping[str, Any] = field(default_factory=dict)
    """The triggering event (``event.data.task_id``, ``.conversation_id`` are defaults)."""
    vars: Mapping[str, Any] = field(default_factory=dict)
    """The execution's variables (``vars.task_id``, set by an earlier create_task)."""


ScopedCompute = Callable[[Mapping[str, Any], Mapping[str, Any], StepScope], Effect]
"""An effect that needs its :class:`StepScope` (``effects_tasks``, ``effects_conversations``)."""


def text(config: Mapping[str, Any], key: str, *, required: bool = True) -> str:
    """``config[key]`` as stripped text.

    Raises:
        StepError: a required value that is missing or rendered empty.
    """
    value = config.get(key)
    result = "" if value is None else str(value).strip()
    if required and not result:
        raise StepError(f"`{key}` is empty")
    return result


def int32(value: int, what: str) -> int:
    """``value`` when it fits a protobuf int32.

    Raises:
        StepError: out of range.
    """
    if not INT32_MIN <= value <= INT32_MAX:
        raise StepError(f"{what} {value} is out of range")
    return value


def whole(value: Any, key: str) -> int:
    """A whole number given as an int, a whole float or digits in text.

    Raises:
        StepError: anything else (booleans included).
    """
    if isinstance(value, bool):
        raise StepError(f"`{key}` must be a whole number")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    raise StepError(f"`{key}` must be a whole number")


def add_tag(config: Mapping[str, Any], contact: Mapping[str, Any]) -> Effect:
    """``add_tag {tag}``: the ``add_tag`` command; the tag added to the snapshot."""
    tag = text(config, "tag")
    return Effect("add_tag", {"tag": tag}, {"command": "add_tag", "tag": tag}, {"add_tags": [tag]})


def remove_tag(config: Mapping[str, Any], contact: Mapping[str, Any]) -> Effect:
    """``remove_tag {tag}``: the ``remove_tag`` command; the tag removed from the snapshot."""
    tag = text(config, "tag")
    return Effect("remove_tag", {"tag": tag}, {"command": "remove_tag", "tag": tag}, {"remove_tags": [tag]})


def update_field(config: Mapping[str, Any], contact: Mapping[str, Any]) -> Effect:
    """``update_field {field, value}``: the ``update_field`` command; the custom field set.

    ``field`` names a custom field; a leading ``contact.fields.`` or ``fields.`` (as conditions
    spell it) is dropped, and nothing else is: ``contact.plan`` is a custom field of that name.

    Raises:
        StepError: an empty field, or a value that is not JSON.
    """
    name = text(config, "field")
    for prefix in ("contact.fields.", "fields."):
        if name.startswith(prefix):
            name = name[len(prefix) :]
    if not name:
        raise StepError("`field` is empty")
    value = config.get("value")
    try:
        json_format.ParseDict(cast(Any, value), struct_pb2.Value())
    except (json_format.ParseError, TypeError, ValueError) as exc:
        raise StepError(f"`value` is not a JSON value: {exc}") from exc
    return Effect(
        "update_field",
        {"field": name, "value": value},
        {"command": "update_field", "field": name, "value": value},
        {"fields": {name: value}},
    )


def add_to_list(config: Mapping[str, Any], contact: Mapping[str, Any]) -> Effect:
    """``add_to_list {list}``: the ``add_to_list`` command; the list added to the snapshot."""
    name = text(config, "list")
    return Effect(
        "add_to_list", {"list": name}, {"command": "add_to_list", "list": name}, {"add_lists": [name]}
    )


def remove_from_list(config: Mapping[str, Any], contact: Mapping[str, Any]) -> Effect:
    """``remove_from_list {list}``: the ``remove_from_list`` command; the list removed."""
    name = text(config, "list")
    return Effect(
        "remove_from_list",
        {"list": name},
        {"command": "remove_from_list", "list": name},
        {"remove_lists": [name]},
    )


def update_score(config: Mapping[str, Any], contact: Mapping[str, Any]) -> Effect:
    """``update_score {delta}`` or ``{value}``: the ``update_score`` command, which carries a delta.

    ``value`` becomes ``value - contact.score`` from the snapshot.

    Raises:
        StepError: a score, delta or value that is not a whole number, or a delta beyond int32.
    """
    current = whole(contact.get("score") or 0, "contact.score")
    if config.get("value") is not None:
        delta = whole(config["value"], "value") - current
    else:
        delta = whole(config.get("delta"), "delta")
    delta = int32(delta, "score delta")
    return Effect(
        "update_score",
        {"delta": delta},
        {"command": "update_score", "delta": delta, "score": current + delta},
        {"score_delta": delta},
    )


def assign_user(config: Mapping[str, Any], contact: Mapping[str, Any]) -> Effect:
    """``assign_user {user_id?, team?}``: the ``assign_user`` command; the assignment (those given).

    Raises:
        StepError: neither is given.
    """
    user_id = text(config, "user_id", required=False)
    team = text(config, "team", required=False)
    if not user_id and not team:
        raise StepError("`user_id` and `team` are both empty")
    changes: dict[str, Any] = {}
    if user_id:
        changes["assigned_user"] = user_id
    if team:
        changes["assigned_team"] = team
    return Effect(
        "assign_user",
        {"user_id": user_id, "team": team},
        {"command": "assign_user", "user_id": user_id, "team": team},
        changes,
    )


def create_task(config: Mapping[str, Any], contact: Mapping[str, Any]) -> Effect:
    """``create_task {title, description?, assignee?, due_in_hours?}``: the ``create_task`` command.

    It needs no contact, and changes none.
    """
    title = text(config, "title")
    description = text(config, "description", required=False)
    assignee = text(config, "assignee", required=False)
    due = config.get("due_in_hours")
    due_in_hours = int32(whole(due, "due_in_hours"), "due_in_hours") if due is not None else 0
    output: dict[str, Any] = {"command": "create_task", "title": title, "assignee": assignee}
    if due_in_hours:
        output["due_in_hours"] = due_in_hours
    values = {"title": title, "description": description, "assignee": assignee, "due_in_hours": due_in_hours}
    return Effect("create_task", values, output, needs_contact=False)


def set_variable(config: Mapping[str, Any], contact: Mapping[str, Any]) -> Effect:
    """``set_variable {name, value}``: ``vars[name] = value``; no command."""
    name = text(config, "name")
    value = config.get("value")
    return Effect(output={"name": name, "value": value}, vars={name: value}, needs_contact=False)


def send_internal_notification(config: Mapping[str, Any], contact: Mapping[str, Any]) -> Effect:
    """``send_internal_notification {message, user_id?, channel?}``: the ``send_notification`` command."""
    message = text(config, "message")
    user_id = text(config, "user_id", required=False)
    channel = text(config, "channel", required=False)
    values = {"message": message, "user_id": user_id, "channel": channel}
    return Effect(
        "send_notification", values, {"command": "send_notification", **values}, needs_contact=False
    )


from beez.workflow.effects_comms import create_email_draft  # noqa: E402  (it builds on the above)

EFFECTS: dict[str, Callable[[Mapping[str, Any], Mapping[str, Any]], Effect]] = {
    "add_tag": add_tag,
    "remove_tag": remove_tag,
    "update_field": update_field,
    "add_to_list": add_to_list,
    "remove_from_list": remove_from_list,
    "update_score": update_score,
    "assign_user": assign_user,
    "create_task": create_task,
    "set_variable": set_variable,
    "send_internal_notification": send_internal_notification,
    "create_email_draft": create_email_draft,
}
"""The action types whose whole effect is computed here, by type."""


@lru_cache(maxsize=1)
def scoped_effects() -> dict[str, ScopedCompute]:
    """The effects that need a :class:`StepScope`, by type (imported here, when first asked,
    because their modules build on this one)."""
    from beez.workflow.effects_conversations import CONVERSATION_EFFECTS
    from beez.workflow.effects_tasks import TASK_EFFECTS

    return {**TASK_EFFECTS, **CONVERSATION_EFFECTS}


def effect_of(
    type_: str, config: Mapping[str, Any], contact: Mapping[str, Any], scope: StepScope | None = None
) -> Effect | None:
    """The effect of a step of ``type_`` with this rendered config, None for other types.

    With a ``scope`` the scoped effects come first (``create_task`` then also names its task);
    without one, a type that needs a scope has no effect here.

    Raises:
        StepError: the config cannot work.
    """
    if scope is not None:
        scoped = scoped_effects().get(type_)
        if scoped is not None:
            return scoped(config, contact, scope)
    compute = EFFECTS.get(type_) or _crm_effects().get(type_)
    return compute(config, contact) if compute is not None else None


@lru_cache(maxsize=1)
def _crm_effects() -> Mapping[str, Callable[[Mapping[str, Any], Mapping[str, Any]], Effect]]:
    """The CRM verbs of :mod:`beez.workflow.effects_crm` (imported here, late: it builds on this module)."""
    from beez.workflow.effects_crm import CRM_EFFECTS

    return CRM_EFFECTS


def apply_contact_changes(contact: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """The snapshot with a step's ``contact_changes`` applied (a new dict; ``contact`` is untouched).

    Tags and lists keep their order, an added one goes last and only once; ``fields`` are merged
    in; ``score`` sets the score and ``score_delta`` adds to it; an assignment replaces the
    previous one; ``consent`` is merged per channel; ``deleted`` marks the contact deleted.
    """
    result = dict(contact)  # shallow: every change below replaces a value, none edits one in place
    for key, add, remove in (("tags", "add_tags", "remove_tags"), ("lists", "add_lists", "remove_lists")):
        values = list(result.get(key) or [])
        for item in changes.get(add) or []:
            if item not in values:
                values.append(item)
        dropped = set(changes.get(remove) or [])
        result[key] = [item for item in values if item not in dropped]
    fields = changes.get("fields")
    if isinstance(fields, Mapping):
        result["fields"] = {**(result.get("fields") or {}), **plain(dict(fields))}
    if isinstance(changes.get("score"), int | float):
        result["score"] = changes["score"]
    if isinstance(changes.get("score_delta"), int | float):
        result["score"] = (result.get("score") or 0) + changes["score_delta"]
    for key in ("assigned_user", "assigned_team"):
        if changes.get(key):
            result[key] = changes[key]
    consent = changes.get("consent")
    if isinstance(consent, Mapping):
        result["consent"] = {**(result.get("consent") or {}), **consent}
    if changes.get("deleted"):
        result["deleted"] = True
    return result
