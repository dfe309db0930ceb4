"""Engagement tracking and delivery callbacks end to end (issue #14 §4, decision 0041).

Real automation, trigger and executor services (PostgreSQL, NATS, gRPC) behind a real gateway on
real HTTP; an SMTP server and an HTTP server standing in for Twilio and the WhatsApp Cloud API.
A signup runs an automation that emails (HTML, tracked), texts and WhatsApps the contact; the
pixel, the tracked link and the providers' signed callbacks then come in through the gateway as a
mail client and the providers would send them, become events in the trigger, and start the
automations listening to them.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import aiohttp
import pytest
from aiohttp import web
from google.protobuf import json_format

from beez.api.automation.v1 import automation_pb2, automation_pb2_grpc
from beez.api.messages.v1 import events_pb2
from beez.api.trigger.v1 import trigger_pb2, trigger_pb2_grpc
from beez.api.workflow.v1 import workflow_pb2
from beez.gateway.config import GatewaySettings
from beez.gateway.engagement import PIXEL_GIF, twilio_signature, whatsapp_signature
from beez.kit.embedded import free_port
from beez.kit.tracking import CLICK, OPEN, TrackingKeys
from beez.workflow import catalog
from tests.cli.conftest import beez
from tests.support.gateway import running_gateway
from tests.support.inproc import InProcService, running_service
from tests.support.providers import SmtpSink, serving, smtp_server
from tests.support.servers import create_database, drop_database, unique_prefix

TWILIO_TOKEN = "twilio-auth-token-0123456789"
APP_SECRET = "whatsapp-app-secret-0123456789"
VERIFY_TOKEN = "verify-me-0123456789"
KEYS_TEXT = "trk1:" + "s" * 40
SALE = "https://shop.example/sale?utm=spring&a=1&b=2"
HTML = f"""<html><body><p>Hello {{{{ contact.first_name }}}}</p>
<a href="{SALE.replace("&", "&amp;")}">Shop the sale</a>
<a href="mailto:help@beez.example">Help</a>
<a href="https://beez.example/unsubscribe?c={{{{ contact.id }}}}">Unsubscribe</a>
</body></html>"""


def contact(contact_id: str) -> dict[str, Any]:
    return {
        "id": contact_id,
        "email": f"{contact_id}@example.com",
        "phone": "+2348012345678",
        "firstName": "Ada",
        "consent": {"email": True, "sms": True, "whatsapp": True},
    }


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Provider:
    """Twilio, the Cloud API and webhook receivers on one local HTTP server."""

    port: int
    requests: list[Recorded] = field(default_factory=list)
    sids: list[str] = field(default_factory=list)
    wamids: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.requests.append(Recorded(request.method, request.path_qs, dict(request.headers), body))
        if request.path.endswith("/Messages.json"):
            self.sids.append(f"SM{uuid.uuid4().hex}")
            return web.json_response({"sid": self.sids[-1], "status": "queued"}, status=201)
        if request.path.endswith("/messages"):
            self.wamids.append(f"wamid.{uuid.uuid4().hex}")
            return web.json_response(
                {
                    "messaging_product": "whatsapp",
                    "contacts": [{"input": "2348012345678", "wa_id": "2348012345678"}],
                    "messages": [{"id": self.wamids[-1]}],
                }
            )
        return web.json_response({"ok": True})

    def on(self, predicate: Callable[[Recorded], bool]) -> list[Recorded]:
        return [r for r in self.requests if predicate(r)]

    async def wait_for(self, predicate: Callable[[Recorded], bool], count: int = 1) -> list[Recorded]:
        for _ in range(400):
            found = self.on(predicate)
            if len(found) >= count:
                return found
            await asyncio.sleep(0.05)
        raise AssertionError(f"expected {count} matching requests, got {self.on(predicate)}")


@dataclass
class Stack:
    automation: InProcService
    trigger: InProcService
    executor: InProcService
    gateway: str
    provider: Provider
    smtp: SmtpSink
    http: aiohttp.ClientSession
    org: str
    other_org: str
    keys: TrackingKeys


async def indexed(svc: InProcService, consumers: list[str]) -> None:
    """Waits until every consumer of the AUTOMATIONS stream has applied every change so far."""
    js = svc.runtime.js
    assert js is not None
    stream = svc.runtime.topology.stream("AUTOMATIONS")
    for _ in range(200):
        last = (await js.stream_info(stream)).state.last_seq
        infos = [await js.consumer_info(stream, name) for name in consumers]
        if all(
            i.num_pending == 0 and i.num_ack_pending == 0 and i.delivered.stream_seq >= last for i in infos
        ):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the automations were never indexed")


async def create(svc: InProcService, org: str, doc: dict[str, Any]) -> str:
    stub: Any = automation_pb2_grpc.AutomationServiceStub(svc.channel)
    resp = await stub.CreateAutomation(
        automation_pb2.CreateAutomationRequest(
            automation=json_format.ParseDict(doc, workflow_pb2.Workflow()), active=True
        ),
        metadata=svc.metadata(org, "u_test"),
    )
    return str(resp.automation.id)


async def publish(svc: InProcService, org: str, doc: dict[str, Any]) -> None:
    stub: Any = trigger_pb2_grpc.EventServiceStub(svc.channel)
    await stub.PublishEvent(
        trigger_pb2.PublishEventRequest(event=json_format.ParseDict(doc, events_pb2.Event())),
        metadata=svc.metadata(org, "u_test"),
    )


async def events_of(stack: Stack, org: str, type_: str) -> list[dict[str, Any]]:
    stub: Any = trigger_pb2_grpc.EventServiceStub(stack.trigger.channel)
    resp = await stub.ListEvents(
        trigger_pb2.ListEventsRequest(type=type_), metadata=stack.trigger.metadata(org)
    )
    return [json_format.MessageToDict(record.event) for record in resp.events]


def webhook(path: str, body: dict[str, Any], provider: Provider, step: str) -> dict[str, Any]:
    return {"id": step, "type": "webhook", "config": {"url": f"{provider.url}{path}", "body": body}}


@pytest.fixture(scope="module")
async def stack(
    admin_url: str, nats_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Stack]:
    keys_file = Path(tmp_path_factory.mktemp("tracking")) / "keys"
    keys_file.write_text(KEYS_TEXT)
    database_url = create_database(admin_url)
    prefix = unique_prefix()
    gateway_port = free_port()
    gateway_url = f"http://127.0.0.1:{gateway_port}"
    provider = Provider(free_port())
    org, other = f"org_{uuid.uuid4().hex[:10]}", f"org_{uuid.uuid4().hex[:10]}"
    try:
        async with (
            serving(provider.handle, provider.port),
            smtp_server() as (smtp, smtp_port),
            running_service(
                "automation",
                database_url,
                nats_url,
                prefix,
                analytics_addr=f"127.0.0.1:{free_port()}",
                executor_addr=f"127.0.0.1:{free_port()}",
            ) as automation,
            running_service("trigger", database_url, nats_url, prefix) as trigger,
            running_service(
                "executor",
                database_url,
                nats_url,
                prefix,
                tracking_keys_file=str(keys_file),
                actions={
                    "smtp_host": "127.0.0.1",
                    "smtp_port": smtp_port,
                    "default_from": "hello@beez.example",
                    "tracking_base_url": gateway_url,
                    "callbacks_base_url": gateway_url,
                    "sms_base_url": f"{provider.url}/2010-04-01",
                    "sms_account_sid": "AC0123456789",
                    "sms_auth_token": TWILIO_TOKEN,
                    "sms_from": "+15550001111",
                    "whatsapp_base_url": f"{provider.url}/v21.0",
                    "whatsapp_token": "wa-token-0123456789",
                    "whatsapp_phone_number_id": "PN1",
                    "ssrf_allowlist": ["127.0.0.1/32"],
                },
            ) as executor,
        ):
            settings = GatewaySettings(
                local_mode=True,
                http_host="127.0.0.1",
                rate_limits=False,
                automation_addr=f"127.0.0.1:{automation.server.port}",
                trigger_addr=f"127.0.0.1:{trigger.server.port}",
                executor_addr=f"127.0.0.1:{executor.server.port}",
                beezora_addr=f"127.0.0.1:{free_port()}",
                analytics_addr=f"127.0.0.1:{free_port()}",
                tracking_keys_file=str(keys_file),
                twilio_auth_token=TWILIO_TOKEN,
                whatsapp_app_secret=APP_SECRET,
                whatsapp_verify_token=VERIFY_TOKEN,
            )
            async with running_gateway(settings, gateway_port) as url, aiohttp.ClientSession() as http:
                assert url == gateway_url
                stack = Stack(
                    automation,
                    trigger,
                    executor,
                    url,
                    provider,
                    smtp,
                    http,
                    org,
                    other,
                    TrackingKeys.parse(KEYS_TEXT),
                )
                await create(
                    automation,
                    org,
                    {
                        "name": "Spring sale",
                        "trigger": {"type": "custom_event", "event": "signup.done"},
                        "actions": [
                            {
                                "id": "welcome",
                                "type": "send_email",
                                "config": {
                                    "subject": "Spring sale",
                                    "body": "Our spring sale: " + SALE,
                                    "html": HTML,
                                    "campaign_id": "spring",
                                },
                            },
                            {
                                "id": "text",
                                "type": "send_sms",
                                "config": {"body": "Sale on, {{ contact.first_name }}"},
                            },
                            {"id": "wa", "type": "send_whatsapp", "config": {"body": "Sale on!"}},
                        ],
                    },
                )
                await create(
                    automation,
                    org,
                    {
                        "name": "Opened",
                        "trigger": {"type": "email_opened"},
                        "actions": [
                            webhook(
                                "/hooks/opened",
                                {"contact": "{{ contact.id }}", "campaign": "{{ event.data.campaign }}"},
                                provider,
                                "hook",
                            )
                        ],
                    },
                )
                await create(
                    automation,
                    org,
                    {
                        "name": "Delivered",
                        "trigger": {"type": "custom_event", "event": "message.delivered"},
                        "actions": [
                            webhook(
                                "/hooks/delivered", {"step": "{{ event.data.step_id }}"}, provider, "hook"
                            )
                        ],
                    },
                )
                await indexed(trigger, ["trigger-automations", "executor-automations"])
                await publish(
                    trigger, org, {"id": "signup-1", "type": "signup.done", "contact": contact("c_ada")}
                )
                await smtp.wait_for(1)
                await provider.wait_for(lambda r: r.path.endswith("/Messages.json"))
                await provider.wait_for(lambda r: r.path.endswith("/messages"))
                yield stack
    finally:
        drop_database(admin_url, database_url)


def html_of(stack: Stack) -> str:
    message = stack.smtp.messages[0]
    part = message.get_body(("html",))
    assert part is not None
    return str(part.get_content())


def tracking_url(html: str, kind: str) -> str:
    marker = f'"{kind}'
    start = html.index(marker) + 1
    return html[start : html.index('"', start)]


async def test_the_pixel_publishes_email_opened_once_per_hour_and_starts_the_open_automation(
    stack: Stack,
) -> None:
    html = html_of(stack)
    pixel = tracking_url(html, f"{stack.gateway}/t/o/")
    async with stack.http.get(pixel) as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"] == "image/gif"
        assert "no-store" in resp.headers["Cache-Control"]
        assert await resp.read() == PIXEL_GIF
        assert PIXEL_GIF.startswith(b"GIF89a\x01\x00\x01\x00")
    async with stack.http.get(pixel) as again:  # a mail client fetching it twice: one open
        assert again.status == 200

    hooked = await stack.provider.wait_for(lambda r: r.path == "/hooks/opened")
    assert json.loads(hooked[0].body) == {"contact": "c_ada", "campaign": "spring"}
    [opened] = await events_of(stack, stack.org, "email.opened")
    assert opened["contactId"] == "c_ada"
    data = opened["data"]
    assert data["campaign"] == "spring"
    assert data["step_id"] == "welcome"
    claims = stack.keys.verify(pixel.rsplit("/", 1)[1], OPEN)
    assert claims is not None
    assert data.get("execution_id") == claims.execution_id
    await asyncio.sleep(0.3)
    assert len(stack.provider.on(lambda r: r.path == "/hooks/opened")) == 1
    assert await events_of(stack, stack.other_org, "email.opened") == []


async def test_a_tracked_link_redirects_to_its_own_target_only_and_publishes_email_clicked(
    stack: Stack,
) -> None:
    html = html_of(stack)
    assert 'href="mailto:help@beez.example"' in html
    assert 'href="https://beez.example/unsubscribe?c=c_ada"' in html
    link = tracking_url(html, f"{stack.gateway}/t/c/")
    async with stack.http.get(link, allow_redirects=False) as resp:
        assert resp.status == 302
        assert resp.headers["Location"] == SALE
    [clicked] = await events_of(stack, stack.org, "email.clicked")
    assert clicked["data"]["url"] == SALE
    assert clicked["data"]["step_id"] == "welcome"
    assert clicked["contactId"] == "c_ada"

    token = link.rsplit("/", 1)[1]
    claims = stack.keys.verify(token, CLICK)
    assert claims is not None
    forged = TrackingKeys.parse("trk1:" + "x" * 40).sign(claims.with_url("https://evil.example/phish"))
    key_id, payload, mac = token.split(".")
    evil = stack.keys.sign(claims.with_url("https://evil.example")).split(".")[1]
    for bad in (
        forged,  # the right key id, another secret
        f"{key_id}.{evil}.{mac}",  # another URL under this link's signature
        f"{key_id}.{payload}.{mac[:-2]}AA",
        token[:-1],
        "nonsense",
    ):
        async with stack.http.get(f"{stack.gateway}/t/c/{bad}", allow_redirects=False) as refused:
            assert refused.status == 404
            assert "Location" not in refused.headers
    async with stack.http.get(f"{stack.gateway}/t/o/{token}") as wrong_kind:
        assert wrong_kind.status == 404
    assert len(await events_of(stack, stack.org, "email.clicked")) == 1


def form(recorded: Recorded) -> dict[str, str]:
    return dict(parse_qsl(recorded.body.decode()))


async def test_a_signed_twilio_callback_maps_to_the_sms_step_and_a_bad_one_is_refused(stack: Stack) -> None:
    [sent] = stack.provider.on(lambda r: r.path.endswith("/Messages.json"))
    callback = form(sent)["StatusCallback"]
    assert callback == f"{stack.gateway}/callbacks/twilio/{stack.org}"
    [sid] = stack.provider.sids
    await recorded(stack, "sms", sid, "text")
    params = {"MessageSid": sid, "MessageStatus": "delivered", "AccountSid": "AC0123456789", "To": "+2348"}
    good = twilio_signature(TWILIO_TOKEN, callback, params.items())
    async with stack.http.post(
        callback, data={**params, "MessageStatus": "failed"}, headers={"X-Twilio-Signature": good}
    ) as bad:
        assert bad.status == 403  # signed for "delivered", sent as "failed"
    async with stack.http.post(callback, data=params, headers={"X-Twilio-Signature": "AAAA"}) as bad:
        assert bad.status == 403
    assert await events_of(stack, stack.org, "message.failed") == []
    async with stack.http.post(callback, data=params, headers={"X-Twilio-Signature": good}) as ok:
        assert ok.status == 204
    [delivered] = await events_of(stack, stack.org, "message.delivered")
    assert delivered["data"]["step_id"] == "text"
    assert delivered["data"]["channel"] == "sms"
    assert delivered["contactId"] == "c_ada"
    hooked = await stack.provider.wait_for(lambda r: r.path == "/hooks/delivered")
    assert json.loads(hooked[0].body) == {"step": "text"}

    # Another organization's callback naming this message: correctly signed, yet nothing happens.
    foreign = f"{stack.gateway}/callbacks/twilio/{stack.other_org}"
    signed = twilio_signature(TWILIO_TOKEN, foreign, params.items())
    async with stack.http.post(foreign, data=params, headers={"X-Twilio-Signature": signed}) as isolated:
        assert isolated.status == 204
    assert await events_of(stack, stack.other_org, "message.delivered") == []
    assert len(await events_of(stack, stack.org, "message.delivered")) == 1


async def recorded(stack: Stack, provider: str, message_id: str, step_id: str) -> None:
    """The executor recorded which step sent the message: its organization finds it through REST,
    another organization does not."""
    url = f"{stack.gateway}/api/automations/provider-messages"
    query = {"provider": provider, "providerMessageId": message_id}
    async with stack.http.get(url, params=query, headers={"X-Org-Id": stack.org}) as resp:
        assert resp.status == 200, await resp.text()
        found = (await resp.json())["message"]
    assert (found["stepId"], found["contactId"], found["provider"]) == (step_id, "c_ada", provider)
    async with stack.http.get(url, params=query, headers={"X-Org-Id": stack.other_org}) as other:
        assert other.status == 404


async def test_whatsapp_handshake_and_a_signed_status_webhook_map_to_the_whatsapp_step(stack: Stack) -> None:
    hub = f"{stack.gateway}/callbacks/whatsapp"
    query = {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"}
    async with stack.http.get(hub, params=query) as resp:
        assert resp.status == 200
        assert await resp.text() == "1158201444"
    async with stack.http.get(hub, params={**query, "hub.verify_token": "wrong"}) as refused:
        assert refused.status == 403

    [sent] = stack.provider.on(lambda r: r.path.endswith("/messages"))
    assert json.loads(sent.body)["biz_opaque_callback_data"] == stack.org
    [wamid] = stack.provider.wamids
    await recorded(stack, "whatsapp", wamid, "wa")

    def status_body(org: str, status: str) -> bytes:
        value = {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550001111", "phone_number_id": "PN1"},
            "statuses": [
                {
                    "id": wamid,
                    "status": status,
                    "timestamp": "1764756000",
                    "recipient_id": "2348012345678",
                    "biz_opaque_callback_data": org,
                }
            ],
        }
        payload = {
            "object": "whatsapp_business_account",
            "entry": [{"id": "WABA", "changes": [{"field": "messages", "value": value}]}],
        }
        return json.dumps(payload).encode()

    body = status_body(stack.org, "read")
    async with stack.http.post(
        hub, data=body, headers={"X-Hub-Signature-256": whatsapp_signature("nope", body)}
    ) as bad:
        assert bad.status == 403
    assert await events_of(stack, stack.org, "message.read") == []
    signature = whatsapp_signature(APP_SECRET, body)
    for _ in range(2):  # Meta retries: one event
        async with stack.http.post(hub, data=body, headers={"X-Hub-Signature-256": signature}) as ok:
            assert ok.status == 200
    [read] = await events_of(stack, stack.org, "message.read")
    assert read["data"]["step_id"] == "wa"
    assert read["data"]["channel"] == "whatsapp"
    assert read["occurredAt"].startswith("2025-12-03")

    foreign = status_body(stack.other_org, "read")
    async with stack.http.post(
        hub, data=foreign, headers={"X-Hub-Signature-256": whatsapp_signature(APP_SECRET, foreign)}
    ) as isolated:
        assert isolated.status == 200
    assert await events_of(stack, stack.other_org, "message.read") == []


# --- the builder's action tools (issue #14 §7) --------------------------------------------------

API = "/api/automations/actions"


async def rest(stack: Stack, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    headers = {"X-Org-Id": stack.org}
    if body is None:
        async with stack.http.get(f"{stack.gateway}{path}", headers=headers) as resp:
            return resp.status, await resp.json()
    async with stack.http.post(f"{stack.gateway}{path}", json=body, headers=headers) as resp:
        return resp.status, await resp.json()


async def test_categories_count_the_catalog_and_validate_names_each_problem(stack: Stack) -> None:
    status, answer = await rest(stack, f"{API}/categories")
    assert status == 200
    counts = {c["category"]: c.get("count", 0) for c in answer["categories"]}
    expected: dict[str, int] = {}
    for entry in catalog.action_types():
        expected[entry.category] = expected.get(entry.category, 0) + 1
    assert {k: v for k, v in counts.items() if v} == expected

    status, answer = await rest(
        stack, f"{API}/validate", {"action": {"type": "send_email", "config": {"to": 5, "html": "x"}}}
    )
    assert status == 200
    assert answer["valid"] is False
    fields = {issue["field"] for issue in answer["issues"]}
    assert any(f.startswith("action.config") for f in fields), fields
    status, answer = await rest(
        stack,
        f"{API}/validate",
        {"action": {"type": "send_sms", "config": {"body": "Hi {{ contact.first_name }}"}}},
    )
    assert answer == {"valid": True}
    status, answer = await rest(stack, f"{API}/validate", {"action": {"type": "no_such_action"}})
    assert answer["issues"][0]["field"] == "action.type"


async def test_the_sms_preview_is_the_request_the_step_sent(stack: Stack) -> None:
    before = len(stack.provider.requests)
    status, answer = await rest(
        stack,
        f"{API}/test",
        {
            "action": {
                "id": "text",
                "type": "send_sms",
                "config": {"body": "Sale on, {{ contact.first_name }}"},
            },
            "event": {"type": "signup.done", "contact": contact("c_ada")},
        },
    )
    assert status == 200, answer
    shown = answer["request"]
    assert len(stack.provider.requests) == before  # safe mode: nothing sent
    [sent] = stack.provider.on(lambda r: r.path.endswith("/Messages.json"))
    assert (shown["method"], shown["url"]) == ("POST", f"{stack.provider.url}{sent.path}")
    assert shown["body"] == sent.body.decode()  # To, Body, From, StatusCallback: byte for byte
    assert shown["headers"]["Authorization"] == "Basic [redacted]"
    assert TWILIO_TOKEN not in json.dumps(answer)
    received = {k.lower(): v for k, v in sent.headers.items()}
    for name, value in shown["headers"].items():
        if name == "Authorization":
            assert received["authorization"].startswith("Basic ")
        elif "idempotency" in name.lower():  # the same attempt of another execution
            assert value == "exec:exec_preview:step:0:attempt:1"
            assert received[name.lower()].endswith(":step:1:attempt:1")  # the run's second step
        else:
            assert received[name.lower()] == value, name


async def test_the_webhook_preview_equals_what_the_receiver_gets_when_the_step_runs(stack: Stack) -> None:
    action = {
        "id": "notify",
        "type": "webhook",
        "config": {
            "url": f"{stack.provider.url}/parity?src=beez",
            "headers": {"X-Custom": "yes", "X-Api-Key": "receiver-key-0123456789"},
            "body": {"hello": "{{ contact.first_name }}", "plan": "{{ event.data.plan }}"},
        },
    }
    event = {"type": "parity.go", "contact": contact("c_grace"), "data": {"plan": "pro"}}
    status, answer = await rest(stack, f"{API}/test", {"action": action, "event": event})
    assert status == 200, answer
    shown = answer["request"]
    assert shown["headers"]["X-Api-Key"] == "[redacted]"
    assert not stack.provider.on(lambda r: r.path.startswith("/parity"))

    await create(
        stack.automation,
        stack.org,
        {"name": "Parity", "trigger": {"type": "custom_event", "event": "parity.go"}, "actions": [action]},
    )
    await indexed(stack.trigger, ["trigger-automations", "executor-automations"])
    await publish(stack.trigger, stack.org, {"id": "parity-1", **event})
    [sent] = await stack.provider.wait_for(lambda r: r.path.startswith("/parity"))
    assert (shown["method"], shown["url"]) == (sent.method, f"{stack.provider.url}{sent.path}")
    assert shown["body"].encode() == sent.body
    received = {k.lower(): v for k, v in sent.headers.items()}
    execution_id = received["x-beez-idempotency-key"].split(":")[1]
    for name, value in shown["headers"].items():
        if value == "[redacted]":
            assert received[name.lower()] == "receiver-key-0123456789"
        else:
            assert received[name.lower()] == value.replace("exec_preview", execution_id), name


async def test_a_command_action_shows_its_exact_platform_command(stack: Stack) -> None:
    status, answer = await rest(
        stack,
        f"{API}/test",
        {
            "action": {"type": "add_tag", "config": {"tag": "vip-{{ contact.first_name }}"}},
            "contact": contact("c_x"),
        },
    )
    assert status == 200, answer
    [command] = answer["commands"]
    assert command["subject"].endswith(f".{stack.org}.add_tag") or stack.org in command["subject"]
    assert "vip-Ada" in json.dumps(command["command"])
    assert command["command"]["idempotencyKey"] == "exec:exec_preview:step:0:attempt:1"
    status, refused = await rest(
        stack, f"{API}/test", {"action": {"type": "send_email", "config": {"to": 5}}}
    )
    assert status == 400
    assert "action.config" in json.dumps(refused)


async def test_the_cli_reaches_the_action_tools(stack: Stack) -> None:
    env = {"BEEZ_API_URL": stack.gateway, "BEEZ_ORG": stack.org}
    run = await beez("actions", "categories", env=env)
    assert run.exit_code == 0, run.output
    assert "communication" in run.stdout
    run = await beez("actions", "validate", "--action", '{"type": "send_sms", "config": {}}', env=env)
    assert run.exit_code == 1
    assert "action.config" in run.stdout
    action = '{"type": "send_sms", "config": {"body": "Hi {{ contact.first_name }}"}}'
    run = await beez(
        "actions", "test", "--action", action, "--contact", json.dumps(contact("c_cli")), env=env
    )
    assert run.exit_code == 0, run.output
    assert "POST " in run.stdout and "Basic [redacted]" in run.stdout and "Body=Hi+Ada" in run.stdout
