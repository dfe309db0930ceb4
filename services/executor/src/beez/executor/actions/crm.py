"""The CRM and task actions: each becomes a :class:`PlatformCommand` for the module that owns the
data, plus the same change to the execution's own contact snapshot (``contact_changes``) so later
conditions and templates see it at once.

No action here calls anything: the engine writes the command to its outbox with the step's
result, and the owner deduplicates by ``idempotency_key``. The subject is
``platform.commands.<org>.<verb>`` with ``verb = command_verb(cmd)``.

Contact actions need a contact (``no_contact`` otherwise, permanent); ``create_task`` does not.
"""

from __future__ import annotations

from typing import Any, cast

from google.protobuf import json_format

from beez.api.messages.v1 import commands_pb2
from beez.executor.actions.base import ActionContext, ActionResult, PermanentError
from beez.executor.actions.recipients import contact_id

__all__ = [
    "AddTag",
    "AddToList",
    "AssignUser",
    "CreateTask",
    "RemoveFromList",
    "RemoveTag",
    "UpdateField",
    "UpdateScore",
    "command_verb",
    "platform_command",
]

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1


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
    contact = contact_id(ctx)
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
    value = ctx.config.get(key)
    result = "" if value is None else str(value).strip()
    if required and not result:
        raise PermanentError(f"`{key}` is empty", category="invalid_config")
    return result


def _int32(value: int, what: str) -> int:
    if not INT32_MIN <= value <= INT32_MAX:
        raise PermanentError(f"{what} {value} is out of range", category="invalid_config")
    return value


def _whole(value: Any, key: str) -> int:
    if isinstance(value, bool):
        raise PermanentError(f"`{key}` must be a whole number", category="invalid_config")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    raise PermanentError(f"`{key}` must be a whole number", category="invalid_config")


class AddTag:
    """``add_tag {tag}`` → ``add_tag`` command, ``contact_changes.add_tags``."""

    type = "add_tag"

    async def run(self, ctx: ActionContext) -> ActionResult:
        tag = text(ctx, "tag")
        cmd = platform_command(ctx)
        cmd.add_tag.tag = tag
        return ActionResult(
            output={"command": "add_tag", "tag": tag}, contact_changes={"add_tags": [tag]}, commands=[cmd]
        )


class RemoveTag:
    """``remove_tag {tag}`` → ``remove_tag`` command, ``contact_changes.remove_tags``."""

    type = "remove_tag"

    async def run(self, ctx: ActionContext) -> ActionResult:
        tag = text(ctx, "tag")
        cmd = platform_command(ctx)
        cmd.remove_tag.tag = tag
        return ActionResult(
            output={"command": "remove_tag", "tag": tag},
            contact_changes={"remove_tags": [tag]},
            commands=[cmd],
        )


class UpdateField:
    """``update_field {field, value}`` → ``update_field`` command, ``contact_changes.fields``.

    ``field`` names a custom field; a leading ``contact.fields.`` or ``fields.`` (as conditions
    spell it) is dropped.
    """

    type = "update_field"

    async def run(self, ctx: ActionContext) -> ActionResult:
        field = text(ctx, "field")
        for prefix in ("contact.fields.", "fields."):
            if field.startswith(prefix):
                field = field[len(prefix) :]
        if not field:
            raise PermanentError("`field` is empty", category="invalid_config")
        value = ctx.config.get("value")
        cmd = platform_command(ctx)
        cmd.update_field.field = field
        try:
            json_format.ParseDict(cast(Any, value), cmd.update_field.value)
        except (json_format.ParseError, TypeError, ValueError) as exc:
            raise PermanentError(f"`value` is not a JSON value: {exc}", category="invalid_config") from exc
        return ActionResult(
            output={"command": "update_field", "field": field, "value": value},
            contact_changes={"fields": {field: value}},
            commands=[cmd],
        )


class AddToList:
    """``add_to_list {list}`` → ``add_to_list`` command, ``contact_changes.add_lists``."""

    type = "add_to_list"

    async def run(self, ctx: ActionContext) -> ActionResult:
        name = text(ctx, "list")
        cmd = platform_command(ctx)
        cmd.add_to_list.list = name
        return ActionResult(
            output={"command": "add_to_list", "list": name},
            contact_changes={"add_lists": [name]},
            commands=[cmd],
        )


class RemoveFromList:
    """``remove_from_list {list}`` → ``remove_from_list`` command, ``contact_changes.remove_lists``."""

    type = "remove_from_list"

    async def run(self, ctx: ActionContext) -> ActionResult:
        name = text(ctx, "list")
        cmd = platform_command(ctx)
        cmd.remove_from_list.list = name
        return ActionResult(
            output={"command": "remove_from_list", "list": name},
            contact_changes={"remove_lists": [name]},
            commands=[cmd],
        )


class UpdateScore:
    """``update_score {delta}`` or ``{value}`` → ``update_score`` command, ``contact_changes.score_delta``.

    The command carries only a delta, so ``value`` becomes ``value - contact.score`` from the
    execution's snapshot (a concurrent change to the score between the snapshot and the owner
    applying the command is not seen).
    """

    type = "update_score"

    async def run(self, ctx: ActionContext) -> ActionResult:
        current = ctx.contact.get("score") or 0
        current = _whole(current, "contact.score")
        if ctx.config.get("value") is not None:
            target = _whole(ctx.config["value"], "value")
            delta = target - current
        else:
            delta = _whole(ctx.config.get("delta"), "delta")
        delta = _int32(delta, "score delta")
        cmd = platform_command(ctx)
        cmd.update_score.delta = delta
        return ActionResult(
            output={"command": "update_score", "delta": delta, "score": current + delta},
            contact_changes={"score_delta": delta},
            commands=[cmd],
        )


class AssignUser:
    """``assign_user {user_id?, team?}`` → ``assign_user`` command,
    ``contact_changes.assigned_user`` / ``assigned_team`` (those given)."""

    type = "assign_user"

    async def run(self, ctx: ActionContext) -> ActionResult:
        user_id = text(ctx, "user_id", required=False)
        team = text(ctx, "team", required=False)
        if not user_id and not team:
            raise PermanentError("`user_id` and `team` are both empty", category="invalid_config")
        cmd = platform_command(ctx)
        cmd.assign_user.user_id = user_id
        cmd.assign_user.team = team
        changes: dict[str, Any] = {}
        if user_id:
            changes["assigned_user"] = user_id
        if team:
            changes["assigned_team"] = team
        return ActionResult(
            output={"command": "assign_user", "user_id": user_id, "team": team},
            contact_changes=changes,
            commands=[cmd],
        )


class CreateTask:
    """``create_task {title, description?, assignee?, due_in_hours?}`` → ``create_task`` command
    (with the contact when there is one). No contact change."""

    type = "create_task"

    async def run(self, ctx: ActionContext) -> ActionResult:
        title = text(ctx, "title")
        description = text(ctx, "description", required=False)
        assignee = text(ctx, "assignee", required=False)
        due = ctx.config.get("due_in_hours")
        due_in_hours = _int32(_whole(due, "due_in_hours"), "due_in_hours") if due is not None else 0
        cmd = platform_command(ctx, needs_contact=False)
        cmd.create_task.CopyFrom(
            commands_pb2.CreateTask(
                title=title, description=description, assignee=assignee, due_in_hours=due_in_hours
            )
        )
        output: dict[str, Any] = {"command": "create_task", "title": title, "assignee": assignee}
        if due_in_hours:
            output["due_in_hours"] = due_in_hours
        return ActionResult(output=output, commands=[cmd])
