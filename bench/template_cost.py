"""How long the templates that hit a rendering bound take to fail, and how much memory they use.

``python -m bench.template_cost`` renders each bomb (a ``join``/``replace``/``~``/``+`` that
would build megabytes, nested loops, a macro that calls itself twice) once compiled, and prints
the time until the bound stops it and the peak memory traced; then a config whose texts
together pass :data:`~beez.workflow.templates.MAX_CONFIG_OUTPUT`.
"""

from __future__ import annotations

import contextlib
import time
import tracemalloc
from typing import Any

from beez.workflow.errors import TemplateError
from beez.workflow.templates import render, render_config

_CTX: dict[str, Any] = {
    "contact": {"first_name": "Ada", "tags": ["a"] * 100},
    "event": {"data": {"items": list(range(1000))}},
}
_DOUBLE_TILDE = '{% set a = "x" * 1000 %}' + "{% set a = a ~ a %}" * 12 + "{{ a | length }}"
_CASES = {
    "join filter": '{{ ("x" * 1000) | join("y" * 1000) }}',
    "str.join": '{{ ("y" * 1000).join("x" * 1000) }}',
    "str.replace": '{{ ("x" * 100000).replace("x", "y" * 1000) }}',
    "replace filter": '{{ ("x" * 100000) | replace("x", "y" * 1000) }}',
    "~ doubling": _DOUBLE_TILDE,
    "+ doubling": _DOUBLE_TILDE.replace("~", "+"),
    "3 nested for over 1000": "{% for a in event.data.items %}{% for b in event.data.items %}"
    "{% for c in event.data.items %}{% endfor %}{% endfor %}{% endfor %}",
    "macro fan-out": "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}"
    "{% endmacro %}{{ f(40) }}",
    "50 x 100 loop (passes)": "{% for a in contact.tags[:50] %}"
    "{% for b in contact.tags %}{% endfor %}{% endfor %}",
}


def _measure(run: Any) -> tuple[float, float, str]:
    try:
        run()  # compiles (cached), and shows the outcome
        outcome = "rendered"
    except TemplateError as exc:
        outcome = str(exc)
    started = time.perf_counter()
    with contextlib.suppress(TemplateError):
        run()
    elapsed = time.perf_counter() - started
    tracemalloc.start()  # a second run: tracing slows Python down many times
    with contextlib.suppress(TemplateError):
        run()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return elapsed, peak, outcome


def main() -> None:
    print(f"{'template':26} {'ms':>8} {'peak MB':>8}  outcome")
    for name, template in _CASES.items():
        elapsed, peak, outcome = _measure(lambda template=template: render(template, _CTX))
        print(f"{name:26} {elapsed * 1000:8.1f} {peak / 1e6:8.2f}  {outcome[:70]}")
    config = {f"field_{index}": "{{ 'x' * 99000 }}" for index in range(5)}
    elapsed, peak, outcome = _measure(lambda: render_config(config, _CTX))
    print(f"{'config of 5 x 99k':26} {elapsed * 1000:8.1f} {peak / 1e6:8.2f}  {outcome[:70]}")


if __name__ == "__main__":
    main()
