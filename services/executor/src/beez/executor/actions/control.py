"""calculate_value and send_error_alert: automation-control steps run as local actions.

What each does is :mod:`beez.workflow.effects_control` (the dry run applies the same effects):
``calculate_value`` stores a CEL expression's number in ``vars``; ``send_error_alert`` returns
the ``alert_admins`` platform command, reporting ``vars.error`` when it runs in a step's
``failed`` branch. Neither calls anything; both fail permanently on a config that cannot work.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from beez.executor.actions.base import Action, ActionContext, ActionResult
from beez.executor.actions.crm import effect_result
from beez.workflow import effects
from beez.workflow.effects_control import CONTEXT_EFFECTS

__all__ = ["CONTROL_ACTION_TYPES", "CalculateValue", "SendErrorAlert", "control_actions"]


class _ContextAction:
    """A local action whose effect reads the step's whole context."""

    type = ""

    async def run(self, ctx: ActionContext) -> ActionResult:
        compute = CONTEXT_EFFECTS[self.type]
        context = {"contact": ctx.contact, "event": ctx.event, "vars": ctx.vars}

        def effect(config: Mapping[str, Any], contact: Mapping[str, Any]) -> effects.Effect:
            return compute(config, context, ctx.now)

        return effect_result(ctx, effect)


class CalculateValue(_ContextAction):
    """``calculate_value {expression, name, decimals?}`` → ``vars[name]``. Output: ``name``, ``value``."""

    type = "calculate_value"


class SendErrorAlert(_ContextAction):
    """``send_error_alert {message?, severity?}`` → ``alert_admins`` command. Output: the command's fields."""

    type = "send_error_alert"


CONTROL_ACTION_TYPES: tuple[str, ...] = ("calculate_value", "send_error_alert")
"""The automation-control types a registered action runs (the others are the engine's)."""


def control_actions() -> list[Action]:
    """One action of each of :data:`CONTROL_ACTION_TYPES`."""
    return [CalculateValue(), SendErrorAlert()]
