"""What evaluating a CEL program can cost, estimated from its syntax and bounds on its inputs.

The cel binding has no cost limit and cannot be interrupted, and it runs on the caller's event
loop; so a program is only run when an upper bound of its cost is within :data:`MAX_COST`.
The bound multiplies the cost of a comprehension's body (``all``, ``exists``, ``exists_one``,
``map``, ``filter``) by the most items its range can have, adds a cost per node, and charges
string and list work by size. Sizes come from :class:`Limits`: at validation, the sizes
assumed for contact and event data (:data:`ASSUMED`); at evaluation, the sizes of the data at
hand, when they are larger (see :mod:`beez.workflow.conditions.program`).

One unit is about 100 ns of evaluation (measured in ``bench/cel_cost.py``), so the default
budget of 20,000 units keeps an evaluation within a few milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from beez.workflow.conditions.syntax import Node, SyntaxProblem, parse

__all__ = [
    "ASSUMED",
    "MAX_COST",
    "UNREADABLE",
    "Limits",
    "cost_budget",
    "estimate",
    "estimate_source",
    "set_cost_budget",
]

MAX_COST = 20_000
"""The default budget of one condition list, in units of about 100 ns."""

_budget = MAX_COST


def cost_budget() -> int:
    """The budget in force (see :func:`set_cost_budget`)."""
    return _budget


def set_cost_budget(units: int) -> None:
    """Sets the budget of every condition list of this process (a service setting)."""
    global _budget
    if units < 1:
        raise ValueError("the cost budget must be positive")
    _budget = units


@dataclass(frozen=True, slots=True)
class Limits:
    """Upper bounds on any one value read from the data: list or map entries, characters of
    a string, and values in all (a whole nested document counts each value once)."""

    items: int
    chars: int
    values: int


ASSUMED = Limits(items=100, chars=4096, values=5000)
"""The data sizes validation assumes: longer data is re-estimated when it is evaluated."""

# Costs in units, from bench/cel_cost.py.
_NODE = 1
_ITERATION = 2
_COPY_ITEMS = 2  # map/filter copy their result list at every step: n^2/_COPY_ITEMS units
_SCAN_CHARS = 1000  # characters compared or searched per unit
_COPY_CHARS = 100  # characters copied per unit
_REGEX_CHAR = 10  # compiling a pattern, per character
_SCAN_VALUES = 10  # values compared per unit (equality, membership)
_PYTHON_CALL = 30  # a function implemented in Python (as_time, months_ago)
_PYTHON_VALUE = 16  # handing a Python function a value, per value (a map's entries cost most)
_CONVERSIONS = frozenset({"int", "uint", "double", "bool", "type", "duration", "timestamp"})
_TYPE_NAMES = frozenset(
    {"now", "int", "uint", "double", "bool", "string", "bytes", "list", "map", "null_type", "type"}
)
_COMPREHENSIONS = frozenset({"all", "exists", "exists_one", "map", "filter"})
_PYTHON = frozenset({"as_time", "months_ago"})


@dataclass(frozen=True, slots=True)
class _Size:
    """An upper bound on a value's size; ``element`` bounds its items (None: any datum)."""

    items: int = 0
    chars: int = 0
    values: int = 1
    element: _Size | None = None


_SCALAR = _Size()

UNREADABLE = 10**18
"""The cost of source the estimator cannot read: more than any budget."""


def _join(a: _Size, b: _Size) -> _Size:
    element = None if a.element is None or b.element is None else _join(a.element, b.element)
    return _Size(max(a.items, b.items), max(a.chars, b.chars), max(a.values, b.values), element)


class _Estimator:
    def __init__(self, limits: Limits) -> None:
        self.datum = _Size(limits.items, limits.chars, limits.values, None)

    def element(self, size: _Size) -> _Size:
        return size.element or self.datum

    def node(self, node: Node, scope: dict[str, _Size]) -> tuple[int, _Size]:
        kind = node.kind
        if kind == "literal":
            return _NODE, _Size(chars=node.size)
        if kind == "ident":
            return _NODE, scope.get(node.text, _SCALAR if node.text in _TYPE_NAMES else self.datum)
        if kind == "select":
            cost, size = self.node(node.args[0], scope)
            return cost + _NODE, self.element(size)
        if kind == "has":
            cost, _ = self.node(node.args[0], scope)
            return cost + _NODE, _SCALAR
        if kind == "index":
            cost, size = self.node(node.args[0], scope)
            index_cost, _ = self.node(node.args[1], scope)
            return cost + index_cost + _NODE, self.element(size)
        if kind in ("list", "map"):
            return self.literal(node, scope)
        if kind == "unary":
            cost, size = self.node(node.args[0], scope)
            return cost + _NODE, size if node.text == "-" else _SCALAR
        if kind == "ternary":
            costs = [self.node(arg, scope) for arg in node.args]
            cost = costs[0][0] + max(costs[1][0], costs[2][0]) + _NODE
            if _excludes_containers(node):  # `type(x) == map || type(x) == list ? null : x`
                return cost, _Size(chars=costs[2][1].chars)
            return cost, _join(costs[1][1], costs[2][1])
        if kind == "binary":
            return self.binary(node, scope)
        if node.target is not None and node.text in _COMPREHENSIONS and _binds(node):
            return self.comprehension(node, scope)
        return self.call(node, scope)

    def literal(self, node: Node, scope: dict[str, _Size]) -> tuple[int, _Size]:
        cost, values, element = _NODE, 1, None
        for arg in node.args:
            arg_cost, size = self.node(arg, scope)
            cost += arg_cost + _NODE
            values += size.values
            element = size if element is None else _join(element, size)
        items = len(node.args) // 2 if node.kind == "map" else len(node.args)
        return cost, _Size(items=items, values=values, element=element or _SCALAR)

    def binary(self, node: Node, scope: dict[str, _Size]) -> tuple[int, _Size]:
        left_cost, left = self.node(node.args[0], scope)
        right_cost, right = self.node(node.args[1], scope)
        cost = left_cost + right_cost + _NODE
        operator = node.text
        if operator in ("&&", "||"):
            return cost, _SCALAR
        if operator == "in":
            return cost + right.values // _SCAN_VALUES + min(left.chars, right.chars) // _SCAN_CHARS, _SCALAR
        if operator in ("==", "!=", "<", "<=", ">", ">="):
            scan = min(left.values, right.values) // _SCAN_VALUES + min(left.chars, right.chars) // _SCAN_CHARS
            return cost + scan, _SCALAR
        if operator == "+":
            element = (
                None if left.element is None or right.element is None else _join(left.element, right.element)
            )
            joined = _Size(
                left.items + right.items, left.chars + right.chars, left.values + right.values, element
            )
            return cost + joined.items + joined.chars // _COPY_CHARS, joined
        return cost, _SCALAR

    def comprehension(self, node: Node, scope: dict[str, _Size]) -> tuple[int, _Size]:
        assert node.target is not None
        range_cost, range_size = self.node(node.target, scope)
        count = range_size.items
        inner = dict(scope)
        inner[node.args[0].text] = self.element(range_size)
        body_cost, result = 0, _SCALAR
        for arg in node.args[1:]:
            arg_cost, result = self.node(arg, inner)
            body_cost += arg_cost
        cost = range_cost + count * (_ITERATION + body_cost)
        if node.text == "map":
            cost += count * count // _COPY_ITEMS
            return cost, _Size(count, 0, 1 + count * result.values, result)
        if node.text == "filter":
            cost += count * count // _COPY_ITEMS
            return cost, range_size
        return cost, _SCALAR

    def call(self, node: Node, scope: dict[str, _Size]) -> tuple[int, _Size]:
        operands = ((node.target,) if node.target is not None else ()) + node.args
        measured = [self.node(operand, scope) for operand in operands]
        cost = _NODE + sum(operand_cost for operand_cost, _ in measured)
        sizes = [size for _, size in measured]
        name = node.text
        if name == "size" or name in ("startsWith", "endsWith", "contains"):
            return cost + sum(size.chars for size in sizes) // _SCAN_CHARS, _SCALAR
        if name == "matches" and len(sizes) == 2:
            return cost + sizes[0].chars // _SCAN_CHARS + sizes[1].chars * _REGEX_CHAR, _SCALAR
        if name in _CONVERSIONS:
            return cost + sum(size.chars for size in sizes) // _COPY_CHARS, _SCALAR
        if name == "dyn" and len(sizes) == 1:
            return cost, sizes[0]
        if name in _PYTHON:
            handed = sum(size.values * _PYTHON_VALUE + size.chars // _COPY_CHARS for size in sizes)
            return cost + _PYTHON_CALL + handed, _SCALAR
        if name in ("string", "bytes"):
            chars = max([64] + [size.chars for size in sizes])
            return cost + chars // _COPY_CHARS, _Size(chars=chars)
        # Anything else (optional values, timestamp accessors...): its operands' work, and a
        # result no bigger than a datum or its operands together.
        total = _Size(
            sum(size.items for size in sizes),
            sum(size.chars for size in sizes),
            sum(size.values for size in sizes),
        )
        cost += total.values + total.chars // _COPY_CHARS
        return cost, _join(self.datum, total)


def _excludes_containers(node: Node) -> bool:
    """Whether a ternary is ``type(x) == map || type(x) == list ? null : x``: a scalar."""
    test, yes, no = node.args
    if not (yes.kind == "literal" and yes.text == "scalar"):
        return False
    kinds: set[str] = set()
    tests = [test]
    while tests:
        part = tests.pop()
        if part.kind == "binary" and part.text == "||":
            tests.extend(part.args)
            continue
        typed, named = part.args if part.kind == "binary" and part.text == "==" else (None, None)
        if typed is None or named is None or typed.kind != "call" or typed.text != "type":
            return False
        if typed.args != (no,) or named.kind != "ident":
            return False
        kinds.add(named.text)
    return kinds == {"map", "list"}


def _binds(node: Node) -> bool:
    return len(node.args) >= 2 and node.args[0].kind == "ident"


def estimate(tree: Node, limits: Limits = ASSUMED) -> int:
    """An upper bound of the cost of evaluating ``tree`` on data within ``limits``, in units."""
    return _Estimator(limits).node(tree, {})[0]


@lru_cache(maxsize=4096)
def estimate_source(source: str, limits: Limits = ASSUMED) -> int:
    """:func:`estimate` of CEL source; unreadable source costs more than any budget."""
    try:
        return estimate(parse(source), limits)
    except (SyntaxProblem, RecursionError):
        return UNREADABLE
