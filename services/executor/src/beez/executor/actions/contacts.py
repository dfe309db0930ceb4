"""The CRM's commands beyond tags, lists, fields and score (decision 0042), sent through the outbox.

Each verb's effect is :mod:`beez.workflow.effects_crm` (the dry run applies the same), made into a
``PlatformCommand`` on ``platform.commands.<org>.<verb>`` by :func:`.crm.effect_result`, exactly as
the older CRM actions are. The two verbs whose answer later steps need are :mod:`.requests`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from beez.executor.actions.base import ActionContext, ActionResult, PermanentError
from beez.executor.actions.crm import effect_result
from beez.workflow import effects
from beez.workflow.effects_crm import CRM_EFFECTS, REPLY_VARS
from beez.workflow.lead_score import calculate_lead_score

__all__ = ["COMMAND_VERBS", "CalculateLeadScore", "CrmCommand", "condition_context", "crm_commands"]

COMMAND_VERBS: tuple[str, ...] = tuple(verb for verb in CRM_EFFECTS if verb not in REPLY_VARS)
"""The verbs sent as one-way commands (the others answer: :mod:`.requests`)."""


class CrmCommand:
    """One one-way CRM verb: its effect as a platform command, its snapshot change applied."""

    def __init__(
        self, type_: str, compute: Callable[[Mapping[str, Any], Mapping[str, Any]], effects.Effect]
    ) -> None:
        self.type = type_
        self._compute = compute

    async def run(self, ctx: ActionContext) -> ActionResult:
        return effect_result(ctx, self._compute)


def condition_context(ctx: ActionContext) -> dict[str, Any]:
    """The context conditions read in a step: ``contact``, ``event``, ``vars``, ``execution``."""
    return {
        "contact": ctx.contact,
        "event": ctx.event,
        "vars": ctx.vars,
        "execution": {"id": ctx.execution_id, "automation_id": ctx.automation_id, "step_id": ctx.step_id},
    }


class CalculateLeadScore:
    """``calculate_lead_score {rules, base?, min?, max?}`` → ``calculate_lead_score`` command with
    the score and the rules that held; ``contact.score`` set. Output: ``score``, ``matched_rules``."""

    type = "calculate_lead_score"

    async def run(self, ctx: ActionContext) -> ActionResult:
        try:
            effect = calculate_lead_score(ctx.config, condition_context(ctx), ctx.now)
        except effects.StepError as exc:
            raise PermanentError(str(exc), category=exc.category) from exc
        return effect_result(ctx, lambda _config, _contact: effect)


def crm_commands() -> list[CrmCommand | CalculateLeadScore]:
    """An action per one-way verb, and the lead score."""
    return [*(CrmCommand(verb, CRM_EFFECTS[verb]) for verb in COMMAND_VERBS), CalculateLeadScore()]
