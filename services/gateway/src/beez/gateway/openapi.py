"""The OpenAPI 3.0 document of the REST API, generated from the same route table the gateway serves.

Because it is derived from the routes and message descriptors, the document cannot drift from
what the gateway actually accepts: each route is one operation (``operationId`` is
``Service_Method``), path variables and query parameters come from the request message,
bodies and responses are schemas of the proto3 JSON mapping (lowerCamelCase names, 64-bit
integers as strings, enums as their names, ``Timestamp`` as ``date-time``, ...), and every
operation documents the ``google.rpc.Status`` error body. Answers leave unset fields out, so no
property is ``required``; a field with presence (``optional``) is described like any other.

Custom HTTP methods (``custom`` rules) have no place in OpenAPI 3.0 and are left out.
"""

from __future__ import annotations

import re
from typing import Any

from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor

from beez.gateway.authn import ORG_HTTP_HEADER, ROLES_HTTP_HEADER, USER_HTTP_HEADER
from beez.gateway.descriptors import (
    WRAPPERS,
    enum_type,
    is_map,
    is_message,
    is_single_value_message,
    message_type,
)
from beez.gateway.routes import Route, RouteTable

OPENAPI_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
STATUS_SCHEMA = "google.rpc.Status"
ANY_SCHEMA = "google.protobuf.Any"
MAX_QUERY_DEPTH = 3

_SCALARS: dict[int, dict[str, Any]] = {
    FieldDescriptor.TYPE_DOUBLE: {"type": "number", "format": "double"},
    FieldDescriptor.TYPE_FLOAT: {"type": "number", "format": "float"},
    FieldDescriptor.TYPE_INT32: {"type": "integer", "format": "int32"},
    FieldDescriptor.TYPE_SINT32: {"type": "integer", "format": "int32"},
    FieldDescriptor.TYPE_SFIXED32: {"type": "integer", "format": "int32"},
    FieldDescriptor.TYPE_UINT32: {"type": "integer", "format": "int64", "minimum": 0},
    FieldDescriptor.TYPE_FIXED32: {"type": "integer", "format": "int64", "minimum": 0},
    FieldDescriptor.TYPE_INT64: {"type": "string", "format": "int64"},
    FieldDescriptor.TYPE_SINT64: {"type": "string", "format": "int64"},
    FieldDescriptor.TYPE_SFIXED64: {"type": "string", "format": "int64"},
    FieldDescriptor.TYPE_UINT64: {"type": "string", "format": "uint64"},
    FieldDescriptor.TYPE_FIXED64: {"type": "string", "format": "uint64"},
    FieldDescriptor.TYPE_BOOL: {"type": "boolean"},
    FieldDescriptor.TYPE_STRING: {"type": "string"},
    FieldDescriptor.TYPE_BYTES: {"type": "string", "format": "byte"},
}

_WELL_KNOWN: dict[str, dict[str, Any]] = {
    "google.protobuf.Timestamp": {"type": "string", "format": "date-time"},
    "google.protobuf.Duration": {"type": "string", "pattern": r"^-?\d+(\.\d{1,9})?s$", "example": "1.5s"},
    "google.protobuf.FieldMask": {"type": "string", "description": "Comma-separated lowerCamelCase paths."},
    "google.protobuf.Struct": {"type": "object", "additionalProperties": True},
    "google.protobuf.Value": {"description": "Any JSON value.", "nullable": True},
    "google.protobuf.ListValue": {"type": "array", "items": {}},
    "google.protobuf.Empty": {"type": "object"},
    "google.protobuf.Any": {"$ref": f"#/components/schemas/{ANY_SCHEMA}"},
}


def build_openapi(
    table: RouteTable, *, local_mode: bool, title: str = "Beez Automations API", version: str = "v1"
) -> dict[str, Any]:
    """The OpenAPI 3.0 document for every route in ``table``."""
    schemas = _Schemas()
    paths: dict[str, dict[str, Any]] = {}
    ordered = sorted(table.routes, key=lambda r: (r.template.openapi_path(), r.http_method))
    for route in ordered:
        method = route.http_method.lower()
        if method not in OPENAPI_METHODS:
            continue
        paths.setdefault(route.template.openapi_path(), {})[method] = _operation(route, schemas, local_mode)
    components: dict[str, Any] = {"schemas": schemas.finish()}
    document: dict[str, Any] = {
        "openapi": "3.0.3",
        "info": {"title": title, "version": version},
        "paths": paths,
        "components": components,
    }
    if local_mode:
        components["parameters"] = {
            "OrgId": {
                "name": ORG_HTTP_HEADER,
                "in": "header",
                "required": True,
                "description": "The calling organization (local mode: trusted as given).",
                "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"},
            },
            "UserId": {
                "name": USER_HTTP_HEADER,
                "in": "header",
                "required": False,
                "description": "The calling user (local mode: trusted as given).",
                "schema": {"type": "string"},
            },
            "Roles": {
                "name": ROLES_HTTP_HEADER,
                "in": "header",
                "required": False,
                "description": "Local mode: narrows the caller's roles (viewer, editor, admin; comma "
                "separated). Without it the caller holds every role.",
                "schema": {"type": "string"},
            },
        }
    else:
        bearer = {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
        components["securitySchemes"] = {"bearerAuth": bearer}
        document["security"] = [{"bearerAuth": []}]
    return document


def _operation(route: Route, schemas: _Schemas, local_mode: bool) -> dict[str, Any]:
    parameters: list[dict[str, Any]] = []
    if local_mode:
        parameters += [
            {"$ref": "#/components/parameters/OrgId"},
            {"$ref": "#/components/parameters/UserId"},
            {"$ref": "#/components/parameters/Roles"},
        ]
    parameters += _path_parameters(route, schemas)
    if route.body != "*":
        excluded = set(route.path_fields) | ({route.body} if route.body else set())
        request = route.request_type
        parameters += _query_parameters(request, schemas, excluded, "", "", (request.full_name,), 0)
    operation: dict[str, Any] = {
        "operationId": route.operation_id,
        "tags": [route.service.name],
        "summary": f"{route.service.name}.{route.method.name}",
        "x-grpc-method": route.grpc_path,
        "parameters": parameters,
        "responses": {
            "200": {"description": "OK", "content": _json(_response_schema(route, schemas))},
            "default": {
                "description": "An error, as a google.rpc.Status.",
                "content": _json({"$ref": f"#/components/schemas/{STATUS_SCHEMA}"}),
            },
        },
    }
    if route.body:
        body = _json(_body_schema(route, schemas))
        operation["requestBody"] = {"required": route.body == "*", "content": body}
    return operation


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _path_parameters(route: Route, schemas: _Schemas) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = []
    for var in route.template.variables:
        field = _leaf(route.request_type, var.field_path.split("."))
        schema = dict(schemas.field(field))
        param: dict[str, Any] = {"name": var.field_path, "in": "path", "required": True, "schema": schema}
        if not var.single_segment:
            schema["pattern"] = _pattern_regex(var.pattern)
            param["description"] = f"Matches {var.pattern}; its slashes are part of the value."
        params.append(param)
    return params


def _pattern_regex(pattern: str) -> str:
    parts = [".*" if p == "**" else "[^/]+" if p == "*" else re.escape(p) for p in pattern.split("/")]
    return "^" + "/".join(parts) + "$"


def _leaf(message: Descriptor, parts: list[str]) -> FieldDescriptor:
    field = message.fields_by_name[parts[0]]
    for part in parts[1:]:
        field = message_type(field).fields_by_name[part]
    return field


def _query_parameters(
    message: Descriptor,
    schemas: _Schemas,
    excluded: set[str],
    proto_prefix: str,
    json_prefix: str,
    stack: tuple[str, ...],
    depth: int,
) -> list[dict[str, Any]]:
    """Query parameters for ``message``'s fields not bound elsewhere, nested fields with dots."""
    params: list[dict[str, Any]] = []
    for field in message.fields:
        proto_name = proto_prefix + field.name
        json_name = json_prefix + field.json_name
        if proto_name in excluded:
            continue
        if is_map(field):
            continue
        if is_message(field) and not is_single_value_message(field):
            sub = message_type(field)
            if (
                not field.is_repeated
                and sub.full_name not in stack
                and not sub.full_name.startswith("google.protobuf.")
                and depth + 1 < MAX_QUERY_DEPTH
            ):
                prefixes = (proto_name + ".", json_name + ".")
                stacked = (*stack, sub.full_name)
                params += _query_parameters(sub, schemas, excluded, *prefixes, stacked, depth + 1)
            continue
        params.append(_query_param(json_name, schemas.field(field)))
    return params


def _query_param(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    param: dict[str, Any] = {"name": name, "in": "query", "required": False, "schema": schema}
    if schema.get("type") == "array":
        param.update(style="form", explode=True)
    return param


def _body_schema(route: Route, schemas: _Schemas) -> dict[str, Any]:
    if route.body != "*":
        return schemas.field(route.request_type.fields_by_name[route.body])
    top_level_bound = {p for p in route.path_fields if "." not in p}
    if not top_level_bound:
        return schemas.ref(route.request_type)
    return schemas.object_schema(route.request_type, exclude=top_level_bound)


def _response_schema(route: Route, schemas: _Schemas) -> dict[str, Any]:
    if route.response_body:
        return schemas.field(route.response_type.fields_by_name[route.response_body])
    return schemas.ref(route.response_type)


class _Schemas:
    """``components.schemas``, filled as messages and enums are referenced."""

    def __init__(self) -> None:
        self.schemas: dict[str, dict[str, Any]] = {
            STATUS_SCHEMA: {
                "type": "object",
                "description": "An error: gRPC code, message and typed details (google.rpc.Status).",
                "properties": {
                    "code": {"type": "integer", "format": "int32"},
                    "message": {"type": "string"},
                    "details": {"type": "array", "items": {"$ref": f"#/components/schemas/{ANY_SCHEMA}"}},
                },
            },
            ANY_SCHEMA: {
                "type": "object",
                "description": "A typed message; '@type' names its type.",
                "properties": {"@type": {"type": "string"}},
                "additionalProperties": True,
            },
        }

    def finish(self) -> dict[str, dict[str, Any]]:
        return dict(sorted(self.schemas.items()))

    def ref(self, message: Descriptor) -> dict[str, Any]:
        """A reference to ``message`` (inline for well-known types), adding it to the components."""
        known = _WELL_KNOWN.get(message.full_name)
        if known is not None:
            return dict(known)
        if message.full_name not in self.schemas:
            self.schemas[message.full_name] = {}  # placeholder first: messages may be recursive
            self.schemas[message.full_name] = self.object_schema(message)
        return {"$ref": f"#/components/schemas/{message.full_name}"}

    def enum_ref(self, enum: EnumDescriptor) -> dict[str, Any]:
        if enum.full_name == "google.protobuf.NullValue":
            return {"nullable": True, "enum": [None]}
        if enum.full_name not in self.schemas:
            self.schemas[enum.full_name] = {"type": "string", "enum": [v.name for v in enum.values]}
        return {"$ref": f"#/components/schemas/{enum.full_name}"}

    def object_schema(self, message: Descriptor, exclude: set[str] | None = None) -> dict[str, Any]:
        properties = {f.json_name: self.field(f) for f in message.fields if f.name not in (exclude or set())}
        return {"type": "object", "properties": properties}

    def field(self, field: FieldDescriptor) -> dict[str, Any]:
        """The JSON schema of one field's value, per the proto3 JSON mapping."""
        if is_map(field):
            value = message_type(field).fields_by_name["value"]
            return {"type": "object", "additionalProperties": self.single(value)}
        single = self.single(field)
        return {"type": "array", "items": single} if field.is_repeated else single

    def single(self, field: FieldDescriptor) -> dict[str, Any]:
        if field.type == FieldDescriptor.TYPE_ENUM:
            return self.enum_ref(enum_type(field))
        if field.type in (FieldDescriptor.TYPE_MESSAGE, FieldDescriptor.TYPE_GROUP):
            message = message_type(field)
            if message.full_name in WRAPPERS:
                return {**self.single(message.fields_by_name["value"]), "nullable": True}
            return self.ref(message)
        return dict(_SCALARS[field.type])
