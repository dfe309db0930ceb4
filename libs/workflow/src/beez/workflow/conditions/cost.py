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

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import lru_cache

from beez.workflow.conditions.syntax import Node, SyntaxProblem, parse

__all__ = [
    "ASSUMED",
    "ASSUMED_ROOT",
    "MAX_COST",
    "UNREADABLE",
    "Limits",
    "Sizes",
    "cost_budget",
    "default_cost_budget",
    "estimate",
    "estimate_source",
    "set_cost_budget",
]

MAX_COST = 20_000
"""The default budget of one condition list, in units of about 100 ns."""

_budget = MAX_COST
"""The budget in force: a service sets it at start from its setting ``condition_max_cost``
(``BEEZ_CONDITION_MAX_COST``, validated with the other settings), so validation in the
automation service and evaluation in the trigger and the executor agree on it."""


def cost_budget() -> int:
    """The budget in force (see :func:`set_cost_budget`)."""
    return _budget


@contextmanager
def default_cost_budget() -> Iterator[None]:
    """The default budget (:data:`MAX_COST`) inside the block, whatever this process set: for
    checking what ships with the code (the template library) the same way everywhere."""
    global _budget
    saved, _budget = _budget, MAX_COST
    try:
        yield
    finally:
        _budget = saved


def set_cost_budget(units: int) -> None:
    """Sets the budget of every condition list of this process (a service setting)."""
    global _budget
    if units < 1:
        raise ValueError("the cost budget must be positive")
    _budget = units


@dataclass(frozen=True, slots=True)
class Limits:
    """Upper bounds on a piece of data: its longest list or map, its longest text, how many
    values it holds in all and how many characters its texts hold in all."""

    items: int
    chars: int
    values: int
    text: int


ASSUMED = Limits(items=100, chars=2048, values=100, text=2048)
"""The size validation assumes for each field of ``contact``, ``event``, ``vars`` and
``execution`` (``contact.tags``, ``event.data``...); at evaluation, each is measured."""

ASSUMED_ROOT = Limits(items=100, chars=2048, values=16 * 100, text=16 * 2048)
"""The size validation assumes for a root used whole (``contact`` with up to 16 fields)."""

Sizes = Mapping[str, Limits]
"""Measured sizes by path: each root (``contact``) and each of its fields (``contact.tags``)."""

# Costs in units of about 100 ns, from bench/cel_cost.py.
_NODE = 1
_ITERATION = 2
_COPY_ITEMS = 2  # map/filter copy their result list at every step: n^2/_COPY_ITEMS units
_CLONE_VALUE = 2  # selecting a field copies it: per value (map entries cost most)...
_CLONE_CHARS = 100  # ...and per characters copied
_SCAN_CHARS = 1000  # characters compared or searched per unit
_COPY_CHARS = 100  # characters copied per unit
_REGEX_COMPILE = 400  # compiling a pattern (done at every call)
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
    """An upper bound on a value's size (see :class:`Limits`); ``element`` bounds its items,
    None meaning the bound itself (any part of a piece of data is no bigger than the whole)."""

    items: int = 0
    chars: int = 0
    values: int = 1
    text: int = 0
    element: _Size | None = None
    owner: int = 0
    """The comprehension whose variable this value is part of (0: none): selecting parts of
    each item costs no more, over all the iterations, than copying the whole range once."""


_SCALAR = _Size()

UNREADABLE = 10**18
"""The cost of source the estimator cannot read: more than any budget."""


def _of(limits: Limits) -> _Size:
    return _Size(limits.items, limits.chars, limits.values, limits.text)


def _join(a: _Size, b: _Size) -> _Size:
    element = None if a.element is None or b.element is None else _join(a.element, b.element)
    return _Size(
        max(a.items, b.items), max(a.chars, b.chars), max(a.values, b.values), max(a.text, b.text), element
    )


def _clone(size: _Size) -> int:
    """What copying a value of this size costs (the binding copies every selected field)."""
    return size.values * _CLONE_VALUE + size.text // _CLONE_CHARS


class _Estimator:
    def __init__(self, sizes: Sizes | None) -> None:
        self.sizes = sizes
        self.deferred: dict[int, int] = {}  # selections on parts of items, by comprehension
        self.comprehensions = 0
        self.datum = _of(ASSUMED)
        self.root = _of(ASSUMED_ROOT)

    def element(self, size: _Size) -> _Size:
        return size.element or size

    def clone(self, selected: _Size) -> int:
        """The cost of a selection: charged now, or to the comprehension whose items it is
        a part of (see :meth:`comprehension`)."""
        if selected.owner:
            self.deferred[selected.owner] = self.deferred.get(selected.owner, 0) + 1
            return 0
        return _clone(selected)

    def data(self, path: str) -> _Size:
        """The size of the data at ``path`` (a root or a root's field)."""
        if self.sizes is None:
            return self.datum if "." in path else self.root
        measured = self.sizes.get(path)
        return _SCALAR if measured is None else _of(measured)

    def node(self, node: Node, scope: dict[str, _Size]) -> tuple[int, _Size]:
        kind = node.kind
        if kind == "literal":
            return _NODE, _Size(chars=node.size, text=node.size)
        if kind == "ident":
            if node.text in scope:
                return _NODE, scope[node.text]
            return _NODE, _SCALAR if node.text in _TYPE_NAMES else self.data(node.text)
        if kind == "select":
            operand = node.args[0]
            cost, size = self.node(operand, scope)
            if operand.kind == "ident" and operand.text not in scope and operand.text not in _TYPE_NAMES:
                selected = self.data(f"{operand.text}.{node.text}")
            else:
                selected = self.element(size)
            return cost + _NODE + self.clone(selected), selected
        if kind == "has":
            selection = node.args[0]
            cost, _ = self.node(selection.args[0], scope) if selection.args else (0, _SCALAR)
            return cost + _NODE, _SCALAR
        if kind == "index":
            cost, size = self.node(node.args[0], scope)
            index_cost, _ = self.node(node.args[1], scope)
            selected = self.element(size)
            return cost + index_cost + _NODE + self.clone(selected), selected
        if kind in ("list", "map"):
            return self.literal(node, scope)
        if kind == "unary":
            cost, size = self.node(node.args[0], scope)
            return cost + _NODE, size if node.text == "-" else _SCALAR
        if kind == "ternary":
            costs = [self.node(arg, scope) for arg in node.args]
            cost = costs[0][0] + max(costs[1][0], costs[2][0]) + _NODE
            if _excludes_containers(node):  # `type(x) == map || type(x) == list ? null : x`
                chars = costs[2][1].chars
                return cost, _Size(chars=chars, text=chars)
            return cost, _join(costs[1][1], costs[2][1])
        if kind == "binary":
            return self.binary(node, scope)
        if node.target is not None and node.text in _COMPREHENSIONS and _binds(node):
            return self.comprehension(node, scope)
        return self.call(node, scope)

    def literal(self, node: Node, scope: dict[str, _Size]) -> tuple[int, _Size]:
        cost, values, text, element = _NODE, 1, 0, None
        for arg in node.args:
            arg_cost, size = self.node(arg, scope)
            cost += arg_cost + _NODE
            values += size.values
            text += size.text
            element = size if element is None else _join(element, size)
        items = len(node.args) // 2 if node.kind == "map" else len(node.args)
        element = element or _SCALAR
        return cost, _Size(max(items, element.items), element.chars, values, text, element)

    def binary(self, node: Node, scope: dict[str, _Size]) -> tuple[int, _Size]:
        measured = [self.node(arg, scope) for arg in node.args]
        cost = sum(arg_cost for arg_cost, _ in measured) + _NODE * (len(measured) - 1)
        operator = node.text
        if operator in ("&&", "||"):
            return cost, _SCALAR
        if operator == "+":
            joined = measured[0][1]
            for _, size in measured[1:]:
                element = _join(self.element(joined), self.element(size))
                joined = _Size(
                    joined.items + size.items,
                    joined.chars + size.chars,
                    joined.values + size.values,
                    joined.text + size.text,
                    element,
                )
                cost += joined.items + joined.chars // _COPY_CHARS  # each step copies what it has
            return cost, joined
        (_, left), (_, right) = measured
        if operator == "in":
            return cost + right.values // _SCAN_VALUES + min(left.text, right.text) // _SCAN_CHARS, _SCALAR
        if operator in ("==", "!=", "<", "<=", ">", ">="):
            scan = min(left.values, right.values) // _SCAN_VALUES + min(left.text, right.text) // _SCAN_CHARS
            return cost + scan, _SCALAR
        return cost, _SCALAR

    def comprehension(self, node: Node, scope: dict[str, _Size]) -> tuple[int, _Size]:
        assert node.target is not None
        range_cost, range_size = self.node(node.target, scope)
        count = range_size.items
        self.comprehensions += 1
        owner = self.comprehensions
        item = self.element(range_size)
        inner = dict(scope)
        inner[node.args[0].text] = replace(item, owner=owner)
        outer, self.deferred = self.deferred, {}
        body_cost, result = 0, _SCALAR
        for arg in node.args[1:]:
            arg_cost, result = self.node(arg, inner)
            body_cost += arg_cost
        deferred, self.deferred = self.deferred, outer
        # The items' parts selected by each iteration add up to the range at most, once per
        # selection in the body; selections of outer items happen once per iteration.
        cost = range_cost + count * (_ITERATION + body_cost) + deferred.pop(owner, 0) * _clone(item)
        for other, selections in deferred.items():
            outer[other] = outer.get(other, 0) + selections * count
        result = replace(result, owner=0)
        if node.text == "map":
            cost += count * count // _COPY_ITEMS
            items = max(count, result.items)
            return cost, _Size(items, result.chars, 1 + count * result.values, count * result.text, result)
        if node.text == "filter":
            cost += count * count // _COPY_ITEMS
            return cost, replace(range_size, owner=0)
        return cost, _SCALAR

    def call(self, node: Node, scope: dict[str, _Size]) -> tuple[int, _Size]:
        operands = ((node.target,) if node.target is not None else ()) + node.args
        measured = [self.node(operand, scope) for operand in operands]
        cost = _NODE + sum(operand_cost for operand_cost, _ in measured)
        sizes = [size for _, size in measured]
        name = node.text
        if name == "size" or name in ("startsWith", "endsWith", "contains"):
            return cost + sum(size.text for size in sizes) // _SCAN_CHARS, _SCALAR
        if name == "matches" and len(sizes) == 2:
            pattern = _REGEX_COMPILE + sizes[1].text * _REGEX_CHAR
            return cost + sizes[0].text // _SCAN_CHARS + pattern, _SCALAR
        if name in _CONVERSIONS:
            return cost + sum(size.text for size in sizes) // _COPY_CHARS, _SCALAR
        if name == "dyn" and len(sizes) == 1:
            return cost, sizes[0]
        if name in _PYTHON:
            handed = sum(size.values * _PYTHON_VALUE + size.text // _COPY_CHARS for size in sizes)
            return cost + _PYTHON_CALL + handed, _SCALAR
        if name in ("string", "bytes"):
            chars = max([64] + [size.text for size in sizes])
            return cost + chars // _COPY_CHARS, _Size(chars=chars, text=chars)
        # Anything else (optional values, timestamp accessors...): its operands' work, and a
        # result no bigger than its operands together.
        total = _Size(
            sum(size.items for size in sizes),
            sum(size.chars for size in sizes),
            sum(size.values for size in sizes),
            sum(size.text for size in sizes),
        )
        return cost + _clone(total), total


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


def estimate(tree: Node, sizes: Sizes | None = None) -> int:
    """An upper bound of the cost of evaluating ``tree``, in units: on data of the measured
    ``sizes``, or (None) on data whose every field is within :data:`ASSUMED`."""
    return _Estimator(sizes).node(tree, {})[0]


@lru_cache(maxsize=4096)
def _tree(source: str) -> Node | None:
    try:
        return parse(source)
    except (SyntaxProblem, RecursionError):
        return None


@lru_cache(maxsize=4096)
def estimate_source(source: str, sizes: tuple[tuple[str, Limits], ...] | None = None) -> int:
    """:func:`estimate` of CEL source, ``sizes`` as sorted pairs; unreadable source costs more
    than any budget."""
    tree = _tree(source)
    if tree is None:
        return UNREADABLE
    try:
        return estimate(tree, None if sizes is None else dict(sizes))
    except RecursionError:
        return UNREADABLE
