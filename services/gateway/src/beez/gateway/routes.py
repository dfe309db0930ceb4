"""The route table: which RPC answers an HTTP method and path, read from ``google.api.http``.

Every unary method of the given services that carries a ``google.api.http`` rule (and each of
its ``additional_bindings``) becomes a :class:`Route`, so adding an annotated RPC to a contract
is all it takes to expose it over REST.

Path templates follow ``google/api/http.proto``::

    Template = "/" Segments [ Verb ] ;
    Segment  = "*" | "**" | LITERAL | Variable ;
    Variable = "{" FieldPath [ "=" Segments ] "}" ;

When several routes match one path, the most specific wins, compared segment by segment:
a literal beats a variable or ``*``, which beats ``**``; then a route with a ``:verb`` beats one
without. So ``/api/automations/triggers`` reaches the literal route rather than
``/api/automations/{id}``. Templates that could never be told apart (same method, same shape)
are refused when the table is built, so matching is always deterministic.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from urllib.parse import unquote

from google.api import http_pb2
from google.protobuf.descriptor import Descriptor, MethodDescriptor, ServiceDescriptor

from beez.api.http_rules import bindings, http_rule, method_and_path
from beez.gateway.descriptors import field_chain, is_message
from beez.kit.logging import get_logger

log = get_logger(__name__)

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SLASH = re.compile(r"%2[fF]")


class RouteError(ValueError):
    """An ``google.api.http`` rule that cannot be served; raised when the table is built."""


class SegmentKind(IntEnum):
    """What one template segment matches; the value is its rank (higher is more specific)."""

    DOUBLE_WILDCARD = 0
    WILDCARD = 1
    LITERAL = 2


_WILDCARDS = {SegmentKind.WILDCARD: "*", SegmentKind.DOUBLE_WILDCARD: "**"}


@dataclass(frozen=True, slots=True)
class Segment:
    """One ``/``-separated piece of a template: a literal, ``*`` or ``**``."""

    kind: SegmentKind
    literal: str = ""


@dataclass(frozen=True, slots=True)
class Variable:
    """A ``{field.path=...}`` capture covering ``segments[start:end]`` (``end`` None: to the end)."""

    field_path: str
    start: int
    end: int | None
    pattern: str

    @property
    def single_segment(self) -> bool:
        return self.end is not None and self.end - self.start == 1


@dataclass(frozen=True, slots=True)
class PathTemplate:
    """A parsed path template; :meth:`match` extracts its variables from a request path."""

    source: str
    segments: tuple[Segment, ...]
    variables: tuple[Variable, ...]
    verb: str

    @classmethod
    def parse(cls, template: str) -> PathTemplate:
        """Parses ``template`` or raises :class:`RouteError` saying what is wrong with it."""
        return _TemplateParser(template).parse()

    @property
    def rank(self) -> tuple[int, ...]:
        """Specificity, compared lexicographically: per-segment ranks, then 1 if it has a verb."""
        return (*(int(s.kind) for s in self.segments), 1 if self.verb else 0)

    @property
    def shape(self) -> tuple[object, ...]:
        """The template with variable names erased: two routes of one shape can't be told apart."""
        return (tuple((s.kind, s.literal) for s in self.segments), self.verb)

    @property
    def field_paths(self) -> tuple[str, ...]:
        return tuple(v.field_path for v in self.variables)

    def match(self, path: str) -> dict[str, str] | None:
        """The variables bound by ``path`` (as sent, percent-encoded), or None when it doesn't match.

        Values come back decoded. Single-segment variables are fully percent-decoded; multi-segment
        ones keep ``%2F`` encoded so a slash inside a segment stays distinguishable from the
        separators, as ``http.proto`` specifies.
        """
        if self.verb:
            suffix = ":" + self.verb
            if not path.endswith(suffix):
                return None
            path = path[: -len(suffix)]
        if not path.startswith("/"):
            return None
        raw = path[1:].split("/")
        if not self._segments_match(raw):
            return None
        bound: dict[str, str] = {}
        for var in self.variables:
            parts = raw[var.start : var.end]
            if var.single_segment:
                bound[var.field_path] = unquote(parts[0])
            else:
                bound[var.field_path] = "/".join(unquote(_SLASH.sub("%252F", p)) for p in parts)
        return bound

    def _segments_match(self, raw: list[str]) -> bool:
        segs = self.segments
        has_tail = bool(segs) and segs[-1].kind is SegmentKind.DOUBLE_WILDCARD
        fixed = segs[:-1] if has_tail else segs
        if len(raw) < len(fixed) or (not has_tail and len(raw) != len(fixed)):
            return False
        for seg, part in zip(fixed, raw, strict=False):
            if seg.kind is SegmentKind.LITERAL:
                if unquote(part) != seg.literal:
                    return False
            elif not part:
                return False
        return True

    def openapi_path(self) -> str:
        """The template as an OpenAPI path: ``{field.path}`` per variable, literals kept."""
        out: list[str] = []
        i = 0
        by_start = {v.start: v for v in self.variables}
        while i < len(self.segments):
            var = by_start.get(i)
            if var is not None:
                out.append("{" + var.field_path + "}")
                i = var.end if var.end is not None else len(self.segments)
                continue
            seg = self.segments[i]
            out.append(_WILDCARDS.get(seg.kind, seg.literal))
            i += 1
        return "/" + "/".join(out) + (":" + self.verb if self.verb else "")


class _TemplateParser:
    """A small recursive-descent parser for the ``http.proto`` template grammar."""

    def __init__(self, template: str) -> None:
        self.template = template
        self.segments: list[Segment] = []
        self.variables: list[Variable] = []

    def fail(self, why: str) -> RouteError:
        return RouteError(f"invalid path template {self.template!r}: {why}")

    def parse(self) -> PathTemplate:
        text = self.template
        if not text.startswith("/"):
            raise self.fail("must start with '/'")
        body, verb = text[1:], ""
        tail_start = max(body.rfind("/"), body.rfind("}")) + 1
        if ":" in body[tail_start:]:
            colon = tail_start + body[tail_start:].index(":")
            body, verb = body[:colon], body[colon + 1 :]
            if not verb or "/" in verb:
                raise self.fail("empty or malformed ':verb'")
        for piece in self._split(body):
            if piece.startswith("{"):
                self._variable(piece)
            else:
                self.segments.append(self._segment(piece))
        for i, seg in enumerate(self.segments):
            if seg.kind is SegmentKind.DOUBLE_WILDCARD and i != len(self.segments) - 1:
                raise self.fail("'**' is only allowed as the last segment")
        return PathTemplate(self.template, tuple(self.segments), tuple(self.variables), verb)

    def _split(self, body: str) -> list[str]:
        """Splits on ``/`` outside braces."""
        pieces: list[str] = []
        depth, start = 0, 0
        for i, ch in enumerate(body):
            if ch == "{":
                if depth:
                    raise self.fail("nested '{'")
                depth = 1
            elif ch == "}":
                if not depth:
                    raise self.fail("unbalanced '}'")
                depth = 0
            elif ch == "/" and not depth:
                pieces.append(body[start:i])
                start = i + 1
        if depth:
            raise self.fail("unbalanced '{'")
        pieces.append(body[start:])
        return pieces

    def _segment(self, piece: str) -> Segment:
        if piece == "**":
            return Segment(SegmentKind.DOUBLE_WILDCARD)
        if piece == "*":
            return Segment(SegmentKind.WILDCARD)
        if not piece or any(c in piece for c in "{}*"):
            raise self.fail(f"bad segment {piece!r}")
        return Segment(SegmentKind.LITERAL, piece)

    def _variable(self, piece: str) -> None:
        if not piece.endswith("}"):
            raise self.fail(f"text after a variable in {piece!r}")
        inner = piece[1:-1]
        field_path, _, pattern = inner.partition("=")
        if not all(_IDENT.fullmatch(p) for p in field_path.split(".")):
            raise self.fail(f"bad field path {field_path!r}")
        if any(v.field_path == field_path for v in self.variables):
            raise self.fail(f"field {field_path!r} bound twice")
        pattern = pattern or "*"
        start = len(self.segments)
        for sub in pattern.split("/"):
            self.segments.append(self._segment(sub))
        end: int | None = len(self.segments)
        if self.segments[-1].kind is SegmentKind.DOUBLE_WILDCARD:
            end = None
        self.variables.append(Variable(field_path, start, end, pattern))


@dataclass(frozen=True, slots=True)
class Route:
    """One HTTP binding of one RPC."""

    http_method: str
    template: PathTemplate
    body: str
    response_body: str
    service: ServiceDescriptor
    method: MethodDescriptor
    binding_index: int

    @property
    def grpc_path(self) -> str:
        """The gRPC method path, ``/package.Service/Method``."""
        return f"/{self.service.full_name}/{self.method.name}"

    @property
    def operation_id(self) -> str:
        """``Service_Method``; additional bindings get a 1-based suffix (``Service_Method2``)."""
        base = f"{self.service.name}_{self.method.name}"
        return base if self.binding_index == 0 else f"{base}{self.binding_index + 1}"

    @property
    def request_type(self) -> Descriptor:
        return self.method.input_type

    @property
    def response_type(self) -> Descriptor:
        return self.method.output_type

    @property
    def path_fields(self) -> tuple[str, ...]:
        """Request field paths bound by the path, as written in the template (proto names)."""
        return self.template.field_paths

    @property
    def sort_key(self) -> tuple[tuple[int, ...], str, str, int]:
        """Most specific first; ties (different shapes, same rank) broken by name for determinism."""
        rank = tuple(-r for r in self.template.rank)
        return (rank, self.template.source, self.grpc_path, self.binding_index)


@dataclass(frozen=True, slots=True)
class RouteMatch:
    """A matched route and the raw values of its path variables, keyed by field path."""

    route: Route
    path_params: Mapping[str, str]


@dataclass(frozen=True)
class RouteTable:
    """All routes, most specific first, with lookup by HTTP method and path."""

    routes: tuple[Route, ...]
    _by_method: dict[str, tuple[Route, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_method: dict[str, list[Route]] = {}
        for route in self.routes:
            by_method.setdefault(route.http_method, []).append(route)
        object.__setattr__(self, "_by_method", {m: tuple(rs) for m, rs in by_method.items()})

    def match(self, http_method: str, path: str) -> RouteMatch | None:
        """The most specific route for ``http_method`` and raw ``path``, or None."""
        path = _normalize(path)
        for route in self._by_method.get(http_method.upper(), ()):
            params = route.template.match(path)
            if params is not None:
                return RouteMatch(route, params)
        return None

    def allowed_methods(self, path: str) -> list[str]:
        """HTTP methods that have a route for ``path`` (for 405 answers)."""
        path = _normalize(path)
        return sorted(
            method
            for method, routes in self._by_method.items()
            if any(r.template.match(path) is not None for r in routes)
        )


def _normalize(path: str) -> str:
    """Drops one trailing slash so ``/api/automations/`` reaches ``/api/automations``."""
    return path[:-1] if len(path) > 1 and path.endswith("/") else path


def build_routes(services: Iterable[ServiceDescriptor]) -> RouteTable:
    """Builds the table for ``services``; raises :class:`RouteError` on a rule that can't be served.

    Methods without an http rule are not exposed. Streaming methods are skipped with a warning:
    the gateway only transcodes unary calls.
    """
    routes: list[Route] = []
    seen: dict[tuple[str, tuple[object, ...]], Route] = {}
    for service in services:
        for method in service.methods:
            rule = http_rule(method)
            if rule is None:
                continue
            if method.client_streaming or method.server_streaming:
                rpc = f"{service.full_name}/{method.name}"
                log.warning("streaming method not exposed over REST", rpc=rpc)
                continue
            for index, binding in enumerate(bindings(rule)):
                route = _route(service, method, binding, index)
                key = (route.http_method, route.template.shape)
                if key in seen:
                    other = seen[key]
                    raise RouteError(
                        f"{route.http_method} {route.template.source} ({route.grpc_path}) cannot be told "
                        f"apart from {other.template.source} ({other.grpc_path})"
                    )
                seen[key] = route
                routes.append(route)
    routes.sort(key=lambda r: r.sort_key)
    return RouteTable(tuple(routes))


def _route(
    service: ServiceDescriptor, method: MethodDescriptor, rule: http_pb2.HttpRule, index: int
) -> Route:
    where = f"{service.full_name}/{method.name}"
    pattern = method_and_path(rule)
    if pattern is None:
        raise RouteError(f"{where}: http rule has no method and path")
    http_method, path = pattern
    if not http_method or not re.fullmatch(r"[A-Z]+", http_method):
        raise RouteError(f"{where}: bad HTTP method {http_method!r}")
    try:
        template = PathTemplate.parse(path)
    except RouteError as exc:
        raise RouteError(f"{where}: {exc}") from None
    request, response = method.input_type, method.output_type
    for field_path in template.field_paths:
        chain = field_chain(request, field_path.split("."), by_json_name=False)
        if chain is None:
            raise RouteError(f"{where}: path variable {field_path!r} is not a field of {request.full_name}")
        if chain[-1].is_repeated or is_message(chain[-1]):
            raise RouteError(f"{where}: path variable {field_path!r} must be a singular scalar or enum field")
    if rule.body not in ("", "*") and rule.body not in request.fields_by_name:
        raise RouteError(f"{where}: body {rule.body!r} is not a top-level field of {request.full_name}")
    if rule.response_body and rule.response_body not in response.fields_by_name:
        raise RouteError(f"{where}: response_body {rule.response_body!r} not in {response.full_name}")
    return Route(http_method, template, rule.body, rule.response_body, service, method, index)
