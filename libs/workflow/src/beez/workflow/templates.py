"""Message text as Jinja2 templates, rendered in a sandbox.

Any text in an action's ``config`` may be a template (``Welcome {{ contact.first_name }}!``).
Templates come from users and from Beezora, so they render in Jinja2's immutable sandbox:

- no attribute starting with ``_`` (``''.__class__`` is refused), no mutation of the context,
  no globals (no ``range``, ``lipsum``...), and only an allow-list of filters;
- ``*`` and ``%`` that would build huge strings, huge powers, and the str methods that pad
  (``format``, ``center``, ``ljust``...) are refused; output is capped at :data:`MAX_OUTPUT`;
- rendering is bounded while it runs, not checked after: ``+``, ``~``, ``*``, ``join`` and
  ``replace`` check the size of what they would build before building it (at most
  :data:`MAX_OUTPUT` characters), every ``{% for %}`` iteration and every call counts against
  :data:`MAX_STEPS`, and the output stops at :data:`MAX_OUTPUT` characters per text and
  :data:`MAX_CONFIG_OUTPUT` for all the texts of one config (:func:`render_config`);
- autoescaping is off: most output is plain text (SMS, WhatsApp, subjects); HTML bodies can
  use the ``escape`` filter.

Undefined values render as empty text and attribute access on them stays undefined, so a
contact without a first name still gets ``Welcome !`` rather than a failed send. The
``default`` filter also replaces None and empty text (proto3 cannot tell "" from missing):
``{{ contact.first_name | default("there") }}``.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextvars import ContextVar
from datetime import datetime
from functools import lru_cache
from typing import Any

from jinja2 import ChainableUndefined, Template, TemplateSyntaxError, Undefined, nodes
from jinja2 import TemplateError as JinjaTemplateError
from jinja2.exceptions import SecurityError
from jinja2.filters import FILTERS, make_attrgetter
from jinja2.nodes import EvalContext
from jinja2.runtime import Macro
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import pass_environment, pass_eval_context
from jinja2.visitor import NodeTransformer

from beez.workflow.errors import Issue, TemplateError, join_path
from beez.workflow.intervals import parse_time

__all__ = [
    "MAX_CONFIG_OUTPUT",
    "MAX_OUTPUT",
    "MAX_STEPS",
    "SAFE_FILTERS",
    "check_template",
    "is_template",
    "render",
    "render_config",
    "template_issues",
]

MAX_OUTPUT = 100_000
"""The most characters one template may produce, and the longest text or list it may build."""

MAX_CONFIG_OUTPUT = 250_000
"""The most characters all the templates of one config may produce together."""

MAX_STEPS = 10_000
"""The most loop iterations and calls (methods, ``loop()``; a macro call counts as 10) one
config's rendering may make, all its templates together."""

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

_UNSAFE_STR_METHODS = frozenset(
    {"format", "format_map", "center", "ljust", "rjust", "zfill", "expandtabs", "translate", "maketrans"}
)


class _Budget:
    """What is left of one rendering's steps and output (one config, or one text)."""

    __slots__ = ("output", "steps")

    def __init__(self, steps: int = MAX_STEPS, output: int = MAX_CONFIG_OUTPUT) -> None:
        self.steps = steps
        self.output = output

    def step(self, weight: int = 1) -> None:
        self.steps -= weight
        if self.steps < 0:
            raise SecurityError(f"the template runs more than {MAX_STEPS} loop iterations and calls")

    def produce(self, size: int) -> None:
        self.output -= size
        if self.output < 0:
            raise SecurityError(f"the config's templates produce more than {MAX_CONFIG_OUTPUT} characters")


_MACRO_STEPS = 10

_BUDGET: ContextVar[_Budget | None] = ContextVar("template_budget", default=None)


def _budget() -> _Budget:
    budget = _BUDGET.get()
    return _Budget() if budget is None else budget  # None: rendered outside render()


def _check_size(size: int) -> None:
    if size > MAX_OUTPUT:
        raise SecurityError(f"the result would be longer than {MAX_OUTPUT} characters")


@pass_eval_context
def _join(
    eval_ctx: EvalContext, value: Iterable[Any], d: str = "", attribute: str | int | None = None
) -> str:
    """Jinja's ``join`` (autoescaping is off), sizing the result before building it."""
    if attribute is not None:
        value = map(make_attrgetter(eval_ctx.environment, attribute), value)
    items = [str(item) for item in value]
    separator = str(d)
    _check_size(sum(map(len, items)) + len(separator) * max(0, len(items) - 1))
    return separator.join(items)


def _replaced_size(text: str, old: str, new: str, count: int | None) -> int:
    occurrences = len(text) + 1 if old == "" else text.count(old)
    if count is not None and count >= 0:
        occurrences = min(occurrences, count)
    return len(text) + occurrences * (len(new) - len(old))


def _replace(value: Any, old: Any, new: Any, count: int | None = None) -> str:
    """Jinja's ``replace`` (on text), sizing the result before building it."""
    text, old_text, new_text = str(value), str(old), str(new)
    _check_size(_replaced_size(text, old_text, new_text, count))
    return text.replace(old_text, new_text, -1 if count is None else count)


@pass_environment
def _sum(
    environment: Any, iterable: Iterable[Any], attribute: str | int | None = None, start: Any = 0
) -> Any:
    """Jinja's ``sum``, of numbers only (summing lists copies them over and over)."""
    if attribute is not None:
        iterable = map(make_attrgetter(environment, attribute), iterable)
    items = list(iterable)
    if not isinstance(start, int | float) or not all(isinstance(item, int | float) for item in items):
        raise SecurityError("sum adds numbers only")
    return sum(items, start)


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

    intercepted_binops = frozenset({"*", "%", "**", "+"})

    def call_binop(self, context: Any, operator_name: str, left: Any, right: Any) -> Any:
        if operator_name == "+":
            left_size, right_size = _size(left), _size(right)
            if left_size is not None and right_size is not None:
                _check_size(left_size + right_size)
            return operator.add(left, right)
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

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        """Every call counts as a step (a macro's as :data:`_MACRO_STEPS`: calling one costs
        as much as that many loop iterations); ``str.join`` and ``str.replace`` are sized first."""
        _budget().step(_MACRO_STEPS if isinstance(__obj, Macro) else 1)
        bound = getattr(__obj, "__self__", None)
        if isinstance(bound, str):
            name = getattr(__obj, "__name__", "")
            if name == "join" and len(args) == 1 and not kwargs:
                items = [item if isinstance(item, str) else str(item) for item in args[0]]
                _check_size(sum(map(len, items)) + len(bound) * max(0, len(items) - 1))
                args = (items,)
            elif name == "replace" and len(args) >= 2 and all(isinstance(arg, str) for arg in args[:2]):
                count = args[2] if len(args) > 2 and isinstance(args[2], int) else None
                _check_size(_replaced_size(bound, args[0], args[1], count))
        return super().call(__context, __obj, *args, **kwargs)

    def loop(self, iterable: Any) -> Iterator[Any]:
        """A ``{% for %}``'s items, each counted as a step."""
        budget = _budget()
        for item in iterable:
            budget.step()
            yield item

    def concat_sized(self, *parts: Any) -> str:
        """``a ~ b``, sized before it is built."""
        texts = [part if isinstance(part, str) else str(part) for part in parts]
        _check_size(sum(map(len, texts)))
        return "".join(texts)

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        """The template's syntax tree, every loop and ``~`` routed through the guards above."""
        tree = _Guards().visit(super()._parse(source, name, filename))
        assert isinstance(tree, nodes.Template)
        return tree

    def getattr(self, obj: Any, attribute: str) -> Any:
        """``data.items`` is the key ``items`` when there is one, not the dict method."""
        if isinstance(obj, Mapping) and attribute in obj:
            return obj[attribute]
        if isinstance(obj, str) and attribute in _UNSAFE_STR_METHODS:
            return self.unsafe_undefined(obj, attribute)
        return super().getattr(obj, attribute)


class _Guards(NodeTransformer):
    """Rewrites ``{% for x in items %}`` as ``for x in environment.loop(items)`` and ``a ~ b``
    as ``environment.concat_sized(a, b)``."""

    def visit_For(self, node: nodes.For) -> nodes.Node:
        self.generic_visit(node)
        node.iter = nodes.Call(
            nodes.EnvironmentAttribute("loop"), [node.iter], [], None, None, lineno=node.lineno
        )
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        self.generic_visit(node)
        return nodes.Call(
            nodes.EnvironmentAttribute("concat_sized"), list(node.nodes), [], None, None, lineno=node.lineno
        )


def _make_environment() -> _Environment:
    env = _Environment(
        autoescape=False,
        undefined=ChainableUndefined,
        keep_trailing_newline=True,
        auto_reload=False,
        cache_size=0,
    )
    filters: dict[str, Callable[..., Any]] = {name: FILTERS[name] for name in SAFE_FILTERS}
    filters.update(
        {"default": _default, "d": _default, "date": _date, "join": _join, "replace": _replace, "sum": _sum}
    )
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
    """Renders one template with the context, within :data:`MAX_STEPS` and :data:`MAX_OUTPUT`.

    Raises:
        TemplateError: when the template does not parse or fails while rendering (a refused
            operation, a limit reached, a call on an undefined value, a division by zero...).
    """
    if not is_template(text):
        _produce(len(text))
        return text
    problem = check_template(text)
    if problem is not None:
        raise TemplateError(problem)
    token = _BUDGET.set(_Budget()) if _BUDGET.get() is None else None  # alone: its own budget
    try:
        return _generate(text, ctx)
    finally:
        if token is not None:
            _BUDGET.reset(token)


def _generate(text: str, ctx: Mapping[str, Any]) -> str:
    pieces: list[str] = []
    produced = 0
    try:
        for piece in _compile(text).generate(dict(ctx)):
            produced += len(piece)
            if produced > MAX_OUTPUT:
                raise TemplateError(f"the output is longer than {MAX_OUTPUT} characters")
            _budget().produce(len(piece))
            pieces.append(piece)
    except TemplateError:
        raise
    except JinjaTemplateError as exc:
        raise TemplateError(str(exc.message or exc)) from exc
    except Exception as exc:  # anything a template expression can raise (ZeroDivisionError...)
        raise TemplateError(f"{type(exc).__name__}: {exc}") from exc
    return "".join(pieces)


def _produce(size: int) -> None:
    budget = _BUDGET.get()
    if budget is None:
        return
    try:
        budget.produce(size)
    except SecurityError as exc:
        raise TemplateError(str(exc)) from exc


def _render_value(value: Any, ctx: Mapping[str, Any], path: str) -> Any:
    if isinstance(value, str):
        try:
            return render(value, ctx)
        except TemplateError as exc:
            raise TemplateError(f"{path}: {exc}") from exc
    if isinstance(value, Mapping):
        return {key: _render_value(item, ctx, join_path(path, str(key))) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_render_value(item, ctx, join_path(path, index)) for index, item in enumerate(value)]
    return value


def render_config(config: Mapping[str, Any], ctx: Mapping[str, Any], path: str = "config") -> dict[str, Any]:
    """A copy of an action's config with every string (at any depth) rendered; keys stay.

    All the strings share one budget: :data:`MAX_STEPS` steps and :data:`MAX_CONFIG_OUTPUT`
    characters (plain strings count too).

    Raises:
        TemplateError: for the first string that fails to render, its message starting with
            the string's path (``config.body: ...``).
    """
    token = _BUDGET.set(_Budget())
    try:
        return {key: _render_value(value, ctx, join_path(path, str(key))) for key, value in config.items()}
    finally:
        _BUDGET.reset(token)


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
