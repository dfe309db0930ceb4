"""How long the most expensive CEL conditions that pass validation take to evaluate.

``python -m bench.cel_cost`` grows each family of expensive expressions (nested
comprehensions, map/filter, string building, regular expressions, Python functions,
membership tests) until one more step would exceed the cost budget, then evaluates the largest
one that passes on worst-case data (lists, texts and documents as large as validation
assumes, arranged so that nothing short-circuits). It prints each family's estimate and its
slowest evaluation, and the estimate of the 8 KB nested expression validation must refuse.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from beez.api.workflow.v1.workflow_pb2 import Condition
from beez.workflow.conditions import compile_conditions
from beez.workflow.conditions.cost import ASSUMED, cost_budget, estimate_source
from beez.workflow.conditions.translate import condition_issues


def _context() -> dict[str, Any]:
    """Data with every field as large as validation assumes (:data:`ASSUMED`)."""
    tags = [f"tag-{index:03d}-" + "x" * 12 for index in range(ASSUMED.items - 1)]
    records = [{"n": index, "name": f"r{index}"} for index in range(ASSUMED.values // 3 - 2)]
    return {
        "contact": {
            "tags": tags,
            "score": 50,
            "fields": {
                "notes": "y" * (ASSUMED.text - 200),
                "joined": "2026-11-20T00:00:00Z",
                "items": records,
            },
            "lists": records,
        },
        "event": {"data": {"items": list(range(ASSUMED.items - 2))}},
        "vars": {},
        "execution": {"id": "x"},
    }


_FAMILIES: dict[str, Callable[[int], str]] = {
    "nested all (tags x tags)": lambda k: (
        "contact.tags.all(a, contact.tags.all(b, " + " && ".join(["a != 'z'"] * k) + "))"
    ),
    "all with string predicates": lambda k: (
        "contact.tags.all(t, " + " && ".join(f"!t.contains('zz{i}')" for i in range(k)) + ")"
    ),
    "filter": lambda k: (
        "contact.tags.filter(t, t != 'z').size() > 0 && " + " && ".join(["size(contact.tags) > 0"] * k)
    ),
    "string building in a loop": lambda k: "contact.tags.all(t, size(" + " + ".join(["t"] * k) + ") > 0)",
    "regex in a loop": lambda k: (
        "contact.tags.all(t, " + " && ".join(f"!t.matches('^z{i}[a-f]+q$')" for i in range(k)) + ")"
    ),
    "as_time in a loop": lambda k: (
        "contact.tags.all(t, "
        + " && ".join(["as_time(type(t) == map || type(t) == list ? null : t) == null"] * k)
        + ")"
    ),
    "membership chain": lambda k: " && ".join(f"!('nope{i}' in contact.tags)" for i in range(k)),
    "long text scans": lambda k: " && ".join(f"!contact.fields.notes.contains('z{i}')" for i in range(k)),
    "comprehension over records": lambda k: (
        "contact.lists.all(i, " + " && ".join(["i.n >= 0.0 && i.name != 'z'"] * k) + ")"
    ),
}


def _largest(build: Callable[[int], str], budget: int) -> tuple[int, str] | None:
    """The largest k whose expression is within budget (by doubling, then bisection)."""
    if estimate_source(build(1)) > budget:
        return None
    low, high = 1, 2
    while estimate_source(build(high)) <= budget and high < 1 << 16:
        low, high = high, high * 2
    while high - low > 1:
        middle = (low + high) // 2
        if estimate_source(build(middle)) <= budget:
            low = middle
        else:
            high = middle
    return low, build(low)


def _slowest(source: str, ctx: dict[str, Any], repeats: int) -> tuple[float, float]:
    """The median and the slowest of ``repeats`` evaluations, in seconds."""
    compiled = compile_conditions([Condition(expression=source)])
    now = datetime(2026, 12, 1, tzinfo=UTC)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        compiled.evaluate(ctx, now, strict=True)
        times.append(time.perf_counter() - started)
    times.sort()
    return times[len(times) // 2], times[-1]


def _attack(depth: int = 6) -> str:
    body = "x0 > 0.0"
    for level in range(depth, 0, -1):
        body = f"event.data.items.all(x{level}, {body} && x{level} != 'q' && size(event.data) > 0)"
    padding = " && ".join(["true"] * max(0, (8192 - len(body)) // 8))
    return f"{body} && {padding}" if padding else body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=21)
    args = parser.parse_args()
    budget = cost_budget()
    ctx = _context()
    print(f"budget {budget} units; every field of the data as large as validation assumes: {ASSUMED}")
    print(f"{'family':32} {'k':>5} {'estimate':>9} {'median ms':>10} {'max ms':>8}")
    worst = 0.0
    for name, build in _FAMILIES.items():
        found = _largest(build, budget)
        if found is None:
            print(f"{name:32} refused even at k=1")
            continue
        k, source = found
        median, slowest = _slowest(source, ctx, args.repeats)
        worst = max(worst, slowest)
        print(f"{name:32} {k:>5} {estimate_source(source):>9} {median * 1000:>10.2f} {slowest * 1000:>8.2f}")
    attack = _attack()
    issues = condition_issues([Condition(expression=attack)])
    estimate = estimate_source(attack)
    print(f"8 KB nested expression ({len(attack)} chars): estimate {estimate:.3g}, refused: {bool(issues)}")
    print(f"worst evaluation of an expression that passes validation: {worst * 1000:.2f} ms")


if __name__ == "__main__":
    main()
