"""Inbound webhooks through the real gateway (real HTTP) in front of the real trigger service
(PostgreSQL, NATS, gRPC): ``POST /hooks/{token}`` and the hook RPCs (decision 0036)."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nats
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from cryptography.fernet import Fernet

from beez.gateway import create_app
from beez.gateway.authn import LocalHeaders
from beez.gateway.contracts import load_service_descriptors
from beez.gateway.hooks import loggable_path
from beez.kit.clock import ManualClock
from beez.kit.keyring import KeyRing
from beez.trigger.domain.hooks import signature_header
from tests.support.inproc import InProcService, running_service
from tests.support.servers import create_database, drop_database, unique_prefix
from tests.trigger.conftest import START
from tests.trigger.support import Harness, workflow

API = "/api/automations/hooks"
MAX_BODY = 4096
BURST = 5

HttpClient = TestClient[web.Request, web.Application]


@dataclass
class Stack:
    svc: InProcService
    http: HttpClient
    clock: ManualClock
    ring: KeyRing
    js: Any


@pytest.fixture(scope="module")
async def stack(
    admin_url: str, nats_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Stack]:
    keys = Path(tmp_path_factory.mktemp("hook-keys")) / "keys"
    keys.write_text(f"k1:{Fernet.generate_key().decode()}\n")
    database_url = create_database(admin_url)
    clock = ManualClock(START)
    nc = await nats.connect(nats_url)
    try:
        async with running_service(
            "trigger",
            database_url,
            nats_url,
            unique_prefix(),
            clock=clock,
            hook_keys_file=str(keys),
            hook_rate_per_s=0.5,
            hook_burst=float(BURST),
            hooks_public_url="https://hooks.example.com/",
        ) as svc:
            app = create_app(
                lambda _: svc.channel,
                load_service_descriptors(),
                auth=LocalHeaders(),
                hook_max_body_bytes=MAX_BODY,
            )
            async with TestClient(TestServer(app)) as http:
                yield Stack(svc, http, clock, KeyRing.load(str(keys)), nc.jetstream())
    finally:
        await nc.drain()
        drop_database(admin_url, database_url)


@pytest.fixture
async def org(stack: Stack) -> str:
    return f"org{uuid.uuid4().hex[:10]}"


def as_(org: str, role: str = "admin") -> dict[str, str]:
    return {"X-Org-Id": org, "X-Roles": role}


async def create_hook(stack: Stack, org: str, **body: Any) -> dict[str, Any]:
    response = await stack.http.post(API, json=body, headers=as_(org))
    assert response.status == 200, await response.text()
    created: dict[str, Any] = await response.json()
    return created


def path_of(created: dict[str, Any]) -> str:
    return f"/hooks/{created['credentials']['token']}"


async def deliver(
    stack: Stack, created: dict[str, Any], body: bytes = b'{"ok": true}', /, **headers: str
) -> tuple[int, dict[str, Any], dict[str, str]]:
    data = body
    response = await stack.http.post(
        path_of(created), data=data, headers={"Content-Type": "application/json", **headers}
    )
    return response.status, await response.json(), dict(response.headers)


def signed(stack: Stack, created: dict[str, Any], body: bytes, at: int | None = None) -> dict[str, str]:
    moment = int(stack.clock.now().timestamp()) if at is None else at
    return {"X-Beez-Signature": signature_header(created["credentials"]["secret"], moment, body)}


async def history(stack: Stack, org: str) -> list[dict[str, Any]]:
    response = await stack.http.get("/api/automations/events", headers=as_(org, "viewer"))
    assert response.status == 200, await response.text()
    events: list[dict[str, Any]] = (await response.json()).get("events", [])
    return events


async def test_a_post_publishes_an_event_of_the_hook_type_that_starts_an_automation(
    stack: Stack, org: str
) -> None:
    harness = Harness(stack.svc, stack.js, stack.clock, org=org, other_org=f"x{org}")
    await harness.automation("paid", workflow({"type": "custom_event", "event": "order.paid"}))
    created = await create_hook(
        stack, org, name="shop", eventType="order.paid", contactIdPath="data.customer.id"
    )
    assert created["hook"]["eventType"] == "order.paid"
    assert created["credentials"]["url"] == f"https://hooks.example.com{path_of(created)}"
    assert created["credentials"]["token"].startswith(f"{org}.")
    assert created["credentials"]["secret"].startswith("whsec_")

    body = json.dumps({"data": {"customer": {"id": "c_42"}, "total": 12}}).encode()
    status, answer, _ = await deliver(stack, created, body)
    assert status == 202, answer
    assert answer["hookId"] == created["hook"]["id"] and answer["accepted"] is True

    [record] = await history(stack, org)
    event = record["event"]
    assert event["id"] == answer["eventId"] and event["type"] == "order.paid"
    assert event["contactId"] == "c_42"
    assert event["data"] == {"hook_id": created["hook"]["id"], "payload": json.loads(body)}
    assert len(record["executionIds"]) == 1, record
    [start] = await harness.starts()
    assert start.execution_id == record["executionIds"][0]
    assert start.start.event.type == "order.paid" and start.start.contact_id == "c_42"

    plain = await create_hook(stack, org)
    assert plain["hook"]["eventType"] == "webhook.received"
    form_status, form_answer, _ = await deliver(
        stack, plain, b"a=1&b=two", **{"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert form_status == 202, form_answer
    events = {r["event"]["id"]: r["event"] for r in await history(stack, org)}
    assert events[form_answer["eventId"]]["type"] == "webhook.received"
    assert events[form_answer["eventId"]]["data"]["payload"] == {"a": "1", "b": "two"}
    assert "contactId" not in events[form_answer["eventId"]]


async def test_the_row_keeps_a_hash_of_the_token_and_the_secret_encrypted(stack: Stack, org: str) -> None:
    created = await create_hook(stack, org, requireSignature=True)
    token, secret = created["credentials"]["token"], created["credentials"]["secret"]
    harness = Harness(stack.svc, stack.js, stack.clock, org=org, other_org="-")
    [row] = await harness.sql("SELECT * FROM trigger.hooks WHERE org_id = :org", org=org)
    stored = json.dumps(
        {
            k: (bytes(v).hex() if isinstance(v, (bytes, memoryview)) else str(v))
            for k, v in row._mapping.items()
        }
    )
    assert token not in stored and token.rpartition(".")[2] not in stored
    assert secret not in stored and secret.encode().hex() not in stored
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert stack.ring.decrypt(bytes(row.secret)) == secret

    listed = await stack.http.get(API, headers=as_(org, "viewer"))
    one = await stack.http.get(f"{API}/{created['hook']['id']}", headers=as_(org, "viewer"))
    for response in (listed, one):
        text = await response.text()
        assert response.status == 200, text
        assert token not in text and secret not in text and "credentials" not in text
    assert (await one.json())["hook"]["tokenPrefix"] == token[: len(org) + 5]


async def test_a_body_over_the_limit_is_413_whether_announced_or_chunked(stack: Stack, org: str) -> None:
    created = await create_hook(stack, org)
    status, answer, _ = await deliver(stack, created, json.dumps({"p": "x" * MAX_BODY}).encode())
    assert status == 413, answer
    assert "4096" in answer["message"]

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: only reading can tell
        yield b'{"p": "'
        for _ in range(64):
            yield b"y" * 1024
        yield b'"}'

    response = await stack.http.post(path_of(created), data=chunks())
    assert response.status == 413, await response.text()
    assert response.request_info.headers.get("Transfer-Encoding") == "chunked"
    at_limit, answer, _ = await deliver(stack, created, json.dumps({"p": "z" * (MAX_BODY - 20)}).encode())
    assert at_limit == 202, answer
    assert len(await history(stack, org)) == 1


async def test_signatures_are_required_when_asked_and_checked_when_given(stack: Stack, org: str) -> None:
    created = await create_hook(stack, org, requireSignature=True)
    secret = created["credentials"]["secret"]
    body = b'{"n": 1}'

    status, answer, _ = await deliver(stack, created, body)
    assert status == 401 and "missing X-Beez-Signature" in answer["message"], answer
    other = signature_header("whsec_not-the-secret", int(stack.clock.now().timestamp()), body)
    status, answer, _ = await deliver(stack, created, body, **{"X-Beez-Signature": other})
    assert status == 401 and answer["message"] == "signature does not match the body", answer
    assert secret not in json.dumps(answer)
    stale = signed(stack, created, body, at=int(stack.clock.now().timestamp()) - 301)
    status, answer, _ = await deliver(stack, created, body, **stale)
    assert status == 401 and "timestamp" in answer["message"], answer
    tampered = signed(stack, created, body)
    status, answer, _ = await deliver(stack, created, b'{"n": 2}', **tampered)
    assert status == 401, answer
    assert await history(stack, org) == []

    status, answer, _ = await deliver(stack, created, body, **signed(stack, created, body))
    assert status == 202, answer

    unsigned_hook = await create_hook(stack, org)
    status, _, _ = await deliver(stack, unsigned_hook, body)
    assert status == 202
    status, answer, _ = await deliver(stack, unsigned_hook, body, **{"X-Beez-Signature": other})
    assert status == 401, answer


async def test_unknown_malformed_and_deleted_tokens_are_404(stack: Stack, org: str) -> None:
    created = await create_hook(stack, org)
    token = created["credentials"]["token"]
    for path in (
        "/hooks/nonsense",
        f"/hooks/{org}.{'A' * 43}",
        f"/hooks/someoneelse.{token.rpartition('.')[2]}",
    ):
        response = await stack.http.post(path, data=b"{}")
        assert response.status == 404, (path, await response.text())
    deleted = await stack.http.delete(f"{API}/{created['hook']['id']}", headers=as_(org))
    assert deleted.status == 200, await deleted.text()
    status, _, _ = await deliver(stack, created)
    assert status == 404


async def test_each_hook_is_rate_limited_with_retry_after(stack: Stack, org: str) -> None:
    busy, quiet = await create_hook(stack, org), await create_hook(stack, org)
    for _ in range(BURST):
        status, answer, _ = await deliver(stack, busy)
        assert status == 202, answer
    status, answer, headers = await deliver(stack, busy)
    assert status == 429, answer
    assert headers["Retry-After"] == "2"  # one token at 0.5/s
    status, _, _ = await deliver(stack, quiet)
    assert status == 202
    assert len(await history(stack, org)) == BURST + 1


async def test_a_retried_delivery_with_the_same_key_publishes_once(stack: Stack, org: str) -> None:
    harness = Harness(stack.svc, stack.js, stack.clock, org=org, other_org=f"x{org}")
    await harness.automation("any", workflow({"type": "custom_event", "event": "webhook.received"}))
    created = await create_hook(stack, org)
    first = await deliver(stack, created, **{"Idempotency-Key": "delivery-1"})
    again = await deliver(stack, created, **{"Idempotency-Key": "delivery-1"})
    assert first[0] == again[0] == 202
    assert first[1]["eventId"] == again[1]["eventId"]
    assert first[1]["accepted"] is True and again[1]["accepted"] is False
    by_request_id = await deliver(stack, created, **{"X-Request-Id": "delivery-1"})
    assert by_request_id[1]["eventId"] == first[1]["eventId"]
    other = await deliver(stack, created, **{"Idempotency-Key": "delivery-2"})
    assert other[1]["eventId"] != first[1]["eventId"] and other[1]["accepted"] is True
    records = await history(stack, org)
    assert len(records) == 2
    assert len(await harness.starts()) == 2


async def test_rotation_replaces_token_and_secret_and_the_old_token_stops_working(
    stack: Stack, org: str
) -> None:
    created = await create_hook(stack, org, requireSignature=True)
    response = await stack.http.post(f"{API}/{created['hook']['id']}:rotate", headers=as_(org))
    assert response.status == 200, await response.text()
    rotated = await response.json()
    assert rotated["credentials"]["token"] != created["credentials"]["token"]
    assert rotated["credentials"]["secret"] != created["credentials"]["secret"]
    assert "rotateTime" in rotated["hook"]

    body = b"{}"
    status, _, _ = await deliver(stack, created, body, **signed(stack, created, body))
    assert status == 404
    status, answer, _ = await deliver(stack, rotated, body, **signed(stack, created, body))
    assert status == 401, answer  # the old secret no longer signs
    status, answer, _ = await deliver(stack, rotated, body, **signed(stack, rotated, body))
    assert status == 202, answer


async def test_another_organization_cannot_see_rotate_or_delete_a_hook(stack: Stack, org: str) -> None:
    created = await create_hook(stack, org)
    hook_id = created["hook"]["id"]
    intruder = f"b{org}"
    listed = await stack.http.get(API, headers=as_(intruder))
    assert listed.status == 200 and (await listed.json()).get("hooks", []) == []
    for method, path in (
        ("GET", f"{API}/{hook_id}"),
        ("POST", f"{API}/{hook_id}:rotate"),
        ("DELETE", f"{API}/{hook_id}"),
    ):
        response = await stack.http.request(method, path, headers=as_(intruder))
        assert response.status == 404, (method, await response.text())
    status, _, _ = await deliver(stack, created)
    assert status == 202
    mine = await stack.http.get(API, headers=as_(org, "viewer"))
    assert [h["id"] for h in (await mine.json())["hooks"]] == [hook_id]


async def test_viewers_read_and_only_admins_manage(stack: Stack, org: str) -> None:
    created = await create_hook(stack, org)
    hook_id = created["hook"]["id"]
    for role in ("viewer", "editor"):
        for method, path in (
            ("POST", API),
            ("POST", f"{API}/{hook_id}:rotate"),
            ("DELETE", f"{API}/{hook_id}"),
        ):
            response = await stack.http.request(method, path, json={}, headers=as_(org, role))
            assert response.status == 403, (role, method, path)
    assert (await stack.http.get(f"{API}/{hook_id}", headers=as_(org, "viewer"))).status == 200


async def test_bad_hooks_and_bad_bodies_are_named(stack: Stack, org: str) -> None:
    response = await stack.http.post(
        API, json={"eventType": "not a type", "contactIdPath": "data..id"}, headers=as_(org)
    )
    assert response.status == 400
    [detail] = (await response.json())["details"]
    assert {v["field"] for v in detail["fieldViolations"]} == {"eventType", "contactIdPath"}

    created = await create_hook(stack, org, contactIdPath="data.0.id")
    status, answer, _ = await deliver(stack, created, b"{not json")
    assert status == 400 and "not JSON" in answer["message"], answer
    status, answer, _ = await deliver(stack, created, b'{"data": [{"id": 17}]}')
    assert status == 202
    [record] = await history(stack, org)
    assert record["event"]["contactId"] == "17"


def test_the_access_log_never_shows_a_token() -> None:
    assert loggable_path("/hooks/org_1.secretpart") == "/hooks/org_1.***"
    assert loggable_path("/hooks/whatever") == "/hooks/***"
    assert loggable_path("/api/automations") == "/api/automations"
