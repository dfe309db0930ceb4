"""Identity and trace headers: what reaches the backend as metadata, and what is refused first."""

from __future__ import annotations

import pytest

from tests.gateway.gateway_support import IDENTITY, ORG, USER, Gateway


async def test_org_and_user_headers_become_grpc_metadata(gw: Gateway) -> None:
    response = await gw.http.get("/v1/things/t1", headers=IDENTITY)
    assert response.status == 200
    answer = await response.json()
    assert (answer["orgId"], answer["userId"]) == (ORG, USER)
    assert gw.calls[0].metadata["x-org-id"] == ORG
    assert gw.calls[0].metadata["x-user-id"] == USER


async def test_the_user_is_optional(gw: Gateway) -> None:
    response = await gw.http.get("/v1/things/t1", headers={"x-org-id": ORG})
    assert response.status == 200
    assert "x-user-id" not in gw.calls[0].metadata


async def test_missing_org_header_is_refused_before_calling_grpc(gw: Gateway) -> None:
    response = await gw.http.get("/v1/things/t1", headers={"X-User-Id": USER})
    assert response.status == 401
    assert await response.json() == {
        "code": 16,
        "message": "missing organization: set the X-Org-Id header",
        "details": [],
    }
    assert gw.calls == []


@pytest.mark.parametrize("org", ["", "   ", "caf\u00e9"])
async def test_blank_or_unusable_org_headers_are_refused(gw: Gateway, org: str) -> None:
    response = await gw.http.get("/v1/things/t1", headers={"X-Org-Id": org})
    assert response.status == 401
    assert gw.calls == []


async def test_identity_is_checked_before_the_request_is_parsed(gw: Gateway) -> None:
    response = await gw.http.post("/v1/things", data=b"{broken")
    assert response.status == 401


async def test_trace_context_headers_are_forwarded(gw: Gateway) -> None:
    traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    headers = {**IDENTITY, "traceparent": traceparent, "tracestate": "beez=1"}
    answer = await (await gw.http.get("/v1/things/t1", headers=headers)).json()
    assert answer["traceparent"] == traceparent
    assert gw.calls[0].metadata["tracestate"] == "beez=1"


async def test_other_headers_are_not_forwarded(gw: Gateway) -> None:
    await gw.http.get("/v1/things/t1", headers={**IDENTITY, "X-Admin": "yes", "Authorization": "Bearer x"})
    assert "x-admin" not in gw.calls[0].metadata
    assert "authorization" not in gw.calls[0].metadata


async def test_in_local_mode_the_caller_holds_every_role(gw: Gateway) -> None:
    await gw.http.get("/v1/things/t1", headers=IDENTITY)
    assert gw.calls[0].metadata["x-roles"] == "viewer,editor,admin"


async def test_in_local_mode_x_roles_narrows_the_roles(gw: Gateway) -> None:
    response = await gw.http.delete("/v1/things/t1", headers={**IDENTITY, "X-Roles": "viewer"})
    assert response.status == 403
    assert (await response.json())["message"] == "DeleteThing needs the editor role"
    assert gw.calls == []
    response = await gw.http.get("/v1/things/t1", headers={**IDENTITY, "X-Roles": "viewer"})
    assert response.status == 200
    assert gw.calls[0].metadata["x-roles"] == "viewer"


async def test_a_client_cannot_send_its_own_roles_metadata(gw: Gateway) -> None:
    headers = {"X-Org-Id": ORG, "X-Roles": "viewer", "x-roles-bin": "admin"}
    await gw.http.get("/v1/things/t1", headers=headers)
    assert gw.calls[0].metadata["x-roles"] == "viewer"
