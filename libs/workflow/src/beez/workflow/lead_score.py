"""``calculate_lead_score`` (decision 0042): a bounded, rule-based score from the workflow's conditions.

The score is ``base`` plus the ``points`` of every rule whose conditions hold in the step's
context, bounded by ``min``/``max`` and int32; it sets ``contact.score``. The rules use the
condition machinery of every condition step (CEL), and validation holds all of a step's rules
to one condition cost budget, so the step costs what one condition step may.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from beez.workflow.catalog.actions_crm import MAX_LEAD_SCORE_RULES
from beez.workflow.conditions import condition_issues, to_cel
from beez.workflow.conditions.cost import cost_budget, estimate_source
from beez.workflow.conditions.program import compile_conditions
from beez.workflow.effects import Effect, StepError, int32, whole
from beez.workflow.errors import ConditionError, Issue
from beez.workflow.model import conditions_from_json

__all__ = ["CONTEXT_EFFECTS", "calculate_lead_score", "context_effect_of", "lead_score_issues"]


def _rules(config: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    rules = config.get("rules")
    if not isinstance(rules, list) or not rules or not all(isinstance(r, Mapping) for r in rules):
        raise StepError("`rules` must be a non-empty list of rules")
    if len(rules) > MAX_LEAD_SCORE_RULES:
        raise StepError(f"at most {MAX_LEAD_SCORE_RULES} rules")
    return rules


def lead_score_issues(config: Mapping[str, Any], path: str) -> list[Issue]:
    """Validation of ``calculate_lead_score``'s rules: each rule's conditions parse and compile,
    and all of them together fit one condition budget (the step evaluates them all)."""
    rules = config.get("rules")
    if not isinstance(rules, list):
        return []
    issues: list[Issue] = []
    total = 0
    for index, rule in enumerate(rules):
        raw = rule.get("conditions") if isinstance(rule, Mapping) else None
        if not isinstance(raw, list):
            continue
        at = f"{path}.rules[{index}].conditions"
        conditions, problems = conditions_from_json(raw, at)
        problems = problems or condition_issues(conditions, at)
        issues.extend(problems)
        if not problems:
            total += estimate_source(to_cel(conditions, at)[0])
    if not issues and total > cost_budget():
        issues.append(
            Issue(
                f"{path}.rules", f"the rules together cost {total} units, over the budget of {cost_budget()}"
            )
        )
    return issues


def calculate_lead_score(config: Mapping[str, Any], ctx: Mapping[str, Any], now: datetime) -> Effect:
    """``calculate_lead_score {rules: [{name?, points, conditions}], base?, min?, max?}``.

    The score is ``base`` (default 0) plus the ``points`` of every rule whose conditions hold in
    the context (CEL, within the condition cost budget), bounded by ``min`` and ``max`` when given
    and by int32; it sets ``contact.score``. A rule whose conditions cannot be evaluated does not
    hold.

    Raises:
        StepError: rules that are not a list of at most :data:`MAX_LEAD_SCORE_RULES`, points that are
            not whole, or conditions that do not compile.
    """
    score = whole(config.get("base", 0), "base")
    matched: list[str] = []
    for index, rule in enumerate(_rules(config)):
        name = str(rule.get("name") or f"rule {index + 1}")
        points = whole(rule.get("points"), f"rules[{index}].points")
        at = f"config.rules[{index}].conditions"
        raw = rule.get("conditions")
        conditions, issues = conditions_from_json(raw if isinstance(raw, list) else [], at)
        if issues or not conditions:
            raise StepError(f"{at}: {issues[0].description if issues else 'are required'}")
        try:
            holds = compile_conditions(conditions, at).evaluate(ctx, now)
        except ConditionError as exc:
            raise StepError(f"{at}: {exc}") from exc
        if holds:
            score += points
            matched.append(name)
    for bound, pick in (("min", max), ("max", min)):
        if config.get(bound) is not None:
            score = pick(score, whole(config[bound], bound))
    score = int32(score, "lead score")
    values = {"score": score, "matched_rules": matched}
    return Effect(
        "calculate_lead_score", values, {"command": "calculate_lead_score", **values}, {"score": score}
    )


CONTEXT_EFFECTS: dict[str, Callable[[Mapping[str, Any], Mapping[str, Any], datetime], Effect]] = {
    "calculate_lead_score": calculate_lead_score,
}
"""The verbs whose effect reads the whole context (``contact``, ``event``, ``vars``, ``execution``)."""


def context_effect_of(
    type_: str, config: Mapping[str, Any], ctx: Mapping[str, Any], now: datetime
) -> Effect | None:
    """The effect of a step of a :data:`CONTEXT_EFFECTS` type in ``ctx`` at ``now``; None for others.

    Raises:
        StepError: the config cannot work.
    """
    compute = CONTEXT_EFFECTS.get(type_)
    return compute(config, ctx, now) if compute is not None else None
