"""The CLI's REST requests are the exact inverse of the gateway's transcoding.

Each request is turned into HTTP by the CLI (:func:`beez.cli.rest.http_call`), encoded by httpx
as the CLI sends it, then matched and rebuilt by the gateway's own route table and transcoder;
the message the gateway rebuilds must equal the one the CLI started from. The test contract
(``tests/gateway``'s EchoService) covers every binding shape: path variables (nested and
multi-segment), ``body: "*"``, a body field, no body, custom methods and verbs, and
``response_body``; the real contracts cover choosing an additional binding.
"""

from __future__ import annotations

import sys
from pathlib import Path

import httpx
import pytest
import yarl
from google.protobuf import duration_pb2, field_mask_pb2, struct_pb2, timestamp_pb2, wrappers_pb2
from google.protobuf.message import Message

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "gateway" / "gen"))

import beez.testing.v1.echo_pb2 as echo
from beez.api.automation.v1 import automation_pb2
from beez.api.executor.v1 import executor_pb2
from beez.api.messages.v1 import events_pb2
from beez.api.trigger.v1 import trigger_pb2
from beez.cli.rest import UnboundPath, find_method, http_call, read_response
from beez.gateway.contracts import load_service_descriptors
from beez.gateway.routes import RouteTable, build_routes
from beez.gateway.transcode import build_request, render_response

ECHO = "beez.testing.v1.EchoService"
ECHO_ROUTES = build_routes([echo.DESCRIPTOR.services_by_name["EchoService"]])
BEEZ_ROUTES = build_routes(load_service_descriptors())


def thing() -> echo.Thing:
    return echo.Thing(
        id="t/1",
        display_name="Ünïcode & spaces",
        count=2**40,
        color=echo.COLOR_GREEN,
        tags=["a", "b"],
        create_time=timestamp_pb2.Timestamp(seconds=1_700_000_000, nanos=5000),
        labels={"k": "v"},
        attributes=struct_pb2.Struct(fields={"x": struct_pb2.Value(number_value=1.5)}),
        ttl=duration_pb2.Duration(seconds=90),
        priority=wrappers_pb2.Int32Value(value=0),
    )


CASES: list[tuple[str, Message, str]] = [
    (
        "GetThing",
        echo.GetThingRequest(
            id="a b/c?d",
            query="x+y & z=1",
            limit=-3,
            verbose=True,
            color=echo.COLOR_RED,
            tags=["p", "q q"],
            filter=echo.Filter(name="n", min_count=2),
            since=timestamp_pb2.Timestamp(seconds=1_700_000_000),
            big=-(2**62),
            colors=[echo.COLOR_RED, echo.COLOR_GREEN],
            location=echo.Location(room="r 1", shelf=4),
            ratio=0.25,
            page_size=7,
            archived=wrappers_pb2.BoolValue(value=False),
            cursor=b"\xff\xfe+/\x00",
            by_tag="t",
        ),
        "GET /v1/things/{id}",
    ),
    (
        "SearchParts",
        echo.SearchPartsRequest(thing_id="t1", q="bolts"),
        "GET /v1/things/{thing_id}/parts/search",
    ),
    ("CreateThing", echo.CreateThingRequest(thing=thing(), validate_only=True), "POST /v1/things"),
    (
        "UpdateThing",
        echo.UpdateThingRequest(
            id="t1",
            thing=thing(),
            allow_missing=True,
            update_mask=field_mask_pb2.FieldMask(paths=["count", "tags"]),
        ),
        "PUT /v1/things/{id}",
    ),
    ("PatchThing", echo.PatchThingRequest(thing=thing()), "PATCH /v1/things/{thing.id}"),
    ("DeleteThing", echo.DeleteThingRequest(id="t1", force=True), "DELETE /v1/things/{id}"),
    ("FailThing", echo.FailThingRequest(id="t1", mode="invalid"), "POST /v1/things/{id}:fail"),
    ("ReportThings", echo.ReportThingsRequest(kind="weekly"), "REPORT /v1/things:report"),
    ("GetByName", echo.GetByNameRequest(name="shelves/s 1/books/b/2"), "GET /v1/{name=shelves/*/books/**}"),
]


def through_the_gateway(table: RouteTable, full_method: str, request: Message) -> tuple[str, Message]:
    """The route the gateway picks for the CLI's HTTP request, and the request message it rebuilds."""
    call = http_call(find_method(full_method), request)
    sent = httpx.Request(call.method, "http://gateway" + call.path, params=call.query, json=call.body)
    raw = yarl.URL(str(sent.url), encoded=True)
    match = table.match(sent.method, raw.raw_path)
    assert match is not None, f"no route for {sent.method} {raw.raw_path}"
    route = match.route
    rebuilt = build_request(route, type(request), match.path_params, raw.query.items(), sent.read())
    return f"{route.http_method} {route.template.source}", rebuilt


@pytest.mark.parametrize(("rpc", "request_", "route"), CASES, ids=[c[0] for c in CASES])
def test_the_gateway_rebuilds_exactly_the_request_the_cli_sent(
    rpc: str, request_: Message, route: str
) -> None:
    assert through_the_gateway(ECHO_ROUTES, f"{ECHO}/{rpc}", request_) == (route, request_)


def test_the_first_binding_whose_path_the_request_fills_is_used() -> None:
    method = "beez.api.executor.v1.ExecutionService/GetExecution"
    by_execution = executor_pb2.GetExecutionRequest(execution_id="exe_1")
    both = executor_pb2.GetExecutionRequest(automation_id="aut_1", execution_id="exe_1")

    assert through_the_gateway(BEEZ_ROUTES, method, by_execution) == (
        "GET /api/automations/executions/{execution_id}",
        by_execution,
    )
    assert through_the_gateway(BEEZ_ROUTES, method, both) == (
        "GET /api/automations/{automation_id}/executions/{execution_id}",
        both,
    )


@pytest.mark.parametrize(
    ("method", "request_"),
    [
        (
            "beez.api.automation.v1.AutomationService/CreateAutomation",
            automation_pb2.CreateAutomationRequest(active=False),
        ),
        (
            "beez.api.automation.v1.AutomationService/ToggleAutomation",
            automation_pb2.ToggleAutomationRequest(id="a", active=True),
        ),
        (
            "beez.api.automation.v1.AutomationService/ResyncAutomations",
            automation_pb2.ResyncAutomationsRequest(),
        ),
        (
            "beez.api.trigger.v1.EventService/PublishEvents",
            trigger_pb2.PublishEventsRequest(events=[events_pb2.Event(id="e", type="t", contact_id="c")]),
        ),
        (
            "beez.api.trigger.v1.EventService/ListEvents",
            trigger_pb2.ListEventsRequest(type="list.joined", page_size=100),
        ),
    ],
)
def test_the_commands_requests_reach_the_gateway_intact(method: str, request_: Message) -> None:
    assert through_the_gateway(BEEZ_ROUTES, method, request_)[1] == request_


def test_a_request_no_binding_can_address_is_refused_naming_the_fields() -> None:
    with pytest.raises(UnboundPath, match=r"^id must be set to call GetThing$"):
        http_call(find_method(f"{ECHO}/GetThing"), echo.GetThingRequest(query="q"))
    with pytest.raises(LookupError, match=r"no google\.api\.http rule"):
        http_call(find_method(f"{ECHO}/Internal"), echo.GetThingRequest(id="t"))


def test_a_response_body_answer_is_read_into_its_field() -> None:
    response = echo.ListThingsResponse(things=[thing(), echo.Thing(id="t2")], next_page_token="ignored")
    call = http_call(find_method(f"{ECHO}/ListThings"), echo.ListThingsRequest(page_size=2))
    [route] = [r for r in ECHO_ROUTES.routes if r.method.name == "ListThings"]
    answered = render_response(route, response, emit_unpopulated=False)

    assert read_response(call, answered, echo.ListThingsResponse) == echo.ListThingsResponse(
        things=response.things
    )
