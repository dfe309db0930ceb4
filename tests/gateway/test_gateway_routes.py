"""The route table: template parsing, matching, specificity, and refusing rules it can't serve."""

from __future__ import annotations

import itertools

import pytest
from google.api import annotations_pb2, http_pb2
from google.protobuf import descriptor_pb2, descriptor_pool
from google.protobuf.descriptor import ServiceDescriptor

from beez.gateway.contracts import load_service_descriptors
from beez.gateway.routes import PathTemplate, RouteError, RouteTable, SegmentKind, build_routes
from tests.gateway.gateway_echo import SERVICE

_counter = itertools.count()


def _service(
    rules: dict[str, http_pb2.HttpRule],
    fields: tuple[str, ...] = ("id", "name"),
) -> ServiceDescriptor:
    """A one-off service in the default pool: ``rules`` by method name; requests are ``Req{fields}``."""
    n = next(_counter)
    package = f"beez.testing.dyn{n}"
    proto = descriptor_pb2.FileDescriptorProto(
        name=f"beez/testing/dyn{n}.proto",
        package=package,
        syntax="proto3",
        dependency=["google/api/annotations.proto"],
    )
    req = proto.message_type.add(name="Req")
    for number, name in enumerate(fields, start=1):
        req.field.add(
            name=name,
            number=number,
            type=descriptor_pb2.FieldDescriptorProto.TYPE_STRING,
            label=descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL,
            json_name=name,
        )
    service = proto.service.add(name="Svc")
    for method_name, rule in rules.items():
        req_type = f".{package}.Req"
        method = service.method.add(name=method_name, input_type=req_type, output_type=req_type)
        method.options.Extensions[annotations_pb2.http].CopyFrom(rule)
    pool = descriptor_pool.Default()
    pool.Add(proto)
    return pool.FindServiceByName(f"{package}.Svc")


@pytest.fixture(scope="module")
def echo_table() -> RouteTable:
    return build_routes([SERVICE])


@pytest.fixture(scope="module")
def beez_table() -> RouteTable:
    return build_routes(load_service_descriptors())


def _rpc(table: RouteTable, method: str, path: str) -> str | None:
    found = table.match(method, path)
    return found.route.method.name if found else None


def test_literal_route_wins_over_variable(echo_table: RouteTable) -> None:
    assert _rpc(echo_table, "GET", "/v1/things/special") == "GetSpecialThing"
    assert _rpc(echo_table, "GET", "/v1/things/other") == "GetThing"


def test_deeper_literal_wins_over_variable(echo_table: RouteTable) -> None:
    found = echo_table.match("GET", "/v1/things/t1/parts/search")
    assert found is not None
    assert found.route.method.name == "SearchParts"
    assert dict(found.path_params) == {"thing_id": "t1"}
    assert _rpc(echo_table, "GET", "/v1/things/t1/parts/p9") == "GetPart"


def test_beez_contract_conflicts_resolve_to_the_literal_routes(beez_table: RouteTable) -> None:
    assert _rpc(beez_table, "GET", "/api/automations/triggers") == "ListTriggerTypes"
    assert _rpc(beez_table, "GET", "/api/automations/actions") == "ListActionTypes"
    assert _rpc(beez_table, "GET", "/api/automations/events") == "ListEvents"
    assert _rpc(beez_table, "GET", "/api/automations/scheduled") == "ListScheduled"
    assert _rpc(beez_table, "GET", "/api/automations/a1") == "GetAutomation"
    assert _rpc(beez_table, "GET", "/api/automations/a1/executions/search") == "SearchExecutions"
    assert _rpc(beez_table, "GET", "/api/automations/a1/executions/e1") == "GetExecution"
    assert _rpc(beez_table, "GET", "/api/automations/executions/e1") == "GetExecution"  # additional binding
    assert _rpc(beez_table, "GET", "/api/automations/triggers/webhook/schema") == "GetTriggerTypeSchema"
    assert _rpc(beez_table, "POST", "/api/automations/builder/validate") == "ValidateAutomation"
    assert _rpc(beez_table, "GET", "/api/automations/triggers/categories") == "ListTriggerCategories"
    assert _rpc(beez_table, "POST", "/api/automations/triggers/validate") == "ValidateTrigger"
    assert _rpc(beez_table, "POST", "/api/automations/triggers/test") == "TestTrigger"
    assert _rpc(beez_table, "POST", "/api/automations/conditions/evaluate") == "EvaluateConditions"
    assert _rpc(beez_table, "POST", "/api/automations/events/publish") == "PublishEvent"
    assert _rpc(beez_table, "PUT", "/api/automations/a1") == "UpdateAutomation"
    assert _rpc(beez_table, "DELETE", "/api/automations/a1") == "DeleteAutomation"


def test_matching_is_independent_of_service_order() -> None:
    services = load_service_descriptors()
    forward, backward = build_routes(services), build_routes(list(reversed(services)))
    assert [r.operation_id for r in forward.routes] == [r.operation_id for r in backward.routes]


def test_additional_bindings_are_routes_with_numbered_operation_ids(echo_table: RouteTable) -> None:
    found = echo_table.match("GET", "/v1/rooms/kitchen/shelves/3/things/t1")
    assert found is not None
    assert found.route.method.name == "GetThing"
    assert found.route.operation_id == "EchoService_GetThing2"
    assert dict(found.path_params) == {"location.room": "kitchen", "location.shelf": "3", "id": "t1"}


def test_verb_routes_match_only_with_their_verb(echo_table: RouteTable) -> None:
    found = echo_table.match("POST", "/v1/things/t1:fail")
    assert found is not None
    assert found.route.method.name == "FailThing"
    assert dict(found.path_params) == {"id": "t1"}
    assert echo_table.match("POST", "/v1/things/t1") is None


def test_variables_are_percent_decoded(echo_table: RouteTable) -> None:
    found = echo_table.match("GET", "/v1/things/a%20b%2Fc")
    assert found is not None
    assert dict(found.path_params) == {"id": "a b/c"}


def test_multi_segment_variables_capture_slashes(echo_table: RouteTable) -> None:
    found = echo_table.match("GET", "/v1/shelves/s1/books/b/2")
    assert found is not None
    assert found.route.method.name == "GetByName"
    assert dict(found.path_params) == {"name": "shelves/s1/books/b/2"}
    assert echo_table.match("GET", "/v1/shelves/s1/novels/b") is None


def test_a_trailing_slash_is_ignored(echo_table: RouteTable) -> None:
    assert _rpc(echo_table, "GET", "/v1/things/") == "ListThings"


def test_empty_segments_never_bind_a_variable(echo_table: RouteTable) -> None:
    assert echo_table.match("GET", "/v1/things//parts/p1") is None


def test_methods_allowed_on_a_path_are_listed(echo_table: RouteTable) -> None:
    assert echo_table.allowed_methods("/v1/things/t1") == ["DELETE", "GET", "PATCH", "PUT"]
    assert echo_table.allowed_methods("/nowhere") == []


def test_streaming_and_unannotated_methods_get_no_route(echo_table: RouteTable) -> None:
    names = {r.method.name for r in echo_table.routes}
    assert "WatchThings" not in names
    assert "Internal" not in names
    assert echo_table.match("GET", "/v1/things:watch") is None


def test_custom_http_methods_are_routed(echo_table: RouteTable) -> None:
    assert _rpc(echo_table, "REPORT", "/v1/things:report") == "ReportThings"


@pytest.mark.parametrize(
    ("template", "segments", "verb"),
    [
        ("/v1/things", ("v1", "things"), ""),
        ("/v1/things/{id}:cancel", ("v1", "things", "*"), "cancel"),
        ("/v1/{name=projects/*/locations/*}", ("v1", "projects", "*", "locations", "*"), ""),
        ("/v1/{name=files/**}", ("v1", "files", "**"), ""),
        ("/v1/{thing.id}", ("v1", "*"), ""),
    ],
)
def test_templates_parse(template: str, segments: tuple[str, ...], verb: str) -> None:
    parsed = PathTemplate.parse(template)
    wildcards = {SegmentKind.WILDCARD: "*", SegmentKind.DOUBLE_WILDCARD: "**"}
    assert tuple(wildcards.get(s.kind, s.literal) for s in parsed.segments) == segments
    assert parsed.verb == verb


def test_openapi_paths_name_each_variable_once() -> None:
    parsed = PathTemplate.parse("/v1/{name=projects/*/locations/*}/items/{item.id}:run")
    assert parsed.openapi_path() == "/v1/{name}/items/{item.id}:run"


@pytest.mark.parametrize(
    "template",
    [
        "v1/things",
        "/v1/{id",
        "/v1/id}",
        "/v1/{a{b}}",
        "/v1/**/x",
        "/v1/{id}x",
        "/v1/{9bad}",
        "/v1//x",
        "/v1/{id}/{id}",
        "/v1/things:",
    ],
)
def test_malformed_templates_are_refused(template: str) -> None:
    with pytest.raises(RouteError):
        PathTemplate.parse(template)


def test_a_path_variable_must_name_a_scalar_field() -> None:
    with pytest.raises(RouteError, match="'missing' is not a field"):
        build_routes([_service({"Get": http_pb2.HttpRule(get="/x/{missing}")})])


def test_a_body_must_name_a_top_level_field() -> None:
    with pytest.raises(RouteError, match="body 'nope'"):
        build_routes([_service({"Create": http_pb2.HttpRule(post="/x", body="nope")})])


def test_routes_that_cannot_be_told_apart_are_refused() -> None:
    rules = {"A": http_pb2.HttpRule(get="/x/{id}"), "B": http_pb2.HttpRule(get="/x/{name}")}
    with pytest.raises(RouteError, match="cannot be told apart"):
        build_routes([_service(rules)])


def test_same_path_with_different_methods_is_fine() -> None:
    rules = {"Get": http_pb2.HttpRule(get="/x/{id}"), "Delete": http_pb2.HttpRule(delete="/x/{id}")}
    table = build_routes([_service(rules)])
    assert _rpc(table, "DELETE", "/x/1") == "Delete"
