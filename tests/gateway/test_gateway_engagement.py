"""Engagement tracking and delivery callbacks end to end (issue #14 §4, decision 0041).

Through :mod:`tests.gateway.engagement_stack`: the pixel, the tracked link and the providers'
signed callbacks come in through the real gateway as a mail client and the providers would send
them, become events in the trigger, and start the automations listening to them.
"""

from __future__ import annotations

import asyncio
import json
from urllib.parse import parse_qsl

from beez.gateway.engagement import PIXEL_GIF
from beez.kit.signatures import twilio_signature, whatsapp_signature
from beez.kit.tracking import CLICK, OPEN, TrackingKeys
from tests.gateway.engagement_stack import (
    APP_SECRET,
    SALE,
    TWILIO_TOKEN,
    VERIFY_TOKEN,
    Recorded,
    Stack,
    contact,
    create,
    events_of,
    html_of,
    indexed,
    publish,
    stack,
    tracking_url,
)

__all__ = ["stack"]  # the module's fixture


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


OWN_TWILIO_TOKEN = "own-twilio-auth-token-abcdef"
OWN_APP_SECRET = "own-whatsapp-app-secret-abcdef"
OWN_VERIFY_TOKEN = "own-verify-token-abcdef"


async def own_connection(stack: Stack, org: str, provider: str, credentials: dict[str, str]) -> str:
    url = f"{stack.gateway}/api/automations/connections"
    body = {"provider": provider, "name": f"own {provider}", "credentials": credentials}
    async with stack.http.post(url, json=body, headers={"X-Org-Id": org}) as resp:
        assert resp.status == 200, await resp.text()
        return str((await resp.json())["connection"]["id"])


async def test_callbacks_to_an_organizations_own_accounts_are_checked_with_its_connections_secrets(
    stack: Stack,
) -> None:
    """An organization sending through its own Twilio account and WhatsApp app: their callbacks
    name the connection, are checked with its secrets (which only the executor holds), and the
    platform's secrets, another organization, or a forged signature change nothing."""
    org = f"{stack.org}_own"
    twilio = await own_connection(
        stack,
        org,
        "twilio",
        {"account_sid": "ACown42", "auth_token": OWN_TWILIO_TOKEN, "from": "+15550002222"},
    )
    whatsapp = await own_connection(
        stack,
        org,
        "whatsapp",
        {
            "token": "own-wa-token",
            "phone_number_id": "PNOWN",
            "app_secret": OWN_APP_SECRET,
            "verify_token": OWN_VERIFY_TOKEN,
        },
    )
    await create(
        stack.automation,
        org,
        {
            "name": "Own accounts",
            "trigger": {"type": "custom_event", "event": "own.signup"},
            "actions": [
                {"id": "own_text", "type": "send_sms", "config": {"body": "Hi from our own number"}},
                {"id": "own_wa", "type": "send_whatsapp", "config": {"body": "Hi from our own app"}},
            ],
        },
    )
    await indexed(stack.trigger, ["trigger-automations", "executor-automations"])
    await publish(stack.trigger, org, {"id": "own-1", "type": "own.signup", "contact": contact("c_own")})
    [sent] = await stack.provider.wait_for(lambda r: "/Accounts/ACown42/" in r.path)
    callback = form(sent)["StatusCallback"]
    assert callback == f"{stack.gateway}/callbacks/twilio/{org}/{twilio}"
    sid = stack.provider.sids[-1]
    params = {"MessageSid": sid, "MessageStatus": "delivered", "AccountSid": "ACown42"}
    for token in (TWILIO_TOKEN, "wrong-token"):  # the platform's token does not sign for this account
        signature = twilio_signature(token, callback, params.items())
        async with stack.http.post(callback, data=params, headers={"X-Twilio-Signature": signature}) as bad:
            assert bad.status == 403
    foreign = f"{stack.gateway}/callbacks/twilio/{stack.other_org}/{twilio}"
    signature = twilio_signature(OWN_TWILIO_TOKEN, foreign, params.items())
    async with stack.http.post(foreign, data=params, headers={"X-Twilio-Signature": signature}) as other:
        assert other.status == 403  # the connection is not the other organization's
    assert await events_of(stack, org, "message.delivered") == []
    signature = twilio_signature(OWN_TWILIO_TOKEN, callback, params.items())
    async with stack.http.post(callback, data=params, headers={"X-Twilio-Signature": signature}) as ok:
        assert ok.status == 204
    [delivered] = await events_of(stack, org, "message.delivered")
    assert (delivered["data"]["step_id"], delivered["contactId"]) == ("own_text", "c_own")

    hub = f"{stack.gateway}/callbacks/whatsapp/{org}/{whatsapp}"
    query = {"hub.mode": "subscribe", "hub.verify_token": OWN_VERIFY_TOKEN, "hub.challenge": "77"}
    async with stack.http.get(hub, params=query) as resp:
        assert (resp.status, await resp.text()) == (200, "77")
    async with stack.http.get(hub, params={**query, "hub.verify_token": VERIFY_TOKEN}) as refused:
        assert refused.status == 403
    await stack.provider.wait_for(lambda r: "/PNOWN/messages" in r.path)
    wamid = stack.provider.wamids[-1]
    status = {"id": wamid, "status": "read", "timestamp": "1764756000", "biz_opaque_callback_data": org}
    value = {"messaging_product": "whatsapp", "statuses": [status]}
    body = json.dumps(
        {"object": "whatsapp_business_account", "entry": [{"changes": [{"value": value}]}]}
    ).encode()
    for secret in (APP_SECRET, "nope"):
        headers = {"X-Hub-Signature-256": whatsapp_signature(secret, body)}
        async with stack.http.post(hub, data=body, headers=headers) as bad:
            assert bad.status == 403
    assert await events_of(stack, org, "message.read") == []
    headers = {"X-Hub-Signature-256": whatsapp_signature(OWN_APP_SECRET, body)}
    async with stack.http.post(hub, data=body, headers=headers) as ok:
        assert ok.status == 200
    [read] = await events_of(stack, org, "message.read")
    assert read["data"]["step_id"] == "own_wa"
