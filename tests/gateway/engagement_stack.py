"""The engagement stack: real automation, trigger and executor services behind a real gateway,
an SMTP server and one HTTP server standing in for Twilio, the WhatsApp Cloud API and webhook
receivers. The fixture runs a signup first: one email (HTML, tracked), one SMS and one WhatsApp
message of the "Spring sale" automation, so tests find them sent.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from google.protobuf import json_format
from pydantic import SecretStr

from beez.api.automation.v1 import automation_pb2, automation_pb2_grpc
from beez.api.messages.v1 import events_pb2
from beez.api.trigger.v1 import trigger_pb2, trigger_pb2_grpc
from beez.api.workflow.v1 import workflow_pb2
from beez.gateway.config import GatewaySettings
from beez.kit.embedded import free_port
from beez.kit.tracking import TrackingKeys
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
                twilio_auth_token=SecretStr(TWILIO_TOKEN),
                whatsapp_app_secret=SecretStr(APP_SECRET),
                whatsapp_verify_token=SecretStr(VERIFY_TOKEN),
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
