"""The task, calendar, activity and conversation actions: typed platform commands whose ids the
step derives (decision 0043).

What each step does is :mod:`beez.workflow.effects_tasks` and
:mod:`beez.workflow.effects_conversations` (the dry run applies the same effects): the effect's
``values`` are the command's fields in proto3 JSON form, parsed here into the typed message of
the ``PlatformCommand`` oneof named by the verb (the action type's own name), sent on
``platform.commands.<org>.<verb>`` through the outbox with the step's result. Nothing is called:
the owner deduplicates by the created object's id (derived from the step's attempt-independent
key, the same on every attempt) and by ``idempotency_key``.

A created object's id is set in ``vars`` (``task_id``, ``calendar_event_id``, ``meeting_id``,
``sequence_id``, ``follow_up_task_ids``) and in the step's output, so later steps reference it
without waiting for the owner to answer.

The engine runs all of them as local steps (one transaction: ``engine.attempts.is_local``), the
conversation ones too although they are ``communication`` types. ``preview`` runs the step (it has
no effect outside its result), so ActionService.TestAction shows the exact command.
"""

from __future__ import annotations

from google.protobuf import json_format

from beez.executor.actions.base import Action, ActionContext, ActionResult, PermanentError
from beez.executor.actions.crm import platform_command
from beez.workflow.effects import ScopedCompute, StepError, StepScope, step_scope_key
from beez.workflow.effects_conversations import CONVERSATION_EFFECTS
from beez.workflow.effects_tasks import TASK_EFFECTS

__all__ = ["SCOPED_TYPES", "ScopedCommand", "scoped_actions", "scoped_result", "step_scope"]

SCOPED_TYPES: tuple[str, ...] = (*TASK_EFFECTS, *CONVERSATION_EFFECTS)
"""Every type this module runs, create_task included."""


def step_scope(ctx: ActionContext) -> StepScope:
    """The step's scope: its attempt-independent key, time, triggering event and variables."""
    return StepScope(step_scope_key(ctx.idempotency_key), ctx.now, ctx.event, ctx.vars)


def scoped_result(ctx: ActionContext, compute: ScopedCompute) -> ActionResult:
    """The effect of a scoped step as its result, with its typed command.

    Raises:
        PermanentError: the config cannot work (``invalid_config``), the task or conversation it
            acts on is unknown (``no_task``, ``no_conversation``), or it needs a contact and the
            execution has none (``no_contact``).
    """
    try:
        effect = compute(ctx.config, ctx.contact, step_scope(ctx))
    except StepError as exc:
        raise PermanentError(str(exc), category=exc.category) from exc
    cmd = platform_command(ctx, needs_contact=effect.needs_contact)
    body = getattr(cmd, effect.command)
    body.SetInParent()
    try:
        json_format.ParseDict(effect.values, body)
    except json_format.ParseError as exc:
        raise PermanentError(f"the {effect.command} command does not form: {exc}") from exc
    return ActionResult(output=effect.output, vars=effect.vars, commands=[cmd])


class ScopedCommand:
    """One task, calendar, activity or conversation type (``type``), run by its effect."""

    def __init__(self, type_: str, compute: ScopedCompute) -> None:
        self.type = type_
        self._compute = compute

    async def run(self, ctx: ActionContext) -> ActionResult:
        return scoped_result(ctx, self._compute)

    async def preview(self, ctx: ActionContext) -> ActionResult:
        """The step's result, computed as :meth:`run` computes it: nothing is sent either way."""
        return scoped_result(ctx, self._compute)


def scoped_actions() -> list[Action]:
    """An action for every task, calendar, activity and conversation type."""
    return [
        ScopedCommand(type_, compute) for type_, compute in {**TASK_EFFECTS, **CONVERSATION_EFFECTS}.items()
    ]
