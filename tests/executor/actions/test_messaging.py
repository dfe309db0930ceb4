"""send_whatsapp, send_sms and send_slack against local stand-ins for the providers."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from email.utils import format_datetime
from urllib.parse import parse_qs

import pytest
from aiohttp import web

from beez.executor.actions import ActionRegistry, PermanentError, TransientError, build_registry
from tests.executor.actions.conftest import NOW, Seen, StandIn, ada, make_ctx, settings_for

WA_PATH = "/wa/v21.0/1055/messages"
SMS_PATH = "/twilio/2010-04-01/Accounts/AC123/Messages.json"
SLACK_PATH = "/slack/T000/B000/XXX"


def whatsapp_provider(stand_in: StandIn, *, failures: int = 0) -> dict[str, dict[str, object]]:
    """A WhatsApp stand-in that fails ``failures`` times with 503, then deduplicates by key."""
    effects: dict[str, dict[str, object]] = {}
    calls = {"n": 0}

    async def handler(seen: Seen) -> web.StreamResponse:
        calls["n"] += 1
        if calls["n"] <= failures:
            return web.json_response({"error": {"message": "Service unavailable", "code": 2}}, status=503)
        key = seen.header("Idempotency-Key") or ""
        if key not in effects:
            effects[key] = {"id": f"wamid.{len(effects) + 1}", "body": json.loads(seen.body)}
        return web.json_response(
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": "2348012345678", "wa_id": "2348012345678"}],
                "messages": [{"id": effects[key]["id"]}],
            }
        )

    stand_in.route("POST", WA_PATH, handler)
    return effects


# --- WhatsApp --------------------------------------------------------------------------------


async def test_whatsapp_text_message_has_the_cloud_api_shape_auth_and_idempotency_key(
    stand_in: StandIn, registry: ActionRegistry
) -> None:
    whatsapp_provider(stand_in)
    result = await registry["send_whatsapp"].run(make_ctx({"body": "Your onboarding starts here"}))

    [seen] = stand_in.on(WA_PATH)
    assert seen.method == "POST"
    assert json.loads(seen.body) == {
        "messaging_product": "whatsapp",
        "biz_opaque_callback_data": "org_1",  # echoed by the status webhooks (decision 0041)
        "to": "2348012345678",
        "type": "text",
        "text": {"body": "Your onboarding starts here"},
    }
    assert seen.header("Authorization") == "Bearer wa-token"
    assert seen.header("Content-Type") == "application/json"
    assert seen.header("Idempotency-Key") == "exec:ex_1:step:0:attempt:1"
    assert seen.header("X-Beez-Idempotency-Key") == "exec:ex_1:step:0:attempt:1"
    assert result.status == "succeeded"
    assert result.output["provider_message_id"] == "wamid.1"
    assert result.output["wa_id"] == "2348012345678"


async def test_whatsapp_template_message_names_the_template_and_language(
    stand_in: StandIn, registry: ActionRegistry
) -> None:
    whatsapp_provider(stand_in)
    result = await registry["send_whatsapp"].run(
        make_ctx({"template": "onboarding_nudge", "to": "+44 7700 900123"})
    )

    assert json.loads(stand_in.on(WA_PATH)[0].body) == {
        "messaging_product": "whatsapp",
        "biz_opaque_callback_data": "org_1",
        "to": "447700900123",
        "type": "template",
        "template": {"name": "onboarding_nudge", "language": {"code": "en_US"}},
    }
    assert result.output["kind"] == "template"


async def test_no_whatsapp_consent_is_skipped_and_the_provider_receives_nothing(
    stand_in: StandIn, registry: ActionRegistry
) -> None:
    whatsapp_provider(stand_in)
    contact = ada(consent={"email": True, "sms": True, "whatsapp": False})
    result = await registry["send_whatsapp"].run(make_ctx({"body": "hi"}, contact=contact))
    assert (result.status, result.reason) == ("skipped", "no whatsapp consent")
    assert stand_in.seen == []


async def test_provider_failing_twice_then_succeeding_gives_one_effect_per_idempotency_key(
    stand_in: StandIn, registry: ActionRegistry
) -> None:
    effects = whatsapp_provider(stand_in, failures=2)
    action = registry["send_whatsapp"]

    # The engine retries with a new attempt (and key) each time; the actions only classify.
    for attempt in (1, 2):
        with pytest.raises(TransientError) as failure:
            await action.run(make_ctx({"body": "hi"}, attempt=attempt))
        assert failure.value.category == "http_5xx"
    third = await action.run(make_ctx({"body": "hi"}, attempt=3))
    # A crash between the send and the commit redelivers attempt 3 with the same key.
    replay = await action.run(make_ctx({"body": "hi"}, attempt=3))

    keys = [seen.header("Idempotency-Key") for seen in stand_in.on(WA_PATH)]
    assert keys == [f"exec:ex_1:step:0:attempt:{n}" for n in (1, 2, 3, 3)]
    assert list(effects) == ["exec:ex_1:step:0:attempt:3"]
    assert third.output["provider_message_id"] == replay.output["provider_message_id"] == "wamid.1"


async def test_whatsapp_throttling_reported_as_400_is_transient(
    stand_in: StandIn, registry: ActionRegistry
) -> None:
    stand_in.script(
        "POST",
        WA_PATH,
        lambda: web.json_response({"error": {"message": "Rate limit hit", "code": 130429}}, status=400),
        lambda: web.json_response({"error": {"message": "Invalid parameter", "code": 100}}, status=400),
    )
    with pytest.raises(TransientError) as throttled:
        await registry["send_whatsapp"].run(make_ctx({"body": "hi"}))
    assert throttled.value.category == "whatsapp_throttled"
    with pytest.raises(PermanentError) as invalid:
        await registry["send_whatsapp"].run(make_ctx({"body": "hi"}))
    assert invalid.value.category == "http_4xx"


async def test_whatsapp_without_credentials_is_permanent(stand_in: StandIn) -> None:
    actions = build_registry(settings_for(stand_in, whatsapp_token=""))
    try:
        with pytest.raises(PermanentError) as failure:
            await actions["send_whatsapp"].run(make_ctx({"body": "hi"}))
        assert failure.value.category == "not_configured"
    finally:
        await actions.aclose()
    assert stand_in.seen == []


# --- SMS -------------------------------------------------------------------------------------


async def test_sms_is_form_encoded_with_basic_auth_and_idempotency_token(
    stand_in: StandIn, registry: ActionRegistry
) -> None:
    stand_in.script(
        "POST",
        SMS_PATH,
        lambda: web.json_response({"sid": "SM0123", "status": "queued"}, status=201),
    )
    result = await registry["send_sms"].run(make_ctx({"body": "Your code is 1234"}))

    [seen] = stand_in.on(SMS_PATH)
    assert seen.header("Content-Type") == "application/x-www-form-urlencoded"
    assert parse_qs(seen.body.decode()) == {
        "To": ["+2348012345678"],
        "From": ["+15005550006"],
        "Body": ["Your code is 1234"],
    }
    assert seen.header("Authorization") == "Basic " + base64.b64encode(b"AC123:tw-secret").decode()
    assert seen.header("I-Twilio-Idempotency-Token") == "exec:ex_1:step:0:attempt:1"
    assert result.output == {
        "provider_message_id": "SM0123",
        "provider_status": "queued",
        "to": "+2348012345678",
        "status_code": 201,
    }


async def test_sms_from_a_messaging_service_sends_its_sid(stand_in: StandIn) -> None:
    stand_in.script("POST", SMS_PATH, lambda: web.json_response({"sid": "SM1"}, status=201))
    actions = build_registry(settings_for(stand_in, sms_from="MG9752274e9e519418a7406176694466fa"))
    try:
        await actions["send_sms"].run(make_ctx({"body": "hi"}))
    finally:
        await actions.aclose()
    form = parse_qs(stand_in.on(SMS_PATH)[0].body.decode())
    assert form["MessagingServiceSid"] == ["MG9752274e9e519418a7406176694466fa"]
    assert "From" not in form


async def test_no_sms_consent_or_no_phone_is_skipped_and_the_provider_receives_nothing(
    stand_in: StandIn, registry: ActionRegistry
) -> None:
    no_consent = await registry["send_sms"].run(
        make_ctx({"body": "hi"}, contact=ada(consent={"email": True, "sms": False, "whatsapp": True}))
    )
    assert (no_consent.status, no_consent.reason) == ("skipped", "no sms consent")
    no_phone = await registry["send_sms"].run(make_ctx({"body": "hi"}, contact=ada(phone="")))
    assert (no_phone.status, no_phone.reason) == ("skipped", "contact has no phone number")
    assert stand_in.seen == []


async def test_a_phone_number_that_is_not_international_is_permanent(
    stand_in: StandIn, registry: ActionRegistry
) -> None:
    for to in ("08012345678", "call me", ""):
        with pytest.raises(PermanentError) as failure:
            await registry["send_sms"].run(make_ctx({"body": "hi", "to": to}))
        assert failure.value.category == "invalid_recipient"
    assert stand_in.seen == []


async def test_sms_429_carries_retry_after_in_seconds_or_as_a_date(
    stand_in: StandIn, registry: ActionRegistry
) -> None:
    later = format_datetime(NOW + timedelta(seconds=90), usegmt=True)
    stand_in.script(
        "POST",
        SMS_PATH,
        lambda: web.json_response(
            {"code": 20429, "message": "Too Many Requests"}, status=429, headers={"Retry-After": "30"}
        ),
        lambda: web.json_response({"code": 20429}, status=429, headers={"Retry-After": later}),
    )
    with pytest.raises(TransientError) as seconds:
        await registry["send_sms"].run(make_ctx({"body": "hi"}))
    assert seconds.value.category == "http_429"
    assert seconds.value.retry_after is not None
    assert 30.0 <= seconds.value.retry_after <= 30.0 * 1.1  # honoured, plus jitter
    with pytest.raises(TransientError) as date:
        await registry["send_sms"].run(make_ctx({"body": "hi"}))
    assert date.value.retry_after is not None
    assert 90.0 <= date.value.retry_after <= 90.0 * 1.1  # honoured, plus jitter


async def test_sms_400_is_permanent_and_the_error_masks_the_number(
    stand_in: StandIn, registry: ActionRegistry
) -> None:
    stand_in.script(
        "POST",
        SMS_PATH,
        lambda: web.json_response(
            {"code": 21211, "message": "Invalid 'To' Phone Number: +2348012345678"}, status=400
        ),
    )
    with pytest.raises(PermanentError) as failure:
        await registry["send_sms"].run(make_ctx({"body": "hi"}))
    assert failure.value.category == "http_4xx"
    assert "400" in str(failure.value)
    assert "+2348012345678" not in str(failure.value)


# --- Slack -----------------------------------------------------------------------------------


async def test_slack_posts_the_incoming_webhook_payload(stand_in: StandIn, registry: ActionRegistry) -> None:
    stand_in.script("POST", SLACK_PATH, lambda: web.Response(text="ok"))
    result = await registry["send_slack"].run(make_ctx({"text": "New lead: Ada", "channel": "#sales"}))

    [seen] = stand_in.on(SLACK_PATH)
    assert json.loads(seen.body) == {"text": "New lead: Ada", "channel": "#sales"}
    assert seen.header("Content-Type") == "application/json"
    assert seen.header("X-Beez-Idempotency-Key") == "exec:ex_1:step:0:attempt:1"
    assert result.output["response"] == "ok"


async def test_slack_uses_the_step_webhook_and_needs_no_contact_consent(
    stand_in: StandIn, registry: ActionRegistry
) -> None:
    stand_in.script("POST", "/hooks/other", lambda: web.Response(text="ok"))
    no_consent = ada(consent={"email": False, "sms": False, "whatsapp": False})
    result = await registry["send_slack"].run(
        make_ctx({"text": "hi", "webhook_url": stand_in.url("/hooks/other")}, contact=no_consent)
    )
    assert result.status == "succeeded"
    assert json.loads(stand_in.on("/hooks/other")[0].body) == {"text": "hi"}


async def test_slack_without_any_webhook_is_permanent(stand_in: StandIn) -> None:
    actions = build_registry(settings_for(stand_in, slack_default_webhook_url=""))
    try:
        with pytest.raises(PermanentError) as failure:
            await actions["send_slack"].run(make_ctx({"text": "hi"}))
        assert failure.value.category == "not_configured"
    finally:
        await actions.aclose()


async def test_slack_rejecting_the_payload_is_permanent(stand_in: StandIn, registry: ActionRegistry) -> None:
    stand_in.script("POST", SLACK_PATH, lambda: web.Response(status=404, text="channel_not_found"))
    with pytest.raises(PermanentError) as failure:
        await registry["send_slack"].run(make_ctx({"text": "hi"}))
    assert "channel_not_found" in str(failure.value)
    assert "B000/XXX" not in str(failure.value)  # the webhook's path is its secret


@pytest.mark.parametrize(
    ("type_", "config"),
    [("send_whatsapp", {"body": " "}), ("send_sms", {"body": ""}), ("send_slack", {"text": "\n"})],
)
async def test_a_message_that_rendered_empty_is_permanent_and_not_sent(
    stand_in: StandIn, registry: ActionRegistry, type_: str, config: dict[str, str]
) -> None:
    with pytest.raises(PermanentError) as failure:
        await registry[type_].run(make_ctx(config))
    assert failure.value.category == "invalid_config"
    assert stand_in.seen == []
