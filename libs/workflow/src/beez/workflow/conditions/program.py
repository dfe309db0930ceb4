"""Compiled conditions: a cached CEL program and its evaluation against a context."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

import cel

from beez.api.workflow.v1.workflow_pb2 import Condition
from beez.workflow.conditions.cost import ASSUMED, ASSUMED_ROOT, Limits, cost_budget, estimate_source
from beez.workflow.conditions.translate import ROOTS, cel_program, to_cel
from beez.workflow.errors import ConditionBudgetError, ConditionError, Issue
from beez.workflow.intervals import parse_time, subtract_interval


def normalise(value: Any) -> Any:
    """A context value as CEL sees it here: every number a double, tuples as lists.

    Booleans stay booleans; timestamps stay datetimes (naive ones are taken as UTC).
    """
    return _Normaliser().value(value)


class _Normaliser:
    """Normalises values, measuring them on the way: the longest list or map, the longest
    text, the count of values and of characters (the sizes evaluation costs depend on)."""

    __slots__ = ("chars", "items", "text", "values")

    def __init__(self) -> None:
        self.items = self.chars = self.values = self.text = 0

    def value(self, value: Any) -> Any:
        self.values += 1
        kind = type(value)
        if kind is str:
            self.string(value)
            return value
        if kind is bool or value is None or kind is float:
            return value
        if kind is dict:  # the common containers first: an ABC check costs more than the work
            return self.mapping(value)
        if kind is list:
            return self.sequence(value)
        if kind is int:
            return float(value)
        if isinstance(value, bool):
            return value
        if isinstance(value, str):
            self.string(value)
            return value
        if isinstance(value, int | float | Decimal):
            return float(value)
        if isinstance(value, datetime):
            return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        if isinstance(value, Mapping):
            return self.mapping(value)
        if isinstance(value, list | tuple | set | frozenset):
            return self.sequence(value)
        return value

    def string(self, value: str) -> None:
        size = len(value)
        self.text += size
        if size > self.chars:
            self.chars = size

    def mapping(self, value: Mapping[Any, Any]) -> dict[str, Any]:
        if len(value) > self.items:
            self.items = len(value)
        return {str(key): self.value(item) for key, item in value.items()}

    def sequence(self, value: Any) -> list[Any]:
        if len(value) > self.items:
            self.items = len(value)
        return [self.value(item) for item in value]

    def measured(self, value: Any) -> tuple[Any, Limits]:
        """``value`` normalised, and its size."""
        outer = (self.items, self.chars, self.values, self.text)
        self.items = self.chars = self.values = self.text = 0
        normalised = self.value(value)
        size = Limits(self.items, self.chars, self.values, self.text)
        self.items, self.chars = max(outer[0], self.items), max(outer[1], self.chars)
        self.values, self.text = outer[2] + self.values, outer[3] + self.text
        return normalised, size

    def root(self, name: str, value: Any, sizes: dict[str, Limits]) -> Any:
        """A root normalised, with its size and each of its fields' sizes put in ``sizes``."""
        if type(value) is not dict:
            normalised, sizes[name] = self.measured(value)
            return normalised
        outer = (self.items, self.chars, self.values, self.text)
        self.items = self.chars = self.values = self.text = 0
        fields: dict[str, Any] = {}
        for key, item in value.items():
            fields[str(key)], sizes[f"{name}.{key}"] = self.measured(item)
        sizes[name] = Limits(max(self.items, len(value)), self.chars, self.values + 1, self.text)
        self.items, self.chars = max(outer[0], self.items), max(outer[1], self.chars)
        self.values, self.text = outer[2] + self.values, outer[3] + self.text
        return fields


def _assumed(path: str) -> Limits:
    return ASSUMED if "." in path else ASSUMED_ROOT


def _within(sizes: dict[str, Limits]) -> bool:
    """Whether every measured root and field is within the sizes validation assumed."""
    for path, size in sizes.items():
        assumed = _assumed(path)
        if (
            size.items > assumed.items
            or size.chars > assumed.chars
            or size.values > assumed.values
            or size.text > assumed.text
        ):
            return False
    return True


def _bucketed(sizes: dict[str, Limits]) -> tuple[tuple[str, Limits], ...]:
    """The sizes, each the size validation assumed or a larger power of two (so that
    estimates are cached), sorted by path."""
    bucketed = []
    for path, size in sizes.items():
        assumed = _assumed(path)
        bucketed.append(
            (
                path,
                Limits(
                    _bucket(size.items, assumed.items),
                    _bucket(size.chars, assumed.chars),
                    _bucket(size.values, assumed.values),
                    _bucket(size.text, assumed.text),
                ),
            )
        )
    return tuple(sorted(bucketed))


def _bucket(size: int, assumed: int) -> int:
    return assumed if size <= assumed else 1 << (size - 1).bit_length()


def _cel_as_time(value: Any) -> datetime | None:
    return parse_time(value)


def _cel_months_ago(now: Any, months: Any) -> datetime:
    moment = parse_time(now) or datetime.now(UTC)
    return subtract_interval(moment, {"value": int(months), "unit": "months"})


_FUNCTIONS: dict[str, Callable[..., Any]] = {"as_time": _cel_as_time, "months_ago": _cel_months_ago}


_IDENTIFIERS = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@lru_cache(maxsize=4096)
def _names(source: str) -> frozenset[str]:
    """Every identifier in ``source``: a superset of the variables the program can read.

    Only these are handed to CEL, which converts each variable it is given, read or not: a
    condition on ``contact.score`` need not pay for the trigger event and its payload.
    """
    return frozenset(_IDENTIFIERS.findall(source))


# --- evaluation ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CompiledCondition:
    """A compiled condition list: its CEL ``source`` and the means to evaluate it."""

    source: str
    path: str = "conditions"

    def evaluate(self, ctx: Mapping[str, Any], now: datetime, *, strict: bool = False) -> bool:
        """Whether the conditions hold for ``ctx`` at ``now``.

        ``ctx`` has the roots ``contact``, ``event``, ``vars`` and ``execution`` (missing ones
        are empty), e.g. from :func:`beez.workflow.context.build_context`. Comparisons never
        fail; a raw CEL expression can (an unknown variable, adding a text to a number). Such
        an error, or a result that is not a boolean, makes the conditions not hold, or raises
        :class:`ConditionError` when ``strict``.

        Raises:
            ConditionBudgetError: whatever ``strict``, when evaluating could cost more than the
                budget with data of this size (see :mod:`beez.workflow.conditions.cost`): the
                program is not run, so an evaluation never blocks for long.
        """
        try:
            result = self.value(ctx, now)
        except ConditionBudgetError:
            raise
        except ConditionError:
            if strict:
                raise
            return False
        if not isinstance(result, bool):
            if strict:
                raise ConditionError([Issue(self.path, f"gave {result!r}, not true or false")])
            return False
        return result

    def value(self, ctx: Mapping[str, Any], now: datetime) -> Any:
        """What the program gives for ``ctx`` at ``now``, whatever its type (numbers are doubles).

        Raises:
            ConditionBudgetError: evaluating could cost more than the budget with this data.
            ConditionError: the evaluation failed (an unknown variable, a type mismatch...).
        """
        names = _names(self.source)
        normaliser = _Normaliser()
        sizes: dict[str, Limits] = {}
        variables: dict[str, Any] = {
            key: normaliser.root(key, value, sizes)
            for key, value in ctx.items()
            if isinstance(key, str) and key in names
        }
        self._check_cost(sizes)
        for root in ROOTS:
            if root in names and not isinstance(variables.get(root), dict):
                variables[root] = {}
        if "now" in names:
            variables["now"] = normalise(now)
        try:
            return cel_program(self.source).execute(cel.Context(variables, _FUNCTIONS))
        except Exception as exc:  # the cel binding raises KeyError, TypeError, RuntimeError...
            raise ConditionError([Issue(self.path, f"cannot be evaluated: {exc}")]) from exc

    def _check_cost(self, sizes: dict[str, Limits]) -> None:
        """Refuses to evaluate when the cost with data of these sizes could exceed the budget.

        Data within the sizes validation assumed needs no new estimate: the one validation
        made holds (it is cached, and still checked, since the budget may have changed).
        """
        budget = cost_budget()
        cost = (
            estimate_source(self.source) if _within(sizes) else estimate_source(self.source, _bucketed(sizes))
        )
        if cost > budget:
            fields = [pair for pair in sizes.items() if "." in pair[0]] or list(sizes.items())
            largest = max(fields, key=lambda pair: pair[1].values + pair[1].text // 100, default=None)
            where = f" ({largest[0]} holds {largest[1].values} values)" if largest is not None else ""
            raise ConditionBudgetError(
                [
                    Issue(
                        self.path,
                        f"exceeded its cost budget: evaluating it on this data could cost {cost} units"
                        f"{where}, more than the {budget} allowed",
                    )
                ]
            )


@lru_cache(maxsize=2048)
def _compile_cached(path: str, serialized: tuple[bytes, ...]) -> CompiledCondition:
    conditions = [Condition.FromString(data) for data in serialized]
    source, issues = to_cel(conditions, path)
    if issues:
        raise ConditionError(issues)
    return CompiledCondition(source, path)


def compile_conditions(conditions: Sequence[Condition], path: str = "conditions") -> CompiledCondition:
    """Compiles a condition list (all must hold, joined by their ``logic``) to one CEL program.

    Results are cached by content, so compiling the same list again is cheap.

    Raises:
        ConditionError: with every issue (unknown operator, wrong value type, bad CEL, a field
            outside the roots...), paths under ``path``.
    """
    serialized = tuple(condition.SerializeToString(deterministic=True) for condition in conditions)
    return _compile_cached(path, serialized)
