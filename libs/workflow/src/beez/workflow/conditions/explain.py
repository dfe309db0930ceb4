"""Evaluating a condition list and each of its parts, to show a user why it holds or not.

The builder's ``EvaluateConditions`` answers with the result of the whole list and of every
part: each top-level condition, and inside groups (``all``/``any``/``not``) each member, with
paths as validation names them (``conditions[1].any[0]``). Every part is compiled and evaluated
as a list of its own, under the same cost budget as the engine's evaluation
(:mod:`beez.workflow.conditions.cost`); a part the budget refuses, or whose raw CEL fails,
carries the error instead of a result. The whole list's result is the engine's, joined by
``logic`` as it joins them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from beez.api.workflow.v1.workflow_pb2 import Condition
from beez.workflow.conditions.program import compile_conditions
from beez.workflow.errors import ConditionError

__all__ = ["Evaluation", "Part", "evaluate_parts"]

MAX_PARTS = 200
"""The most parts one answer lists (a larger list is evaluated whole, its parts cut off)."""


@dataclass(frozen=True, slots=True)
class Part:
    """One condition's result (None when it could not be evaluated, ``error`` says why)."""

    path: str
    result: bool | None
    source: str = ""
    error: str = ""


@dataclass(frozen=True, slots=True)
class Evaluation:
    """The whole list's result and each part's, in document order."""

    result: bool | None
    source: str
    error: str
    parts: list[Part]


def _evaluate(conditions: Sequence[Condition], path: str, ctx: Mapping[str, Any], now: datetime) -> Part:
    try:
        compiled = compile_conditions(conditions, path)
    except ConditionError as exc:
        return Part(path, None, "", "; ".join(f"{issue.field}: {issue.description}" for issue in exc.issues))
    try:
        return Part(path, compiled.evaluate(ctx, now, strict=True), compiled.source)
    except ConditionError as exc:  # the budget's refusal, or raw CEL that fails
        return Part(path, None, compiled.source, "; ".join(issue.description for issue in exc.issues))


def _walk(condition: Condition, path: str, ctx: Mapping[str, Any], now: datetime, parts: list[Part]) -> None:
    if len(parts) >= MAX_PARTS:
        return
    single = Condition()
    single.CopyFrom(condition)
    single.ClearField("logic")
    parts.append(_evaluate([single], path, ctx, now))
    for group, members in (("all", condition.all), ("any", condition.any)):
        for index, member in enumerate(members):
            _walk(member, f"{path}.{group}[{index}]", ctx, now, parts)
    if condition.HasField("negated"):
        _walk(condition.negated, f"{path}.not", ctx, now, parts)


def evaluate_parts(
    conditions: Sequence[Condition], ctx: Mapping[str, Any], now: datetime, path: str = "conditions"
) -> Evaluation:
    """The result of ``conditions`` on ``ctx`` at ``now``, and of each part."""
    whole = _evaluate(conditions, path, ctx, now)
    parts: list[Part] = []
    for index, condition in enumerate(conditions):
        _walk(condition, f"{path}[{index}]", ctx, now, parts)
    return Evaluation(whole.result, whole.source, whole.error, parts)
