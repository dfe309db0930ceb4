"""Message text as Jinja2 templates, rendered in a sandbox.

Any text in an action's ``config`` may be a template (``Welcome {{ contact.first_name }}!``).
Templates come from users and from Beezora, so they render in Jinja2's immutable sandbox:

- no attribute starting with ``_`` (``''.__class__`` is refused), no mutation of the context,
  no globals (no ``range``, ``lipsum``...), and only an allow-list of filters;
- ``*`` and ``%`` that would build huge strings, huge powers, and the str methods that pad
  (``format``, ``center``, ``ljust``...) are refused; output is capped at :data:`MAX_OUTPUT`;
- autoescaping is off: most output is plain text (SMS, WhatsApp, subjects); HTML bodies can
  use the ``escape`` filter.

Undefined values render as empty text and attribute access on them stays undefined, so a
contact without a first name still gets ``Welcome !`` rather than a failed send. The
``default`` filter also replaces None and empty text (proto3 cannot tell "" from missing):
``{{ contact.first_name | default("there") }}``.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any

from jinja2 import ChainableUndefined, Template, TemplateSyntaxError, Undefined
from jinja2 import TemplateError as JinjaTemplateError
from jinja2.exceptions import SecurityError
from jinja2.filters import FILTERS
from jinja2.sandbox import ImmutableSandboxedEnvironment

from beez.workflow.errors import Issue, TemplateError, join_path
from beez.workflow.intervals import parse_time

__all__ = [
    "MAX_OUTPUT",
    "SAFE_FILTERS",
    "check_template",
    "is_template",
    "render",
    "render_config",
    "template_issues",
]

MAX_OUTPUT = 100_000
"""The most characters one template may produce."""

SAFE_FILTERS: tuple[str, ...] = (
    "abs",
    "capitalize",
    "count",
    "dictsort",
    "e",
    "escape",
    "first",
    "float",
    "int",
    "join",
    "last",
    "length",
    "list",
    "lower",
    "max",
    "min",
    "replace",
    "reverse",
    "round",
    "sort",
    "string",
    "striptags",
    "sum",
    "title",
    "tojson",
    "trim",
    "truncate",
    "unique",
    "upper",
    "urlencode",
    "wordcount",
)
"""The standard Jinja2 filters templates may use, plus ``default``/``d`` and ``date`` (ours)."""

_UNSAFE_STR_METHODS = frozenset({"format", "format_map", "center", "ljust", "rjust", "zfill", "expandtabs"})


def _missing(value: Any) -> bool:
    return value is None or value == "" or isinstance(value, Undefined)


def _default(value: Any, default_value: Any = "", boolean: bool = False) -> Any:
    """Jinja's ``default``, which also treats None and empty text as missing."""
    if _missing(value) or (boolean and not value):
        return default_value
    return value


def _date(value: Any, fmt: str = "%Y-%m-%d") -> str:
    """Formats a timestamp or RFC 3339/``YYYY-MM-DD`` text with ``strftime``; else empty."""
    moment = value if isinstance(value, datetime) else parse_time(value)
    return moment.strftime(fmt)[:200] if moment is not None else ""


def _size(value: Any) -> int | None:
    return len(value) if isinstance(value, str | list | tuple | bytes) else None


class _Environment(ImmutableSandboxedEnvironment):
    """The sandbox, with limits on operators that can exhaust memory."""

    intercepted_binops = frozenset({"*", "%", "**"})

    def call_binop(self, context: Any, operator_name: str, left: Any, right: Any) -> Any:
        if operator_name == "*":
            for sequence, times in ((left, right), (right, left)):
                size = _size(sequence)
                if size is not None and isinstance(times, int) and size * times > MAX_OUTPUT:
                    raise SecurityError("the result would be too long")
            return operator.mul(left, right)
        if operator_name == "%":
            if isinstance(left, str):
                raise SecurityError("%-formatting is not allowed in templates")
            return operator.mod(left, right)
        if operator_name == "**":
            if isinstance(right, int | float) and abs(right) > 100:
                raise SecurityError("the exponent is too large")
            return operator.pow(left, right)
        return super().call_binop(context, operator_name, left, right)

    def getattr(self, obj: Any, attribute: str) -> Any:
        """``data.items`` is the key ``items`` when there is one, not the dict method."""
        if isinstance(obj, Mapping) and attribute in obj:
            return obj[attribute]
        if isinstance(obj, str) and attribute in _UNSAFE_STR_METHODS:
            return self.unsafe_undefined(obj, attribute)
        return super().getattr(obj, attribute)


def _make_environment() -> _Environment:
    env = _Environment(
        autoescape=False,
        undefined=ChainableUndefined,
        keep_trailing_newline=True,
        auto_reload=False,
        cache_size=0,
    )
    filters: dict[str, Callable[..., Any]] = {name: FILTERS[name] for name in SAFE_FILTERS}
    filters.update({"default": _default, "d": _default, "date": _date})
    env.filters = filters
    env.globals = {}
    return env


_ENV = _make_environment()


def is_template(text: str) -> bool:
    """Whether ``text`` has any template syntax at all (plain text renders as itself)."""
    return "{{" in text or "{%" in text or "{#" in text


@lru_cache(maxsize=1024)
def _compile(text: str) -> Template:
    return _ENV.from_string(text)


def check_template(text: str) -> str | None:
    """Why ``text`` is not a valid template (with its line), or None when it is."""
    if not is_template(text):
        return None
    try:
        _compile(text)
    except TemplateSyntaxError as exc:
        return f"line {exc.lineno}: {exc.message}" if exc.lineno else str(exc.message)
    except JinjaTemplateError as exc:
        return str(exc.message or exc)
    return None


def render(text: str, ctx: Mapping[str, Any]) -> str:
    """Renders one template with the context.

    Raises:
        TemplateError: when the template does not parse or fails while rendering (a refused
            operation, a call on an undefined value, a division by zero...).
    """
    if not is_template(text):
        return text
    problem = check_template(text)
    if problem is not None:
        raise TemplateError(problem)
    pieces: list[str] = []
    produced = 0
    try:
        for piece in _compile(text).generate(dict(ctx)):
            produced += len(piece)
            if produced > MAX_OUTPUT:
                raise TemplateError(f"the output is longer than {MAX_OUTPUT} characters")
            pieces.append(piece)
    except TemplateError:
        raise
    except JinjaTemplateError as exc:
        raise TemplateError(str(exc.message or exc)) from exc
    except Exception as exc:  # anything a template expression can raise (ZeroDivisionError...)
        raise TemplateError(f"{type(exc).__name__}: {exc}") from exc
    return "".join(pieces)


def _render_value(value: Any, ctx: Mapping[str, Any]) -> Any:
    if isinstance(value, str):
        return render(value, ctx)
    if isinstance(value, Mapping):
        return {key: _render_value(item, ctx) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_render_value(item, ctx) for item in value]
    return value


def render_config(config: Mapping[str, Any], ctx: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of an action's config with every string (at any depth) rendered; keys stay.

    Raises:
        TemplateError: for the first string that fails to render.
    """
    return {key: _render_value(value, ctx) for key, value in config.items()}


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _strings(item, join_path(path, str(key)))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _strings(item, join_path(path, index))


def template_issues(value: Any, path: str) -> list[Issue]:
    """An issue for every string in ``value`` (at any depth) that is not a valid template."""
    issues = []
    for at, text in _strings(value, path):
        problem = check_template(text)
        if problem is not None:
            issues.append(Issue(at, f"invalid template: {problem}"))
    return issues
