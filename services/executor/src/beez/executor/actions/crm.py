"""The CRM and task actions: each becomes a :class:`PlatformCommand` for the module that owns the
data, plus the same change to the execution's own contact snapshot (``contact_changes``) so later
conditions and templates see it at once.

What each step does is :mod:`beez.workflow.effects` (the dry run applies the same effects);
:func:`effect_result` turns an effect into the step's result. No action here calls anything:
the engine writes the command to its outbox with the step's result, and the owner deduplicates
by ``idempotency_key``. The subject is ``platform.commands.<org>.<verb>`` with
``verb = command_verb(cmd)``.

Contact actions need a contact (``no_contact`` otherwise, permanent). ``create_task`` is
:mod:`.tasks`'s (its task id is derived from the step, decision 0043).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, cast

from google.protobuf import json_format

from beez.api.messages.v1 import commands_pb2
from beez.executor.actions.base import ActionContext, ActionResult, PermanentError
from beez.workflow import effects
from beez.workflow.recipients import contact_id

__all__ = [
    "AddTag",
    "AddToList",
    "AssignUser",
    "RemoveFromList",
    "RemoveTag",
    "UpdateField",
    "UpdateScore",
    "command_verb",
    "effect_result",
    "platform_command",
    "text",
]

Compute = Callable[[Mapping[str, Any], Mapping[str, Any]], effects.Effect]


def command_verb(cmd: commands_pb2.PlatformCommand) -> str:
    """The command's oneof name (``add_tag``...), the last token of its subject.

    Raises:
        ValueError: the command carries no command.
    """
    verb = cmd.WhichOneof("command")
    if not verb:
        raise ValueError("the platform command carries no command")
    return str(verb)


def platform_command(ctx: ActionContext, *, needs_contact: bool = True) -> commands_pb2.PlatformCommand:
    """A command envelope for this step: idempotency key, organization, contact, execution."""
    contact = contact_id(ctx.contact, ctx.event)
    if needs_contact and not contact:
        raise PermanentError("this step needs a contact, and the execution has none", category="no_contact")
    return commands_pb2.PlatformCommand(
        idempotency_key=ctx.idempotency_key,
        organization_id=ctx.org_id,
        contact_id=contact,
        execution_id=ctx.execution_id,
        automation_id=ctx.automation_id,
    )


def text(ctx: ActionContext, key: str, *, required: bool = True) -> str:
    """``config[key]`` as stripped text; a required one that rendered empty is a permanent error."""
    try:
        return effects.text(ctx.config, key, required=required)
    except effects.StepError as exc:
        raise PermanentError(str(exc), category=exc.category) from exc


def effect_result(ctx: ActionContext, compute: Compute) -> ActionResult:
    """An effect of :mod:`beez.workflow.effects` as the step's result, its command made for this step.

    Raises:
        PermanentError: the config cannot work (``invalid_config``), or the step needs a contact
            and the execution has none (``no_contact``).
    """
    try:
        effect = compute(ctx.config, ctx.contact)
    except effects.StepError as exc:
        raise PermanentError(str(exc), category=exc.category) from exc
    commands = []
    if effect.command:
        cmd = platform_command(ctx, needs_contact=effect.needs_contact)
        command = getattr(cmd, effect.command)
        command.SetInParent()
        fields = command.DESCRIPTOR.fields_by_name
        for name, value in effect.values.items():
            if fields[name].is_repeated:
                getattr(command, name).extend(value)
            elif fields[name].message_type is None:
                setattr(command, name, value)  # a scalar: set as is (ParseDict costs ~5 µs a step)
            else:  # a google.protobuf.Value or Struct (update_field's value): any JSON
                json_format.ParseDict(cast(Any, value), getattr(command, name))
        commands.append(cmd)
    return ActionResult(
        output=effect.output, vars=effect.vars, contact_changes=effect.contact_changes, commands=commands
    )


class AddTag:
    """``add_tag {tag}`` → ``add_tag`` command, ``contact_changes.add_tags``."""

    type = "add_tag"

    async def run(self, ctx: ActionContext) -> ActionResult:
        return effect_result(ctx, effects.add_tag)


class RemoveTag:
    """``remove_tag {tag}`` → ``remove_tag`` command, ``contact_changes.remove_tags``."""

    type = "remove_tag"

    async def run(self, ctx: ActionContext) -> ActionResult:
        return effect_result(ctx, effects.remove_tag)


class UpdateField:
    """``update_field {field, value}`` → ``update_field`` command, ``contact_changes.fields``.

    ``field`` names a custom field; a leading ``contact.fields.`` or ``fields.`` (as conditions
    spell it) is dropped.
    """

    type = "update_field"

    async def run(self, ctx: ActionContext) -> ActionResult:
        return effect_result(ctx, effects.update_field)


class AddToList:
    """``add_to_list {list}`` → ``add_to_list`` command, ``contact_changes.add_lists``."""

    type = "add_to_list"

    async def run(self, ctx: ActionContext) -> ActionResult:
        return effect_result(ctx, effects.add_to_list)


class RemoveFromList:
    """``remove_from_list {list}`` → ``remove_from_list`` command, ``contact_changes.remove_lists``."""

    type = "remove_from_list"

    async def run(self, ctx: ActionContext) -> ActionResult:
        return effect_result(ctx, effects.remove_from_list)


class UpdateScore:
    """``update_score {delta}`` or ``{value}`` → ``update_score`` command, ``contact_changes.score_delta``.

    The command carries only a delta, so ``value`` becomes ``value - contact.score`` from the
    execution's snapshot (a concurrent change to the score between the snapshot and the owner
    applying the command is not seen).
    """

    type = "update_score"

    async def run(self, ctx: ActionContext) -> ActionResult:
        return effect_result(ctx, effects.update_score)


class AssignUser:
    """``assign_user {user_id?, team?}`` → ``assign_user`` command,
    ``contact_changes.assigned_user`` / ``assigned_team`` (those given)."""

    type = "assign_user"

    async def run(self, ctx: ActionContext) -> ActionResult:
        return effect_result(ctx, effects.assign_user)
