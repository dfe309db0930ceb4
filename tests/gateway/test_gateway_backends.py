"""The production gateway in front of the real automation service (PostgreSQL, NATS, gRPC).

Tokens for organization A cannot see organization B's automations (404), a viewer cannot delete
(403), an editor can, and ``created_by`` is the token's user whatever the body says.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from beez.gateway import create_app
from beez.gateway.auth_config import authenticator_from_settings
from beez.gateway.contracts import load_service_descriptors
from beez.kit.embedded import free_port
from tests.gateway.gateway_support import HttpClient
from tests.gateway.jwt_support import JwksServer, SigningKey, bearer, production_settings
from tests.support.inproc import InProcService, running_service
from tests.support.servers import create_database, drop_database, unique_prefix

WORKFLOW = json.loads((Path(__file__).resolve().parents[2] / "examples" / "onboarding.json").read_text())
API = "/api/automations"


@dataclass
class Stack:
    http: HttpClient
    key: SigningKey

    def as_(self, org: str, *roles: str, user: str = "u_alice") -> dict[str, str]:
        return bearer(self.key.token(org_id=org, sub=user, roles=list(roles)))


@pytest.fixture(scope="module")
async def automation(admin_url: str, nats_url: str) -> AsyncIterator[InProcService]:
    database_url = create_database(admin_url)
    try:
        async with running_service(
            "automation", database_url, nats_url, unique_prefix(), analytics_addr=f"127.0.0.1:{free_port()}"
        ) as svc:
            yield svc
    finally:
        drop_database(admin_url, database_url)


@pytest.fixture(scope="module")
async def stack(automation: InProcService) -> AsyncIterator[Stack]:
    key = SigningKey.rsa()
    jwks = JwksServer([key])
    await jwks.start()
    auth = authenticator_from_settings(production_settings(jwt_jwks_url=jwks.url))
    app = create_app(lambda _: automation.channel, load_service_descriptors(), auth=auth)
    async with TestClient(TestServer(app)) as client:
        yield Stack(client, key)
    await jwks.stop()


async def create(stack: Stack, org: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    response = await stack.http.post(API, json=body or WORKFLOW, headers=stack.as_(org, "editor"))
    assert response.status == 200, await response.text()
    automation: dict[str, Any] = (await response.json())["automation"]
    return automation


async def test_a_token_for_org_a_cannot_read_org_b(stack: Stack) -> None:
    made = await create(stack, "org-b")
    response = await stack.http.get(f"{API}/{made['id']}", headers=stack.as_("org-a", "admin"))
    assert response.status == 404
    own = await stack.http.get(f"{API}/{made['id']}", headers=stack.as_("org-b", "viewer"))
    assert own.status == 200


async def test_a_viewer_cannot_delete_and_an_editor_can(stack: Stack) -> None:
    made = await create(stack, "org-a")
    refused = await stack.http.delete(f"{API}/{made['id']}", headers=stack.as_("org-a", "viewer"))
    assert refused.status == 403
    assert (await refused.json())["message"] == "DeleteAutomation needs the editor role"
    still = await stack.http.get(f"{API}/{made['id']}", headers=stack.as_("org-a", "viewer"))
    assert still.status == 200
    deleted = await stack.http.delete(f"{API}/{made['id']}", headers=stack.as_("org-a", "editor"))
    assert deleted.status == 200
    gone = await stack.http.get(f"{API}/{made['id']}", headers=stack.as_("org-a", "viewer"))
    assert gone.status == 404


async def test_a_viewer_cannot_create(stack: Stack) -> None:
    response = await stack.http.post(API, json=WORKFLOW, headers=stack.as_("org-a", "viewer"))
    assert response.status == 403


async def test_created_by_is_the_tokens_user(stack: Stack) -> None:
    made = await create(stack, "org-c")
    assert made["createdBy"] == "u_alice"
    forged = await stack.http.post(
        API, json={**WORKFLOW, "createdBy": "mallory"}, headers=stack.as_("org-c", "editor", user="u_bob")
    )
    assert forged.status == 400  # the request has no such field: a client cannot name the creator
    header_spoof = await stack.http.post(
        API, json=WORKFLOW, headers={**stack.as_("org-c", "editor", user="u_bob"), "X-User-Id": "mallory"}
    )
    assert (await header_spoof.json())["automation"]["createdBy"] == "u_bob"
