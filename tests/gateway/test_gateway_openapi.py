"""The OpenAPI document served at /openapi.json, for the test contract and the real Beez contracts."""

from __future__ import annotations

from typing import Any

import grpc

from beez.api.http_rules import http_rule
from beez.gateway import create_app
from beez.gateway.app import OPENAPI
from beez.gateway.authn import LocalHeaders
from beez.gateway.contracts import load_service_descriptors
from beez.gateway.openapi import build_openapi
from beez.gateway.routes import build_routes
from tests.gateway.gateway_echo import SERVICE
from tests.gateway.gateway_support import Gateway


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for item in node for ref in _refs(item)]
    return []


def _resolve(document: dict[str, Any], ref: str) -> Any:
    node: Any = document
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def _operations(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {op["operationId"]: op for item in document["paths"].values() for op in item.values()}


async def test_openapi_lists_every_annotated_rpc(gw: Gateway) -> None:
    response = await gw.http.get("/openapi.json")
    assert response.status == 200
    document = await response.json()
    assert document["openapi"].startswith("3.0")
    operations = _operations(document)
    annotated = {m.name for m in SERVICE.methods if http_rule(m) is not None and not m.server_streaming} - {
        "ReportThings"
    }  # a custom HTTP method has no place in OpenAPI 3.0
    assert {op.split("_", 1)[1].rstrip("2") for op in operations} == annotated
    assert "EchoService_GetThing2" in operations  # the additional binding
    assert all(op["tags"] == ["EchoService"] for op in operations.values())
    assert set(document["paths"]["/v1/things/{id}"]) == {"get", "put", "delete"}
    assert "/v1/things/{thing.id}" in document["paths"]
    assert "/v1/things/{id}:fail" in document["paths"]


async def test_openapi_parameters_follow_the_binding(gw: Gateway) -> None:
    document = await (await gw.http.get("/openapi.json")).json()
    get_thing = _operations(document)["EchoService_GetThing"]
    params = {(p.get("in"), p.get("name")): p for p in get_thing["parameters"] if "name" in p}
    assert params[("path", "id")]["required"] is True
    assert params[("query", "filter.minCount")]["schema"] == {"type": "integer", "format": "int32"}
    assert params[("query", "since")]["schema"] == {"type": "string", "format": "date-time"}
    assert params[("query", "big")]["schema"] == {"type": "string", "format": "int64"}
    assert params[("query", "tags")]["schema"] == {"type": "array", "items": {"type": "string"}}
    assert ("query", "id") not in params
    assert {"$ref": "#/components/parameters/OrgId"} in get_thing["parameters"]
    assert document["components"]["parameters"]["OrgId"]["required"] is True

    update = _operations(document)["EchoService_UpdateThing"]
    assert update["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/beez.testing.v1.Thing"
    }
    update_query = {p["name"] for p in update["parameters"] if p.get("in") == "query"}
    assert update_query == {"allowMissing", "updateMask"}
    create = _operations(document)["EchoService_CreateThing"]
    assert not [p for p in create["parameters"] if p.get("in") == "query"]


async def test_openapi_schemas_use_the_proto3_json_mapping(gw: Gateway) -> None:
    document = await (await gw.http.get("/openapi.json")).json()
    schemas = document["components"]["schemas"]
    thing = schemas["beez.testing.v1.Thing"]["properties"]
    assert thing["displayName"] == {"type": "string"}
    assert thing["count"] == {"type": "string", "format": "int64"}
    assert thing["color"] == {"$ref": "#/components/schemas/beez.testing.v1.Color"}
    assert thing["labels"] == {"type": "object", "additionalProperties": {"type": "string"}}
    assert thing["attributes"] == {"type": "object", "additionalProperties": True}
    assert thing["createTime"] == {"type": "string", "format": "date-time"}
    assert thing["priority"] == {"type": "integer", "format": "int32", "nullable": True}
    assert thing["ttl"]["type"] == "string"
    assert schemas["beez.testing.v1.Color"] == {
        "type": "string",
        "enum": ["COLOR_UNSPECIFIED", "COLOR_RED", "COLOR_GREEN"],
    }
    list_things = _operations(document)["EchoService_ListThings"]
    assert list_things["responses"]["200"]["content"]["application/json"]["schema"] == {
        "type": "array",
        "items": {"$ref": "#/components/schemas/beez.testing.v1.Thing"},
    }
    assert list_things["responses"]["default"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/google.rpc.Status"
    }
    for ref in _refs(document):
        assert _resolve(document, ref), ref


async def test_openapi_requires_no_property_since_answers_leave_unset_fields_out(gw: Gateway) -> None:
    document = await (await gw.http.get("/openapi.json")).json()
    schemas = document["components"]["schemas"]
    assert not [name for name, schema in schemas.items() if "required" in schema]
    echo = schemas["beez.testing.v1.EchoResponse"]["properties"]
    # A field with presence (`optional`) is described like any other of its type.
    assert echo["presentZero"] == echo["unsetZero"] == {"type": "integer", "format": "int32"}


def test_the_beez_contracts_produce_a_complete_document() -> None:
    document = build_openapi(build_routes(load_service_descriptors()), local_mode=True)
    paths = document["paths"]
    assert set(paths["/api/automations/{id}"]) == {"get", "put", "delete"}
    assert set(paths["/api/automations/events/publish"]) == {"post"}
    assert paths["/api/automations/{id}"]["get"]["operationId"] == "AutomationService_GetAutomation"
    assert "/api/automations/executions/{execution_id}" in paths
    assert "/api/automations/{automation_id}/executions/search" in paths
    assert set(paths["/api/automations/dead-letters:redrive"]) == {"post"}
    assert set(paths["/api/automations/dead-letters/{id}"]) == {"get"}
    assert set(paths["/api/automations/hooks/{id}"]) == {"get", "delete"}
    assert set(paths["/api/automations/connections"]) == {"get", "post"}
    assert set(paths["/api/automations/connections/{id}"]) == {"get", "delete"}
    assert paths["/api/automations/templates"]["get"]["operationId"] == "TemplateService_ListTemplates"
    assert set(paths["/api/automations/templates/{id}/customize"]) == {"post"}
    assert set(paths["/api/automations/{id}/save-as-template"]) == {"post"}
    assert set(paths["/api/automations/from-template/{id}"]) == {"post"}
    tags = {op["tags"][0] for item in paths.values() for op in item.values()}
    services = {
        "AutomationService",
        "CatalogService",
        "ExecutionService",
        "EventService",
        "HookService",
        "ContactService",
        "AnalyticsService",
        "DeadLetterService",
        "ConnectionService",
        "ActionService",
        "TemplateService",
    }
    assert tags == services
    search = paths["/api/automations/{automation_id}/executions/search"]["get"]
    statuses = next(p for p in search["parameters"] if p.get("name") == "statuses")
    enum_ref = {"$ref": "#/components/schemas/beez.api.executor.v1.ExecutionStatus"}
    assert statuses["schema"]["items"] == enum_ref
    for ref in _refs(document):
        assert _resolve(document, ref), ref
    ids = [op["operationId"] for item in paths.values() for op in item.values()]
    assert len(ids) == len(set(ids))


def test_without_local_mode_the_document_asks_for_a_bearer_token() -> None:
    document = build_openapi(build_routes([SERVICE]), local_mode=False)
    assert document["security"] == [{"bearerAuth": []}]
    assert "parameters" not in document["components"]


async def test_the_served_document_describes_the_inbound_webhook_route() -> None:
    channel = grpc.aio.insecure_channel("127.0.0.1:1")
    try:
        app = create_app(lambda _: channel, load_service_descriptors(), auth=LocalHeaders())
        inbound = app[OPENAPI]["paths"]["/hooks/{token}"]["post"]
    finally:
        await channel.close()
    assert inbound["security"] == [] and set(inbound["responses"]) >= {"202", "401", "404", "413", "429"}
    for ref in _refs(app[OPENAPI]):
        assert _resolve(app[OPENAPI], ref), ref
