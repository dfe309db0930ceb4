"""Backend failures as HTTP errors with google.rpc.Status JSON bodies."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2

from beez.gateway import create_app
from beez.gateway.authn import LocalHeaders
from beez.gateway.errors import http_status, status_json
from tests.gateway.gateway_echo import ECHO_PERMISSIONS, SERVICE
from tests.gateway.gateway_support import IDENTITY, Gateway, HttpClient, free_port


async def _fail(gw: Gateway, mode: str) -> tuple[int, dict[str, object]]:
    response = await gw.http.post("/v1/things/t1:fail", json={"mode": mode}, headers=IDENTITY)
    return response.status, await response.json()


async def test_invalid_argument_maps_to_400_with_field_violations(gw: Gateway) -> None:
    status, body = await _fail(gw, "invalid")
    assert status == 400
    assert body == {
        "code": 3,
        "message": "thing is invalid",
        "details": [
            {
                "@type": "type.googleapis.com/google.rpc.BadRequest",
                "fieldViolations": [{"field": "thing.display_name", "description": "must not be empty"}],
            }
        ],
    }


async def test_not_found_maps_to_404(gw: Gateway) -> None:
    assert await _fail(gw, "not_found") == (404, {"code": 5, "message": "thing t1 not found", "details": []})


async def test_resource_exhausted_maps_to_429(gw: Gateway) -> None:
    assert (await _fail(gw, "exhausted"))[0] == 429


async def test_an_uncaught_backend_exception_is_500_without_its_text(gw: Gateway) -> None:
    status, body = await _fail(gw, "crash")
    assert status == 500
    assert body == {"code": 2, "message": "internal error", "details": []}


async def test_a_backend_slower_than_the_deadline_is_504(gw: Gateway) -> None:
    status, body = await _fail(gw, "slow")  # the test gateway's deadline is 0.5 s
    assert status == 504
    assert body["code"] == 4


@pytest_asyncio.fixture(loop_scope="session")
async def gateway_without_backend() -> AsyncIterator[HttpClient]:
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{free_port()}")
    app = create_app(
        {SERVICE.full_name: channel},
        [SERVICE],
        auth=LocalHeaders(),
        permissions=ECHO_PERMISSIONS,
        request_timeout_s=2,
        readiness_timeout_s=0.5,
    )
    async with TestClient(TestServer(app)) as client:
        yield client
    await channel.close()


async def test_an_unreachable_backend_is_503(gateway_without_backend: HttpClient) -> None:
    response = await gateway_without_backend.get("/v1/things/t1", headers=IDENTITY)
    assert response.status == 503
    body = await response.json()
    assert body["code"] == 14
    assert "127.0.0.1" not in body["message"]  # transport errors don't leak internal addresses


async def test_readiness_is_503_naming_the_unreachable_service(gateway_without_backend: HttpClient) -> None:
    response = await gateway_without_backend.get("/readyz")
    assert response.status == 503
    assert await response.json() == {"status": "unavailable", "services": {SERVICE.full_name: "UNAVAILABLE"}}


@pytest.mark.parametrize(
    ("code", "status"),
    [
        (grpc.StatusCode.INVALID_ARGUMENT, 400),
        (grpc.StatusCode.FAILED_PRECONDITION, 400),
        (grpc.StatusCode.OUT_OF_RANGE, 400),
        (grpc.StatusCode.UNAUTHENTICATED, 401),
        (grpc.StatusCode.PERMISSION_DENIED, 403),
        (grpc.StatusCode.NOT_FOUND, 404),
        (grpc.StatusCode.ALREADY_EXISTS, 409),
        (grpc.StatusCode.ABORTED, 409),
        (grpc.StatusCode.RESOURCE_EXHAUSTED, 429),
        (grpc.StatusCode.CANCELLED, 499),
        (grpc.StatusCode.UNIMPLEMENTED, 501),
        (grpc.StatusCode.UNAVAILABLE, 503),
        (grpc.StatusCode.DEADLINE_EXCEEDED, 504),
        (grpc.StatusCode.INTERNAL, 500),
        (grpc.StatusCode.UNKNOWN, 500),
        (grpc.StatusCode.DATA_LOSS, 500),
    ],
)
def test_grpc_codes_map_to_http_statuses_like_grpc_gateway(code: grpc.StatusCode, status: int) -> None:
    assert http_status(code) == status


def test_details_of_unknown_types_are_passed_on_undecoded() -> None:
    known = any_pb2.Any()
    known.Pack(error_details_pb2.ErrorInfo(reason="QUOTA", domain="beez"))
    unknown = any_pb2.Any(type_url="type.googleapis.com/acme.Secret", value=b"\x08\x01")
    body = status_json(status_pb2.Status(code=8, message="m", details=[known, unknown]))
    assert body["details"] == [
        {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "QUOTA", "domain": "beez"},
        {"@type": "type.googleapis.com/acme.Secret", "value": "CAE="},
    ]
