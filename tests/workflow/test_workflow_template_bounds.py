"""Templates are bounded while they render: loop iterations, calls, the size of every text they
build, and the output of all the texts of one config (issue 12, section 1)."""

from __future__ import annotations

import tracemalloc
from typing import Any

import pytest

from beez.workflow.errors import TemplateError
from beez.workflow.templates import MAX_CONFIG_OUTPUT, MAX_OUTPUT, MAX_STEPS, render, render_config

CTX: dict[str, Any] = {
    "contact": {"first_name": "Ada", "tags": ["vip", "lead"]},
    "event": {"data": {"items": list(range(1000))}},
}

TOO_LONG = f"the result would be longer than {MAX_OUTPUT} characters"
TOO_MANY = f"the template runs more than {MAX_STEPS} loop iterations and calls"


def doubling(operator: str) -> str:
    steps = "".join(f"{{% set a = a {operator} a %}}" for _ in range(12))
    return '{% set a = "x" * 1000 %}' + steps + "{{ a | length }}"


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ('{{ ("x" * 1000) | join("y" * 1000) }}', TOO_LONG),
        ('{{ ("y" * 1000).join("x" * 1000) }}', TOO_LONG),
        ('{{ ("x" * 100000).replace("x", "y" * 1000) }}', TOO_LONG),
        ('{{ ("x" * 100000) | replace("x", "y" * 1000) }}', TOO_LONG),
        (doubling("~"), TOO_LONG),
        (doubling("+"), TOO_LONG),
        ("{{ ([[1] * 1000] * 1000) | sum(start=[]) | length }}", "sum adds numbers only"),
        (
            "{% for a in event.data.items %}{% for b in event.data.items %}"
            "{% for c in event.data.items %}{% endfor %}{% endfor %}{% endfor %}",
            TOO_MANY,
        ),
        ('{% for a in "x" * 5000 %}{% for b in "x" * 5000 %}{% endfor %}{% endfor %}', TOO_MANY),
        (
            "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(40) }}",
            TOO_MANY,
        ),
    ],
    ids=[
        "join-filter",
        "str-join",
        "str-replace",
        "replace-filter",
        "tilde-doubling",
        "plus-doubling",
        "sum-of-lists",
        "nested-for",
        "nested-for-over-text",
        "macro-fan-out",
    ],
)
def test_bombs_fail_while_rendering_with_little_memory(template: str, message: str) -> None:
    tracemalloc.start()
    try:
        with pytest.raises(TemplateError) as err:
            render(template, CTX)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert message in str(err.value)
    assert peak < 5_000_000


def test_loops_within_the_cap_render() -> None:
    template = (
        "{% for a in event.data.items[:50] %}{% for b in contact.tags %}{{ b }}{% endfor %}{% endfor %}"
    )

    assert render(template, CTX) == "viplead" * 50


def test_joins_and_replacements_within_the_cap_render() -> None:
    assert render('{{ contact.tags | join(", ") }} {{ "a-b".replace("-", "+") }}', CTX) == "vip, lead a+b"
    assert render("{{ ['x', 'y'] | join }}{{ 'p' ~ 1 ~ 'q' }}", CTX) == "xyp1q"


def test_a_config_is_capped_as_a_whole_naming_the_field_that_went_over() -> None:
    each = MAX_OUTPUT - 1000
    text = "{{ 'x' * " + str(each) + " }}"
    config = {"subject": text, "body": {"text": text}, "html": ["ok", text]}
    assert 2 * each < MAX_CONFIG_OUTPUT < 3 * each

    with pytest.raises(TemplateError) as err:
        render_config(config, CTX)

    assert str(err.value).startswith("config.html[1]: ")
    assert f"more than {MAX_CONFIG_OUTPUT} characters" in str(err.value)


def test_a_render_error_names_the_field_path() -> None:
    with pytest.raises(TemplateError) as err:
        render_config({"headers": {"X-Tag": "{{ 1 / 0 }}"}}, CTX)

    assert str(err.value) == "config.headers.X-Tag: ZeroDivisionError: division by zero"


def test_each_config_gets_a_fresh_budget() -> None:
    loop = "{% for a in event.data.items %}{% for b in contact.tags %}{% endfor %}{% endfor %}"  # 3,000 steps
    for _ in range(10):
        assert render_config({"body": loop}, CTX) == {"body": ""}
        assert render(loop, CTX) == ""
