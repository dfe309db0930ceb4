"""``calculate_value``: a bounded CEL expression over the step's context, its number into ``vars``.

The expression is CEL (the language conditions compile to), never Python: it reads ``contact``,
``event`` and ``vars`` and can call CEL's own functions (``size``, ``int``, ``double``...),
nothing else. Every number read from the context is a double, as in conditions, so
constants mixed with them are written as doubles (``contact.score * 2.0``); CEL does not mix
ints and doubles and says so in the step's error. Evaluation runs only when the cost estimate
for the data at hand is within the same budget as conditions (:mod:`.conditions.cost`), so a
tenant's expression cannot hold the worker for long.

The executor's action and the dry run both call :func:`calculate_value`, so they agree.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import cel

from beez.workflow.conditions.cost import UNREADABLE, cost_budget, estimate_source
from beez.workflow.conditions.program import CompiledCondition
from beez.workflow.conditions.translate import MAX_EXPRESSION_LENGTH
from beez.workflow.effects import Effect, StepError, text
from beez.workflow.errors import ConditionBudgetError, ConditionError, Issue

__all__ = ["calculate_value", "expression_issues"]

_TEMPLATE_MARKS = ("{{", "{%", "{#")
ROOTS = ("contact", "event", "vars")
"""What an expression reads."""


def expression_issues(source: str, path: str) -> list[Issue]:
    """Problems of a ``calculate_value`` expression: not CEL, too long, a template, over budget."""
    if any(mark in source for mark in _TEMPLATE_MARKS):
        return [Issue(path, "is a CEL expression, not a template: read values as contact.score, vars.total")]
    if len(source) > MAX_EXPRESSION_LENGTH:
        return [Issue(path, f"must have at most {MAX_EXPRESSION_LENGTH} characters")]
    try:
        cel.compile(source)
    except Exception as exc:  # the cel binding raises ValueError for syntax errors
        return [Issue(path, "invalid CEL: " + " ".join(str(exc).split()))]
    cost, budget = estimate_source(source), cost_budget()
    if cost >= UNREADABLE:
        return [Issue(path, "its cost cannot be estimated")]
    if cost > budget:
        return [Issue(path, f"is too expensive: its cost is estimated at {cost} units, more than {budget}")]
    return []


def calculate_value(config: Mapping[str, Any], ctx: Mapping[str, Any], now: datetime) -> Effect:
    """``calculate_value {expression, name, decimals?}``: ``vars[name]`` = the expression's number.

    A whole result is stored as an integer. Output: ``name``, ``value``.

    Raises:
        StepError: an expression that is invalid, over its budget on this data (``cost_budget``),
            fails to evaluate or gives something other than a finite number (``calculation``).
    """
    name = text(config, "name")
    source = text(config, "expression")
    issues = expression_issues(source, "config.expression")
    if issues:
        raise StepError(f"{issues[0].field}: {issues[0].description}")
    program = CompiledCondition(source, "config.expression")
    try:
        value = program.value({root: ctx.get(root) or {} for root in ROOTS}, now)
    except ConditionBudgetError as exc:
        raise StepError(str(exc), category="cost_budget") from exc
    except ConditionError as exc:
        raise StepError(str(exc), category="calculation") from exc
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise StepError(f"the expression gave {value!r}, not a number", category="calculation")
    if not math.isfinite(value):
        raise StepError(
            f"the expression gave {value}, not a finite number (a division by zero?)", category="calculation"
        )
    decimals = config.get("decimals")
    if isinstance(decimals, int) and not isinstance(decimals, bool):
        value = round(float(value), decimals)
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        value = int(value)
    return Effect(output={"name": name, "value": value}, vars={name: value}, needs_contact=False)
