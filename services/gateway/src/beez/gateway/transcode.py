"""HTTP request to protobuf request, protobuf response to JSON, per the route's http rule.

The request message is filled in three steps, later ones winning:

1. the body, by the rule: ``*`` is the whole message, a field name is that field, empty means
   no body is accepted. It is parsed as proto3 JSON with unknown fields refused, so a typo in a
   field name is a 400 rather than silently dropped input;
2. query parameters, for any field not bound by the path or the body: names in snake_case or
   lowerCamelCase, nested fields with dots (``filter.name``), repeated fields by repeating the
   key; scalars converted by field type, enums by name, ``Timestamp`` as RFC 3339, ``Duration``
   as ``"1.5s"``, ``FieldMask`` as ``"a,b"``, wrapper types as their value;
3. path variables, converted the same way.

Every conversion failure is an INVALID_ARGUMENT :class:`~beez.gateway.errors.GatewayError`
naming the offending field. Responses are proto3 JSON with lowerCamelCase names, unset fields
left out; fields with presence (``optional``, messages) show whenever they were set.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from google.protobuf import json_format
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from beez.gateway.descriptors import (
    WRAPPERS,
    enum_type,
    field_chain,
    is_map,
    is_message,
    is_single_value_message,
    message_type,
)
from beez.gateway.errors import invalid_argument
from beez.gateway.routes import Route

_INT_RANGES: dict[int, tuple[int, int]] = {
    FieldDescriptor.TYPE_INT32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_SINT32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_SFIXED32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_INT64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_SINT64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_SFIXED64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_UINT32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_FIXED32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_UINT64: (0, 2**64 - 1),
    FieldDescriptor.TYPE_FIXED64: (0, 2**64 - 1),
}

_INTEGER = re.compile(r"[+-]?[0-9]+")

# "Message type "x.Y" has no field named "bogus" at "Req.thing"."
_UNKNOWN_FIELD = re.compile(r'has no field named "(?P<field>[^"]+)" at "(?P<at>[^"]*)"')


def build_request(
    route: Route,
    message_class: type[Message],
    path_params: Mapping[str, str],
    query: Iterable[tuple[str, str]],
    body: bytes,
) -> Message:
    """The request message for ``route`` from the HTTP body, query and path variables."""
    request = message_class()
    _apply_body(route, request, body)
    _apply_query(route, request, query)
    for field_path, raw in path_params.items():
        fields = field_chain(route.request_type, field_path.split("."), by_json_name=False)
        if fields is None:  # build_routes validated the template against this very type
            raise RuntimeError(f"path variable {field_path!r} not in {route.request_type.full_name}")
        _set_values(request, fields, [raw], field_path)
    return request


def render_response(route: Route, response: Message, *, emit_unpopulated: bool) -> Any:
    """The JSON value answered for ``response``: the whole message or its ``response_body`` field."""
    data = _to_dict(response, emit_unpopulated)
    if not route.response_body:
        return data
    field = response.DESCRIPTOR.fields_by_name[route.response_body]
    if field.json_name not in data:
        # Unset in the message: answer its JSON default ([] / {} / 0 / "") rather than nothing.
        data = _to_dict(response, True)
    return data.get(field.json_name)


def _to_dict(message: Message, emit_unpopulated: bool) -> dict[str, Any]:
    return json_format.MessageToDict(
        message, always_print_fields_with_no_presence=emit_unpopulated, preserving_proto_field_name=False
    )


def _apply_body(route: Route, request: Message, body: bytes) -> None:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise invalid_argument("request body is not UTF-8") from None
    if not route.body:
        if text.strip():
            raise invalid_argument(f"{route.http_method} {route.template.source} takes no request body")
        return
    if not text.strip():
        return
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise invalid_argument(f"request body is not valid JSON: {exc}") from None
    except RecursionError:
        raise invalid_argument("request body is nested too deeply") from None
    try:
        if route.body == "*":
            if not isinstance(data, dict):
                raise invalid_argument("request body must be a JSON object")
            json_format.ParseDict(data, request, ignore_unknown_fields=False)
        else:
            json_format.ParseDict({route.body: data}, request, ignore_unknown_fields=False)
    except (json_format.ParseError, ValueError, TypeError) as exc:  # json_format is not always consistent
        first_line = str(exc).splitlines()[0].strip() if str(exc) else "invalid request body"
        unknown = _unknown_field(exc)
        description = "unknown field" if unknown else None
        raise invalid_argument(f"invalid request body: {first_line}", unknown, description) from None


def _unknown_field(exc: Exception) -> str | None:
    """The dotted path of the unknown field a ParseError reports, when it reports one.

    json_format says ``... has no field named "x" at "Request.thing"``; that becomes ``thing.x``.
    """
    found = _UNKNOWN_FIELD.search(str(exc))
    if found is None:
        return None
    at = found["at"].split(".")[1:]  # drop the root message's name
    return ".".join([*at, found["field"]])


def _apply_query(route: Route, request: Message, query: Iterable[tuple[str, str]]) -> None:
    # canonical field path -> (its fields, its values, the name the client used first)
    grouped: dict[str, tuple[list[FieldDescriptor], list[str], str]] = {}
    for key, value in query:
        if route.body == "*":
            raise invalid_argument(
                f"query parameter {key!r} is not accepted: the body carries the whole request", key
            )
        fields = field_chain(route.request_type, key.split("."), by_json_name=True)
        if fields is None:
            raise invalid_argument(f"unknown query parameter {key!r}", key)
        canonical = ".".join(f.name for f in fields)
        for bound in route.path_fields:
            if canonical == bound or canonical.startswith(bound + ".") or bound.startswith(canonical + "."):
                raise invalid_argument(f"query parameter {key!r} is set by the path", key)
        if route.body and (canonical == route.body or canonical.startswith(route.body + ".")):
            raise invalid_argument(f"query parameter {key!r} is set by the request body", key)
        grouped.setdefault(canonical, (fields, [], key))[1].append(value)
    for fields, values, key in grouped.values():
        _set_values(request, fields, values, key)


def _set_values(request: Message, fields: list[FieldDescriptor], values: list[str], name: str) -> None:
    parent = request
    for field in fields[:-1]:
        parent = getattr(parent, field.name)
    leaf = fields[-1]
    if is_map(leaf):
        raise invalid_argument(f"{name!r} is a map and cannot be set from the query", name)
    if is_message(leaf) and not is_single_value_message(leaf):
        raise invalid_argument(f"{name!r} is a message: set its fields, e.g. {name}.<field>=...", name)
    if not leaf.is_repeated and len(values) > 1:
        raise invalid_argument(f"{name!r} is not repeated but was given {len(values)} values", name)
    oneof = leaf.containing_oneof
    if oneof is not None:
        chosen = parent.WhichOneof(oneof.name)
        if chosen is not None and chosen != leaf.name:
            raise invalid_argument(f"set only one of {chosen!r} and {name!r} (oneof {oneof.name})", name)
    if leaf.is_repeated:
        container = getattr(parent, leaf.name)
        for value in values:
            if is_message(leaf):
                _set_leaf_message(container.add(), leaf, value, name)
            else:
                container.append(_scalar(leaf, value, name))
    elif is_message(leaf):
        _set_leaf_message(getattr(parent, leaf.name), leaf, values[0], name)
    else:
        setattr(parent, leaf.name, _scalar(leaf, values[0], name))


def _set_leaf_message(target: Message, field: FieldDescriptor, value: str, name: str) -> None:
    """Sets a single-value message (``field``'s type) from one string."""
    descriptor = message_type(field)
    if descriptor.full_name in WRAPPERS:
        target.value = _scalar(descriptor.fields_by_name["value"], value, name)  # type: ignore[attr-defined]
        return
    try:
        json_format.Parse(json.dumps(value), target)
    except json_format.ParseError as exc:
        raise invalid_argument(f"{name!r}: invalid {descriptor.name} {value!r}: {exc}", name) from None


def _scalar(field: FieldDescriptor, text: str, name: str) -> Any:
    """``text`` converted to the Python value of a scalar or enum field."""
    kind = field.type
    if kind == FieldDescriptor.TYPE_STRING:
        return text
    if kind == FieldDescriptor.TYPE_BOOL:
        lowered = text.lower()
        if lowered not in ("true", "false"):
            raise invalid_argument(f"{name!r}: expected true or false, got {text!r}", name)
        return lowered == "true"
    if kind in _INT_RANGES:
        low, high = _INT_RANGES[kind]
        if not _INTEGER.fullmatch(text) or not low <= int(text) <= high:
            raise invalid_argument(f"{name!r}: expected an integer in [{low}, {high}], got {text!r}", name)
        return int(text)
    if kind in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        try:
            return float(text)
        except ValueError:
            raise invalid_argument(f"{name!r}: expected a number, got {text!r}", name) from None
    if kind == FieldDescriptor.TYPE_BYTES:
        try:
            padded = text + "=" * (-len(text) % 4)
            return base64.urlsafe_b64decode(padded.replace("+", "-").replace("/", "_"))
        except (binascii.Error, ValueError):
            raise invalid_argument(f"{name!r}: expected base64, got {text!r}", name) from None
    if kind == FieldDescriptor.TYPE_ENUM:
        enum = enum_type(field)
        by_name = enum.values_by_name.get(text)
        if by_name is not None:
            return by_name.number
        if _INTEGER.fullmatch(text) and int(text) in enum.values_by_number:
            return int(text)
        allowed = ", ".join(v.name for v in enum.values)
        raise invalid_argument(f"{name!r}: {text!r} is not one of {allowed}", name)
    raise invalid_argument(f"{name!r} cannot be set from a string", name)
