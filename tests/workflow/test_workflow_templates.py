"""Templates render in a sandbox; undefined values render empty."""

from __future__ import annotations

from typing import Any

import pytest

from beez.workflow.errors import TemplateError
from beez.workflow.templates import check_template, render, render_config

CTX: dict[str, Any] = {
    "contact": {"first_name": "Ada", "last_name": "", "tags": ["vip", "lead"], "fields": {"plan": "pro"}},
    "event": {"data": {"total": 120.5, "items": ["book", "pen"]}, "occurred_at": "2026-11-26T10:00:00Z"},
    "vars": {},
}


def test_renders_fields() -> None:
    assert render("Welcome {{ contact.first_name }}!", CTX) == "Welcome Ada!"
    assert render("{{ event.data.items | join(', ') }}", CTX) == "book, pen"
    assert render("{% if 'vip' in contact.tags %}VIP{% endif %}", CTX) == "VIP"
    assert render("{{ contact.fields.plan | upper }} {{ event.data.total | round }}", CTX) == "PRO 120.0"
    assert render("{{ event.occurred_at | date('%d %b %Y') }}", CTX) == "26 Nov 2026"


def test_plain_text_is_returned_as_is() -> None:
    assert render("50% off, no {braces}\n", CTX) == "50% off, no {braces}\n"


def test_undefined_values_render_empty_even_through_attributes() -> None:
    assert render("Hi {{ contact.nickname }}!", CTX) == "Hi !"
    assert render("Hi {{ contact.company.name.first }}!", CTX) == "Hi !"
    assert render("Hi {{ nothing.at.all | upper }}!", {}) == "Hi !"


def test_default_also_replaces_empty_text() -> None:
    assert render("{{ contact.last_name | default('friend') }}", CTX) == "friend"
    assert render("{{ contact.nickname | default('friend') }}", CTX) == "friend"
    assert render("{{ contact.first_name | default('friend') }}", CTX) == "Ada"


def test_render_config_renders_every_string_recursively() -> None:
    config = {
        "url": "https://x.example/{{ contact.fields.plan }}",
        "headers": {"X-Name": "{{ contact.first_name }}"},
        "body": {"items": ["{{ event.data.items[0] }}", 3, True], "note": None},
        "timeout_s": 10,
    }
    assert render_config(config, CTX) == {
        "url": "https://x.example/pro",
        "headers": {"X-Name": "Ada"},
        "body": {"items": ["book", 3, True], "note": None},
        "timeout_s": 10,
    }


def test_check_template_reports_syntax_errors_with_lines() -> None:
    assert check_template("Hello {{ contact.first_name }}") is None
    assert (
        check_template("Hello\n{{ contact.first_name")
        == "line 2: unexpected end of template, expected 'end of print statement'."
    )
    assert "shout" in (check_template("{{ x | shout }}") or "")
    with pytest.raises(TemplateError, match="line 1"):
        render("{% if %}", CTX)


@pytest.mark.parametrize(
    "template",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ contact.__class__ }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ range(10) }}",
        "{{ 'x' * 1000000 }}",
        "{{ '%0999999d' % 1 }}",
        "{{ '{:>999999}'.format(1) }}",
        "{{ 'a'.center(10000000) }}",
        "{{ 9 ** 99999999 }}",
        "{{ contact.tags.append('hacked') }}",
        "{{ 1 / 0 }}",
        "{{ lipsum() }}",
    ],
)
def test_sandbox_blocks_unsafe_templates(template: str) -> None:
    try:
        output = render(template, CTX)
    except TemplateError:
        return
    assert "class" not in output and "hacked" not in output and len(output) < 1000, output
    assert CTX["contact"]["tags"] == ["vip", "lead"]


def test_output_is_capped() -> None:
    with pytest.raises(TemplateError, match="longer than"):
        render("{% for i in items %}{{ big }}{% endfor %}", {"items": list(range(200)), "big": "x" * 1000})
