"""REST -> gRPC request mapping and gRPC -> JSON answers, over real HTTP to a real backend."""

from __future__ import annotations

from typing import Any

import pytest
from google.protobuf import timestamp_pb2

import beez.testing.v1.echo_pb2 as echo_pb2
from tests.gateway.gateway_support import IDENTITY, Gateway


async def _json(gw: Gateway, method: str, path: str, status: int = 200, **kwargs: Any) -> Any:
    headers = {**IDENTITY, **kwargs.pop("headers", {})}
    response = await gw.http.request(method, path, headers=headers, **kwargs)
    body = await response.json()
    assert response.status == status, body
    assert response.content_type == "application/json"
    return body


async def test_path_and_query_params_are_mapped_into_the_request(gw: Gateway) -> None:
    query = [
        ("query", "hello world"),
        ("limit", "25"),
        ("verbose", "true"),
        ("color", "COLOR_GREEN"),
        ("tags", "a"),
        ("tags", "b"),
        ("filter.name", "n"),
        ("filter.minCount", "-3"),
        ("since", "2024-01-02T03:04:05.5+01:00"),
        ("big", "9007199254740993"),
        ("colors", "COLOR_RED"),
        ("colors", "2"),
        ("ratio", "0.25"),
        ("pageSize", "7"),
        ("archived", "false"),
        ("cursor", "AQID"),
        ("byName", "x"),
    ]
    answer = await _json(gw, "GET", "/v1/things/t%2F1", params=query)
    assert answer["rpc"] == "GetThing"
    [call] = gw.calls
    expected = echo_pb2.GetThingRequest(
        id="t/1",
        query="hello world",
        limit=25,
        verbose=True,
        color=echo_pb2.COLOR_GREEN,
        tags=["a", "b"],
        filter=echo_pb2.Filter(name="n", min_count=-3),
        since=timestamp_pb2.Timestamp(seconds=1704161045, nanos=500_000_000),
        big=9007199254740993,
        colors=[echo_pb2.COLOR_RED, echo_pb2.COLOR_GREEN],
        ratio=0.25,
        page_size=7,
        cursor=b"\x01\x02\x03",
        by_name="x",
    )
    expected.archived.value = False
    assert call.request == expected


async def test_query_names_are_accepted_in_snake_case_too(gw: Gateway) -> None:
    await _json(gw, "GET", "/v1/things/t1", params=[("filter.min_count", "4"), ("page_size", "2")])
    assert gw.calls[0].request.filter.min_count == 4
    assert gw.calls[0].request.page_size == 2


async def test_nested_path_params_are_converted_to_their_field_type(gw: Gateway) -> None:
    await _json(gw, "GET", "/v1/rooms/kitchen/shelves/3/things/t1")
    request = gw.calls[0].request
    assert (request.location.room, request.location.shelf, request.id) == ("kitchen", 3, "t1")


async def test_post_with_body_star_takes_the_whole_request_from_json(gw: Gateway) -> None:
    body = {
        "thing": {
            "displayName": "Lamp",
            "count": "12",
            "color": "COLOR_RED",
            "tags": ["x"],
            "createTime": "2025-05-01T00:00:00Z",
            "labels": {"room": "kitchen"},
            "attributes": {"watts": 40, "smart": True},
            "ttl": "3.5s",
            "priority": 9,
        },
        "validate_only": True,
    }
    await _json(gw, "POST", "/v1/things", json=body)
    request = gw.calls[0].request
    assert request.validate_only is True
    assert request.thing.display_name == "Lamp"
    assert request.thing.count == 12
    assert request.thing.labels == {"room": "kitchen"}
    assert request.thing.attributes["watts"] == 40
    assert request.thing.ttl.seconds == 3
    assert request.thing.priority.value == 9


async def test_put_maps_the_body_to_the_named_field_and_the_rest_from_path_and_query(gw: Gateway) -> None:
    await _json(
        gw,
        "PUT",
        "/v1/things/t9",
        json={"displayName": "Desk"},
        params={"allowMissing": "true", "updateMask": "displayName,tags"},
    )
    request = gw.calls[0].request
    assert request.id == "t9"
    assert request.thing.display_name == "Desk"
    assert request.allow_missing is True
    assert list(request.update_mask.paths) == ["display_name", "tags"]


async def test_patch_path_param_inside_the_body_field_wins_over_the_body(gw: Gateway) -> None:
    await _json(gw, "PATCH", "/v1/things/from-path", json={"id": "from-body", "displayName": "Chair"})
    request = gw.calls[0].request
    assert request.thing.id == "from-path"
    assert request.thing.display_name == "Chair"


async def test_delete_answers_an_empty_object(gw: Gateway) -> None:
    assert await _json(gw, "DELETE", "/v1/things/t1", params={"force": "true"}) == {}
    assert gw.calls[0].request == echo_pb2.DeleteThingRequest(id="t1", force=True)


async def test_custom_verb_and_custom_method_routes_are_served(gw: Gateway) -> None:
    assert (await _json(gw, "REPORT", "/v1/things:report", params={"kind": "daily"}))["rpc"] == "ReportThings"
    assert gw.calls[0].request.kind == "daily"


async def test_multi_segment_variable_keeps_its_slashes(gw: Gateway) -> None:
    await _json(gw, "GET", "/v1/shelves/s1/books/b/2")
    assert gw.calls[0].request.name == "shelves/s1/books/b/2"


async def test_literal_route_wins_over_variable(gw: Gateway) -> None:
    assert (await _json(gw, "GET", "/v1/things/special"))["rpc"] == "GetSpecialThing"
    search = await _json(gw, "GET", "/v1/things/t1/parts/search", params={"q": "bolt"})
    assert search["rpc"] == "SearchParts"
    assert (await _json(gw, "GET", "/v1/things/t1/parts/p1"))["rpc"] == "GetPart"


async def test_response_is_proto3_json_with_camel_case_names(gw: Gateway) -> None:
    answer = await _json(gw, "GET", "/v1/things/t1")
    assert answer["orgId"] == "org-1"
    assert answer["bigNumber"] == "9007199254740993"  # int64 as a string, per proto3 JSON


async def test_response_leaves_out_unset_fields_and_keeps_set_fields_with_presence(gw: Gateway) -> None:
    answer = await _json(gw, "GET", "/v1/things/t1")
    # Unset: an empty string, a zero without presence, an empty list.
    assert not {"traceparent", "unsetZero", "unsetList"} & answer.keys()
    assert answer["presentZero"] == 0  # `optional`: set to its default, and shown


async def test_response_body_answers_just_that_field(gw: Gateway) -> None:
    answer = await _json(gw, "GET", "/v1/things", params={"pageSize": "2"})
    assert [thing["id"] for thing in answer] == ["t0", "t1"]
    assert await _json(gw, "GET", "/v1/things") == []


async def test_unknown_body_field_is_400(gw: Gateway) -> None:
    answer = await _json(gw, "POST", "/v1/things", status=400, json={"thing": {"bogus": 1}})
    assert answer["code"] == 3
    assert "bogus" in answer["message"]
    [detail] = answer["details"]
    assert detail["@type"] == "type.googleapis.com/google.rpc.BadRequest"
    assert detail["fieldViolations"] == [{"field": "thing.bogus", "description": "unknown field"}]
    assert gw.calls == []


async def test_unknown_field_in_a_named_body_field_is_400(gw: Gateway) -> None:
    answer = await _json(gw, "PUT", "/v1/things/t1", status=400, json={"nope": 1})
    assert answer["details"][0]["fieldViolations"][0]["field"] == "thing.nope"
    assert gw.calls == []


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (b'{"thing": {"count": "many"}}', "count"),
        (b'{"thing": {"color": "PURPLE"}}', "PURPLE"),
    ],
)
async def test_malformed_bodies_are_400(gw: Gateway, body: bytes, fragment: str) -> None:
    answer = await _json(gw, "POST", "/v1/things", status=400, data=body)
    assert answer["code"] == 3
    assert fragment in answer["message"]
    assert gw.calls == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"limit": "ten"}, "limit"),
        ({"limit": "99999999999"}, "limit"),
        ({"pageSize": "-1"}, "pageSize"),
        ({"verbose": "yes"}, "verbose"),
        ({"color": "PURPLE"}, "color"),
        ({"since": "yesterday"}, "since"),
        ({"ratio": "half"}, "ratio"),
        ({"nope": "1"}, "nope"),
        ({"filter": "x"}, "filter"),
        ({"id": "other"}, "id"),
        ({"byName": "a", "byTag": "b"}, "byTag"),
    ],
)
async def test_bad_query_params_are_400_naming_the_field(
    gw: Gateway, query: dict[str, str], field: str
) -> None:
    answer = await _json(gw, "GET", "/v1/things/t1", status=400, params=query)
    assert answer["code"] == 3
    assert answer["details"][0]["fieldViolations"][0]["field"] == field
    assert gw.calls == []


async def test_a_singular_field_given_twice_is_400(gw: Gateway) -> None:
    answer = await _json(gw, "GET", "/v1/things/t1", status=400, params=[("limit", "1"), ("limit", "2")])
    assert "not repeated" in answer["message"]


async def test_bad_path_params_are_400(gw: Gateway) -> None:
    answer = await _json(gw, "GET", "/v1/rooms/r/shelves/top/things/t1", status=400)
    assert answer["details"][0]["fieldViolations"][0]["field"] == "location.shelf"


async def test_query_params_are_refused_when_the_body_is_the_whole_request(gw: Gateway) -> None:
    await _json(gw, "POST", "/v1/things", status=400, params={"validateOnly": "true"}, json={})


async def test_a_body_on_a_route_without_one_is_refused(gw: Gateway) -> None:
    answer = await _json(gw, "GET", "/v1/things/t1", status=400, data=b'{"query": "x"}')
    assert "takes no request body" in answer["message"]


async def test_unknown_paths_are_404_and_wrong_methods_405(gw: Gateway) -> None:
    missing = await _json(gw, "GET", "/v2/nothing", status=404)
    assert missing["code"] == 5
    response = await gw.http.post("/v1/things/t1", headers=IDENTITY)
    assert response.status == 405
    assert response.headers["Allow"] == "DELETE, GET, PATCH, PUT"
    assert (await response.json())["code"] == 12


async def test_an_oversized_body_is_413(gw: Gateway) -> None:
    too_big = b'{"thing": {"displayName": "' + b"x" * (1024 * 1024) + b'"}}'
    answer = await _json(gw, "POST", "/v1/things", status=413, data=too_big)
    assert answer["code"] == 8
    assert gw.calls == []
