"""An RPC call as the gateway's REST request, and the gateway's JSON answer as the response message.

The CLI reads each RPC's ``google.api.http`` annotation (:mod:`beez.api.http_rules`, which the
gateway reads too) and does the inverse of the gateway's transcoding:

- the binding is the first one (the rule, then its ``additional_bindings``) whose path variables
  the request sets, so ``GetExecution`` with only an execution id uses
  ``/api/automations/executions/{execution_id}``;
- path variables are substituted from the request, percent-encoded;
- the body follows the rule: ``*`` is every field the path does not bind, a field name is that
  field, none means no body;
- every other set field becomes a query parameter (lowerCamelCase, dotted for nested fields,
  repeated keys for repeated fields), as the gateway reads them.

Messages travel as proto3 JSON; answers are parsed ignoring unknown fields, so a newer gateway
that answers more fields does not break an older CLI.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote

from google.protobuf import descriptor_pool, json_format
from google.protobuf.descriptor import FieldDescriptor, MethodDescriptor
from google.protobuf.message import Message

from beez.api.http_rules import bindings, http_rule, method_and_path

M = TypeVar("M", bound=Message)

_VARIABLE = re.compile(r"\{(?P<field>[^}=]+)(?:=(?P<pattern>[^}]*))?\}")


class UnboundPath(ValueError):
    """The request leaves a path variable of every binding unset, so no URL can be built."""


@dataclass(frozen=True)
class HttpCall:
    """One REST request: method, path (encoded), query parameters and JSON body (None: no body)."""

    method: str
    path: str
    query: tuple[tuple[str, str], ...]
    body: Any
    response_body: str


def find_method(full_method: str) -> MethodDescriptor:
    """The descriptor of ``package.Service/Method`` (a leading ``/`` is allowed).

    The method's ``*_pb2`` module must have been imported.
    """
    name = full_method.lstrip("/").replace("/", ".")
    try:
        method: MethodDescriptor = descriptor_pool.Default().FindMethodByName(name)
    except KeyError:
        raise LookupError(f"no RPC named {full_method!r}") from None
    return method


def http_call(method: MethodDescriptor, request: Message) -> HttpCall:
    """The REST request for calling ``method`` with ``request``.

    Raises ``LookupError`` for an RPC the gateway does not expose, and :class:`UnboundPath`
    when the request does not set the fields any of its paths needs.
    """
    if request.DESCRIPTOR is not method.input_type:
        raise TypeError(
            f"{method.full_name} takes {method.input_type.full_name}, not {request.DESCRIPTOR.full_name}"
        )
    rule = http_rule(method)
    if rule is None:
        raise LookupError(f"{method.full_name} has no google.api.http rule: the gateway does not expose it")
    missing: list[list[str]] = []
    for binding in bindings(rule):
        pattern = method_and_path(binding)
        if pattern is None:
            continue
        http_method, template = pattern
        unset = [m["field"] for m in _VARIABLE.finditer(template) if _path_value(request, m["field"]) is None]
        if unset:
            missing.append(unset)
            continue
        return _build(http_method, template, binding.body, binding.response_body, request)
    fewest = min(missing, key=len, default=["a path"])  # the binding closest to being usable
    raise UnboundPath(f"{' and '.join(fewest)} must be set to call {method.name}")


def read_response(call: HttpCall, data: Any, response_class: type[M]) -> M:
    """The response message from the gateway's JSON answer (only the ``response_body`` field, if any)."""
    if call.response_body:
        data = {call.response_body: data}
    response = response_class()
    json_format.ParseDict(data, response, ignore_unknown_fields=True)
    return response


def _build(http_method: str, template: str, body_rule: str, response_body: str, request: Message) -> HttpCall:
    fields = json_format.MessageToDict(request, preserving_proto_field_name=False)
    bound = [m["field"] for m in _VARIABLE.finditer(template)]
    for field_path in bound:
        _drop(fields, _json_path(request, field_path))

    def substitute(found: re.Match[str]) -> str:
        value = _path_value(request, found["field"])
        assert value is not None  # http_call checked every variable is set
        multi_segment = (found["pattern"] or "*") != "*"
        return quote(value, safe="/" if multi_segment else "")

    path = _VARIABLE.sub(substitute, template)
    body: Any = None
    if body_rule == "*":
        body = fields
        fields = {}
    elif body_rule:
        json_name = request.DESCRIPTOR.fields_by_name[body_rule].json_name
        body = fields.pop(json_name, None)
    return HttpCall(http_method, path, tuple(_query(fields)), body, response_body)


def _path_value(request: Message, field_path: str) -> str | None:
    """The text of the field a path variable binds, or None when it is unset (or its default)."""
    message = request
    parts = field_path.split(".")
    for part in parts[:-1]:
        if not message.HasField(part):
            return None
        message = getattr(message, part)
    field = message.DESCRIPTOR.fields_by_name[parts[-1]]
    if field.has_presence and not message.HasField(field.name):
        return None
    value = getattr(message, field.name)
    if field.enum_type is not None:
        return None if value == 0 else field.enum_type.values_by_number[value].name
    if field.type == FieldDescriptor.TYPE_BOOL:
        return "true" if value else None
    text = str(value)
    return None if text in ("", "0", "0.0") and not field.has_presence else text


def _json_path(request: Message, field_path: str) -> list[str]:
    """``field_path`` (proto names, dotted) as the JSON names ``MessageToDict`` uses."""
    names: list[str] = []
    descriptor = request.DESCRIPTOR
    for part in field_path.split("."):
        field = descriptor.fields_by_name[part]
        names.append(field.json_name)
        if field.message_type is not None:
            descriptor = field.message_type
    return names


def _drop(data: dict[str, Any], path: list[str]) -> None:
    """Removes ``path`` from nested dicts, and any parent it leaves empty."""
    head, rest = path[0], path[1:]
    if head not in data:
        return
    if rest:
        child = data[head]
        if isinstance(child, dict):
            _drop(child, rest)
            if not child:
                del data[head]
        return
    del data[head]


def _query(fields: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """Query parameters for every set field: dotted names for nested fields, one key per item."""
    params: list[tuple[str, str]] = []
    for key, value in fields.items():
        name = prefix + key
        if isinstance(value, dict):
            params.extend(_query(value, name + "."))
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, dict | list):
                    raise ValueError(f"{name}: a repeated message field cannot be sent as a query parameter")
                params.append((name, _text(item)))
        elif value is not None:
            params.append((name, _text(value)))
    return params


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
