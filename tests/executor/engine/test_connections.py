"""Connections per organization (issue #14 §3, §5; decision 0040): a real executor on PostgreSQL
and NATS, real HTTP and SMTP stand-ins for the providers.

Credentials go in over gRPC and never come back out, are encrypted in their row, and never show
in the logs; another organization sees NOT_FOUND. OAuth2 access tokens are refreshed once per
connection however many callers (and replicas) need one at once. Steps use the organization's
connection (or the platform's settings), wait on a timer without an attempt when the
connection's rate limit is spent, and a provider's 429 lowers that rate until it recovers.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs

import grpc
import pytest
from aiohttp import web
from cryptography.fernet import Fernet
from sqlalchemy import select

from beez.api.executor.v1 import connections_pb2 as pb
from beez.api.executor.v1 import connections_pb2_grpc, executor_pb2
from beez.executor import models
from beez.executor.actions.http import OutboundHttp
from beez.executor.config import ExecutorSettings
from beez.executor.connections.service import Connections
from beez.executor.connections.store import ConnectionStore
from beez.executor.connections.waiting import WaitingSteps
from beez.executor.engine.integrations import Binding
from beez.kit.embedded import free_port
from beez.kit.keyring import KeyRing
from tests.executor.engine.conftest import Executor, Flow, start_executor
from tests.executor.samples import ADA
from tests.support.providers import SmtpSink, serving, smtp_server
from tests.support.rpc import violations

SLACK_TOKEN = "xoxb-1111-secret-slack-bot-token"
STRIPE_KEY = "sk_test_secret_stripe_key_4242"
REFRESH_TOKEN = "rt-secret-hubspot-refresh-token"
TWILIO_TOKEN = "twilio-secret-auth-token-9876"


@dataclass
class Providers:
    """One HTTP stand-in for Slack, Stripe, HubSpot and Twilio, answering as each documents."""

    port: int = field(default_factory=free_port)
    requests: list[tuple[str, str, dict[str, str], bytes]] = field(default_factory=list)
    refreshes: int = 0
    refresh_delay_s: float = 0.2
    throttle: int = 0
    """HubSpot API calls still to answer with 429."""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        path = request.path
        self.requests.append((request.method, path, dict(request.headers), body))
        auth = request.headers.get("Authorization", "")
        if path == "/slack/auth.test":
            if auth != f"Bearer {SLACK_TOKEN}":
                return web.json_response({"ok": False, "error": "invalid_auth"})
            return web.json_response({"ok": True, "team": "Beez", "user": "bot"})
        if path == "/stripe/v1/balance":
            if auth != f"Bearer {STRIPE_KEY}":  # Stripe quotes the key it refused
                key = auth.removeprefix("Bearer ")
                message = f"Invalid API Key provided: {key}"
                return web.json_response({"error": {"message": message}}, status=401)
            return web.json_response({"object": "balance", "available": []})
        if path == "/hubspot/oauth/v1/token":
            form = parse_qs(body.decode())
            if form.get("grant_type") != ["refresh_token"] or form.get("refresh_token") != [REFRESH_TOKEN]:
                return web.json_response({"status": "BAD_REFRESH_TOKEN"}, status=400)
            self.refreshes += 1
            number = self.refreshes
            await asyncio.sleep(self.refresh_delay_s)  # a slow token endpoint widens any race
            return web.json_response(
                {"access_token": f"at-{number}", "expires_in": 1800, "refresh_token": REFRESH_TOKEN}
            )
        if path.startswith("/hubspot/crm/"):
            if not auth.startswith("Bearer at-"):
                return web.json_response({"status": "error"}, status=401)
            if self.throttle > 0:
                self.throttle -= 1
                return web.json_response(
                    {"status": "error", "policyName": "TEN_SECONDLY_ROLLING"}, status=429
                )
            return web.json_response({"results": []})
        if path.startswith("/twilio/Accounts/"):
            sid = path.split("/")[3].removesuffix(".json")
            expected = "Basic " + base64.b64encode(f"{sid}:{TWILIO_TOKEN}".encode()).decode()
            if auth != expected:
                return web.json_response({"code": 20003, "message": "Authenticate"}, status=401)
            if path.endswith("/Messages.json"):
                return web.json_response({"sid": f"SM{len(self.requests)}", "status": "queued"}, status=201)
            return web.json_response({"sid": sid, "status": "active"})
        return web.json_response({"error": "not found"}, status=404)

    def seen(self, prefix: str) -> list[tuple[str, str, dict[str, str], bytes]]:
        return [r for r in self.requests if r[1].startswith(prefix)]


@dataclass
class Rig:
    executor: Executor
    providers: Providers
    platform_smtp: SmtpSink
    own_smtp: SmtpSink
    own_smtp_port: int
    ring: KeyRing
    ring_line: str
    stub: Any


@pytest.fixture(scope="module")
async def rig(admin_url: str, nats_url: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Rig]:
    ring_file = tmp_path_factory.mktemp("ring") / "keys"
    ring_line = f"k1:{Fernet.generate_key().decode()}"
    ring_file.write_text(ring_line + "\n")
    providers = Providers()
    async with (
        serving(providers.handle, providers.port),
        smtp_server() as (platform_smtp, platform_port),
        smtp_server() as (own_smtp, own_port),
    ):
        base = providers.url
        settings = {
            "action_plugins": [],
            "signing_keys_file": str(ring_file),
            "connections_cache_s": 0,
            "actions": {
                "ssrf_allowlist": ["127.0.0.1/32"],
                "provider_base_urls": {
                    "slack": f"{base}/slack",
                    "stripe": f"{base}/stripe",
                    "hubspot": f"{base}/hubspot",
                },
                "sms_base_url": f"{base}/twilio",
                "sms_account_sid": "AC_platform",
                "sms_auth_token": "platform-token-000",
                "sms_from": "+15550000000",
                "smtp_host": "127.0.0.1",
                "smtp_port": platform_port,
                "default_from": "platform@beez.example",
            },
        }
        async with start_executor(admin_url, nats_url, **settings) as executor:
            stub = connections_pb2_grpc.ConnectionServiceStub(executor.svc.channel)
            ring = KeyRing.load(str(ring_file))
            yield Rig(executor, providers, platform_smtp, own_smtp, own_port, ring, ring_line, stub)


def admin(flow: Flow) -> list[tuple[str, str]]:
    return [*flow.metadata, ("x-roles", "admin"), ("x-user-id", "u_admin")]


async def create(
    rig: Rig, flow: Flow, provider: str, name: str, credentials: dict[str, str], **rate: float
) -> pb.Connection:
    request = pb.CreateConnectionRequest(provider=provider, name=name, credentials=credentials)
    if rate:
        request.rate_limit.CopyFrom(pb.RateLimit(**rate))
    response = await rig.stub.CreateConnection(request, metadata=admin(flow))
    connection: pb.Connection = response.connection
    return connection


async def row(rig: Rig, connection_id: str) -> models.Connection:
    async with rig.executor.svc.runtime.db.sessions() as session:
        found = (
            await session.execute(select(models.Connection).where(models.Connection.id == connection_id))
        ).scalar_one()
        session.expunge(found)
        return found


async def test_credentials_are_write_only_encrypted_at_rest_and_never_logged(
    rig: Rig, capfd: pytest.CaptureFixture[str]
) -> None:
    flow = Flow(rig.executor, "org_conn_crud")
    created = await create(rig, flow, "slack", "team", {"bot_token": SLACK_TOKEN})
    assert (created.provider, created.name, list(created.credential_fields)) == (
        "slack",
        "team",
        ["bot_token"],
    )
    assert created.created_by == "u_admin"
    assert SLACK_TOKEN not in str(created)

    stored = await row(rig, created.id)
    assert SLACK_TOKEN.encode() not in stored.ciphertext and b"bot_token" not in stored.ciphertext
    assert stored.encryption_key_id == "k1"
    assert json.loads(rig.ring.decrypt(stored.ciphertext)) == {"bot_token": SLACK_TOKEN}

    listed = await rig.stub.ListConnections(pb.ListConnectionsRequest(), metadata=flow.metadata)
    got = await rig.stub.GetConnection(pb.GetConnectionRequest(id=created.id), metadata=flow.metadata)
    assert [c.id for c in listed.connections] == [created.id] and got.connection.name == "team"
    assert SLACK_TOKEN not in str(listed) + str(got)

    tested = await rig.stub.TestConnection(pb.TestConnectionRequest(id=created.id), metadata=admin(flow))
    assert tested.ok, tested.detail
    [call] = rig.providers.seen("/slack/auth.test")[-1:]
    assert call[2]["Authorization"] == f"Bearer {SLACK_TOKEN}"

    new_token = SLACK_TOKEN + "-rotated"
    rotated = await rig.stub.RotateConnection(
        pb.RotateConnectionRequest(id=created.id, credentials={"bot_token": new_token}), metadata=admin(flow)
    )
    assert rotated.connection.HasField("rotate_time") and new_token not in str(rotated)
    assert json.loads(rig.ring.decrypt((await row(rig, created.id)).ciphertext)) == {"bot_token": new_token}
    failed = await rig.stub.TestConnection(pb.TestConnectionRequest(id=created.id), metadata=admin(flow))
    assert not failed.ok and "invalid_auth" in failed.detail

    # a provider that quotes the refused key back: the answer and the logs show it redacted
    stripe = await create(rig, flow, "stripe", "payments", {"secret_key": STRIPE_KEY + "-wrong"})
    refused = await rig.stub.TestConnection(pb.TestConnectionRequest(id=stripe.id), metadata=admin(flow))
    assert not refused.ok and refused.status_code == 401
    assert STRIPE_KEY not in refused.detail and "[redacted]" in refused.detail

    await rig.stub.DeleteConnection(pb.DeleteConnectionRequest(id=created.id), metadata=admin(flow))
    with pytest.raises(grpc.aio.AioRpcError) as gone:
        await rig.stub.GetConnection(pb.GetConnectionRequest(id=created.id), metadata=flow.metadata)
    assert gone.value.code() == grpc.StatusCode.NOT_FOUND

    out, err = capfd.readouterr()
    for secret in (SLACK_TOKEN, new_token, STRIPE_KEY):
        assert secret not in out + err


async def test_another_organization_sees_not_found_and_viewers_only_read(rig: Rig) -> None:
    owner = Flow(rig.executor, "org_conn_owner")
    other = Flow(rig.executor, "org_conn_other")
    created = await create(rig, owner, "stripe", "billing", {"secret_key": STRIPE_KEY})
    for call in (
        rig.stub.GetConnection(pb.GetConnectionRequest(id=created.id), metadata=admin(other)),
        rig.stub.TestConnection(pb.TestConnectionRequest(id=created.id), metadata=admin(other)),
        rig.stub.RotateConnection(
            pb.RotateConnectionRequest(id=created.id, credentials={"secret_key": "sk_x"}),
            metadata=admin(other),
        ),
        rig.stub.DeleteConnection(pb.DeleteConnectionRequest(id=created.id), metadata=admin(other)),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await call
        assert refused.value.code() == grpc.StatusCode.NOT_FOUND
    assert not (
        await rig.stub.ListConnections(pb.ListConnectionsRequest(), metadata=other.metadata)
    ).connections

    viewer = [*owner.metadata, ("x-roles", "viewer")]
    assert (
        len((await rig.stub.ListConnections(pb.ListConnectionsRequest(), metadata=viewer)).connections) == 1
    )
    for call in (
        rig.stub.CreateConnection(
            pb.CreateConnectionRequest(provider="slack", name="x", credentials={"bot_token": "xoxb-x"}),
            metadata=viewer,
        ),
        rig.stub.TestConnection(pb.TestConnectionRequest(id=created.id), metadata=viewer),
        rig.stub.DeleteConnection(pb.DeleteConnectionRequest(id=created.id), metadata=viewer),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as denied:
            await call
        assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_bad_input_names_each_field_and_names_are_unique(rig: Rig) -> None:
    flow = Flow(rig.executor, "org_conn_bad")
    with pytest.raises(grpc.aio.AioRpcError) as bad:
        await create(rig, flow, "fax", "x", {})
    assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT and violations(bad.value) == ["provider"]
    with pytest.raises(grpc.aio.AioRpcError) as bad:
        await create(rig, flow, "hubspot", "crm", {"client_id": "c", "refresh_token": "r", "colour": "blue"})
    assert sorted(violations(bad.value)) == ["credentials.client_secret", "credentials.colour"]
    with pytest.raises(grpc.aio.AioRpcError) as bad:
        await create(rig, flow, "stripe", "s", {"secret_key": "sk"}, per_second=-1)
    assert violations(bad.value) == ["rate_limit.per_second"]
    await create(rig, flow, "stripe", "same", {"secret_key": "sk"})
    with pytest.raises(grpc.aio.AioRpcError) as taken:
        await create(rig, flow, "slack", "same", {"bot_token": "xoxb"})
    assert taken.value.code() == grpc.StatusCode.ALREADY_EXISTS


def replica(rig: Rig) -> Connections:
    """Another executor replica's view of the connections: its own caches, the same database."""
    settings = rig.executor.svc.runtime.settings
    assert isinstance(settings, ExecutorSettings)
    store = ConnectionStore(rig.executor.svc.runtime.db, rig.ring)
    return Connections(store, settings.actions, OutboundHttp(settings.actions), cache_s=0)


async def test_an_oauth2_token_is_refreshed_once_per_connection_across_replicas(rig: Rig) -> None:
    flow = Flow(rig.executor, "org_conn_oauth")
    created = await create(
        rig,
        flow,
        "hubspot",
        "crm",
        {"client_id": "cid", "client_secret": "csecret", "refresh_token": REFRESH_TOKEN},
    )
    replicas = [replica(rig) for _ in range(3)]
    binding = Binding(created.id, "hubspot")
    before = rig.providers.refreshes
    now = rig.executor.clock.now()

    async def token(connections: Connections) -> str:
        access = await connections.access(flow.org, binding, now)
        return await access.access_token()

    tokens = await asyncio.gather(*(token(replicas[i % 3]) for i in range(24)))
    assert rig.providers.refreshes == before + 1, "one refresh for 24 concurrent callers on 3 replicas"
    assert set(tokens) == {f"at-{before + 1}"}
    stored = await row(rig, created.id)
    assert stored.access_expires_at == now + timedelta(seconds=1800)
    assert f"at-{before + 1}".encode() not in (stored.access_ciphertext or b"")

    # still valid: no refresh; within two minutes of its expiry: one refresh, again for everyone
    later = now + timedelta(seconds=1500)
    assert {await (await replicas[0].access(flow.org, binding, later)).access_token()} == {f"at-{before + 1}"}
    near_expiry = now + timedelta(seconds=1700)

    async def token_at(connections: Connections) -> str:
        return await (await connections.access(flow.org, binding, near_expiry)).access_token()

    renewed = await asyncio.gather(*(token_at(replicas[i % 3]) for i in range(12)))
    assert rig.providers.refreshes == before + 2 and set(renewed) == {f"at-{before + 2}"}
    got = await rig.stub.GetConnection(pb.GetConnectionRequest(id=created.id), metadata=flow.metadata)
    assert got.connection.HasField("access_token_expire_time")


async def test_key_rotation_rewraps_credentials_under_the_new_key(rig: Rig) -> None:
    flow = Flow(rig.executor, "org_conn_rewrap")
    created = await create(rig, flow, "stripe", "old-key", {"secret_key": STRIPE_KEY})
    new_key = Fernet.generate_key().decode()
    rotated_ring = KeyRing.parse(f"k2:{new_key}\n{rig.ring_line}\n")
    store = ConnectionStore(rig.executor.svc.runtime.db, rotated_ring)
    assert await store.credentials(flow.org, created.id) == {"secret_key": STRIPE_KEY}  # old key decrypts
    assert await store.rewrap(flow.org) == 1
    stored = await row(rig, created.id)
    assert stored.encryption_key_id == "k2"
    assert json.loads(KeyRing.parse(f"k2:{new_key}").decrypt(stored.ciphertext)) == {"secret_key": STRIPE_KEY}


def call_api(url: str, connection: str) -> dict[str, Any]:
    return {
        "actions": [
            {
                "id": "crm",
                "type": "call_api",
                "config": {"url": url, "method": "GET", "connection": connection, "retry": {"attempts": 1}},
            }
        ]
    }


async def test_call_api_carries_the_connections_token_to_its_provider_only(rig: Rig) -> None:
    flow = Flow(rig.executor, "org_conn_callapi")
    await create(
        rig,
        flow,
        "hubspot",
        "crm",
        {"client_id": "cid", "client_secret": "csecret", "refresh_token": REFRESH_TOKEN},
    )
    done = await flow.settled(
        await flow.start(call_api(f"{rig.providers.url}/hubspot/crm/v3/objects/contacts", "crm")), "completed"
    )
    assert done.steps[0].status == executor_pb2.STEP_STATUS_SUCCEEDED
    [request] = rig.providers.seen("/hubspot/crm/")[-1:]
    assert request[2]["Authorization"].startswith("Bearer at-")
    assert request[2]["Authorization"].removeprefix("Bearer ") not in str(done)

    before = len(rig.providers.requests)
    elsewhere = await flow.settled(
        await flow.start(call_api(f"{rig.providers.url}/elsewhere", "crm")), "failed"
    )
    assert elsewhere.steps[0].error_category == "connection"
    assert len(rig.providers.requests) == before, "nothing was sent off the provider's base URL"

    missing = await flow.settled(
        await flow.start(call_api(f"{rig.providers.url}/hubspot/x", "nope")), "failed"
    )
    assert "no such connection" in missing.error


TEXTABLE = {**ADA, "consent": {"email": True, "sms": True, "whatsapp": True}}
SMS = {"actions": [{"id": "sms", "type": "send_sms", "config": {"body": "hello"}}]}
EMAIL = {"actions": [{"id": "mail", "type": "send_email", "config": {"subject": "hi", "body": "b"}}]}


async def test_email_and_sms_use_the_organizations_connection_else_the_platforms(rig: Rig) -> None:
    own = Flow(rig.executor, "org_conn_own")
    platform = Flow(rig.executor, "org_conn_platform")
    await create(
        rig,
        own,
        "smtp",
        "mail",
        {"host": "127.0.0.1", "port": str(rig.own_smtp_port), "from": "news@own.example"},
    )
    await create(
        rig,
        own,
        "twilio",
        "texts",
        {"account_sid": "AC_own", "auth_token": TWILIO_TOKEN, "from": "+15551112222"},
    )
    for flow in (own, platform):
        await flow.settled(await flow.start(EMAIL), "completed")
    [mine] = await rig.own_smtp.wait_for(1)
    assert mine["From"] == "news@own.example"
    [theirs] = await rig.platform_smtp.wait_for(1)
    assert theirs["From"] == "platform@beez.example"

    sent = await own.settled(await own.start(SMS, contact=TEXTABLE), "completed")
    assert sent.steps[0].status == executor_pb2.STEP_STATUS_SUCCEEDED
    assert rig.providers.seen("/twilio/Accounts/AC_own/Messages.json")
    assert TWILIO_TOKEN not in str(sent)

    await create(
        rig,
        own,
        "twilio",
        "texts-2",
        {"account_sid": "AC_two", "auth_token": TWILIO_TOKEN, "from": "+15553334444"},
    )
    ambiguous = await own.settled(await own.start(SMS, contact=TEXTABLE), "failed")
    assert [s.error_category for s in ambiguous.steps] == ["connection"] and "name one" in ambiguous.error
    named = {
        "actions": [{"id": "sms", "type": "send_sms", "config": {"body": "hi", "connection": "texts-2"}}]
    }
    await own.settled(await own.start(named, contact=TEXTABLE), "completed")
    assert rig.providers.seen("/twilio/Accounts/AC_two/Messages.json")
    wrong = {"actions": [{"id": "sms", "type": "send_sms", "config": {"body": "hi", "connection": "mail"}}]}
    mismatch = await own.settled(await own.start(wrong, contact=TEXTABLE), "failed")
    assert "smtp connection" in mismatch.error


async def test_a_spent_connection_limit_defers_steps_on_a_timer_without_an_attempt(rig: Rig) -> None:
    flow = Flow(rig.executor, "org_conn_limit")
    created = await create(
        rig,
        flow,
        "twilio",
        "slow",
        {"account_sid": "AC_slow", "auth_token": TWILIO_TOKEN, "from": "+15550001111"},
        per_second=1,
        burst=1,
    )
    assert (created.rate_limit.per_second, created.rate_limit.burst) == (1, 1)
    assert created.default_rate_limit.per_second == 1 and created.default_rate_limit.burst == 10
    ids = [await flow.start(SMS, contact=TEXTABLE) for _ in range(3)]
    parked = {executor_pb2.EXECUTION_STATUS_WAITING, executor_pb2.EXECUTION_STATUS_COMPLETED}
    seen = [await flow.until(i, lambda ex: ex.status in parked, "waiting or sent") for i in ids]
    held = [ex for ex in seen if ex.status == executor_pb2.EXECUTION_STATUS_WAITING]
    assert len(held) == 2 and all(not ex.steps for ex in held), "a deferred step begins no attempt"
    waiting = WaitingSteps(rig.executor.svc.runtime.db)
    await waiting.refresh()
    assert waiting.counts.get("twilio") == 2

    while len(rig.providers.seen("/twilio/Accounts/AC_slow/Messages.json")) < 3:
        await flow.advance(seconds=1)
        await asyncio.sleep(0.2)
    done = [await flow.settled(i, "completed", timeout=10) for i in ids]
    assert all(
        [(s.attempt, s.status) for s in ex.steps] == [(1, executor_pb2.STEP_STATUS_SUCCEEDED)] for ex in done
    )
    assert len(rig.providers.seen("/twilio/Accounts/AC_slow/Messages.json")) == 3, "each sent once"
    await waiting.refresh()
    assert waiting.counts.get("twilio") == 0


async def test_a_providers_429_lowers_the_connections_rate_which_then_recovers(rig: Rig) -> None:
    flow = Flow(rig.executor, "org_conn_429")
    created = await create(
        rig,
        flow,
        "hubspot",
        "crm",
        {"client_id": "cid", "client_secret": "csecret", "refresh_token": REFRESH_TOKEN},
    )
    default = created.default_rate_limit
    assert (default.per_second, default.burst) == (11, 110)
    assert created.effective_rate_limit == default
    rig.providers.throttle = 1
    failed = await flow.settled(
        await flow.start(call_api(f"{rig.providers.url}/hubspot/crm/v3/objects/deals", "crm")), "failed"
    )
    assert failed.steps[0].error_category == "http_429"
    lowered = (
        await rig.stub.GetConnection(pb.GetConnectionRequest(id=created.id), metadata=flow.metadata)
    ).connection
    assert lowered.effective_rate_limit.per_second == pytest.approx(5.5)
    assert lowered.effective_rate_limit.burst == 55

    await flow.advance(seconds=60)  # a tenth back every 30 s
    partly = (
        await rig.stub.GetConnection(pb.GetConnectionRequest(id=created.id), metadata=flow.metadata)
    ).connection
    assert partly.effective_rate_limit.per_second == pytest.approx(11 * 0.7)
    await flow.advance(seconds=300)
    back = (
        await rig.stub.GetConnection(pb.GetConnectionRequest(id=created.id), metadata=flow.metadata)
    ).connection
    assert back.effective_rate_limit == default
