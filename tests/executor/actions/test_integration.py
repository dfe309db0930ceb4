"""webhook and call_api: request shapes, HMAC signatures a receiver can verify, saved answers."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import replace

import pytest
from aiohttp import web

from beez.executor.actions import ActionRegistry, PermanentError, TransientError, build_registry
from beez.executor.actions.http import verify_signature
from tests.executor.actions.conftest import NOW, Seen, StandIn, ada, make_ctx, settings_for

SECRET = "whsec_test"


def receiver_accepts(seen: Seen) -> bool:
    """What a partner does with X-Beez-Signature, written out without our helper."""
    header = seen.header("X-Beez-Signature") or ""
    parts = dict(item.split("=", 1) for item in header.split(","))
    payload = parts["t"].encode() + b"." + seen.body
    expected = hmac.new(SECRET.encode(), payload, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts["v1"]) and abs(int(parts["t"]) - int(NOW.timestamp())) < 300


async def test_webhook_posts_json_with_a_verifiable_signature_and_idempotency_key(
    stand_in: StandIn, registry: ActionRegistry
) -> None:
    stand_in.script("POST", "/hook", lambda: web.Response(text="thanks"))
    config = {
        "url": stand_in.url("/hook?token=abc"),
        "headers": {"X-Partner": "beez"},
        "body": {"contact": "c_123", "plan": "pro", "name": "Adá"},
    }
    result = await registry["webhook"].run(make_ctx(config))

    [seen] = stand_in.seen
    assert (seen.method, seen.path, seen.query) == ("POST", "/hook", {"token": "abc"})
    assert json.loads(seen.body) == {"contact": "c_123", "plan": "pro", "name": "Adá"}
    assert seen.header("Content-Type") == "application/json"
    assert seen.header("X-Partner") == "beez"
    assert seen.header("X-Beez-Idempotency-Key") == "exec:ex_1:step:0:attempt:1"
    assert receiver_accepts(seen)
    assert (seen.header("X-Beez-Signature") or "").split(",")[1] == "kid=whk_test"
    assert verify_signature(
        {"whk_test": SECRET}, seen.header("X-Beez-Signature") or "", seen.body, now=int(NOW.timestamp())
    )
    assert not verify_signature(
        {"whk_test": SECRET},
        seen.header("X-Beez-Signature") or "",
        seen.body + b" ",
        now=int(NOW.timestamp()),
    )
    assert not verify_signature(  # another organization's secret does not verify it
        {"whk_test": "whsec_other"},
        seen.header("X-Beez-Signature") or "",
        seen.body,
        now=int(NOW.timestamp()),
    )
    assert result.output == {
        "status_code": 200,
        "method": "POST",
        "url": stand_in.url("/hook"),  # no query string in the log: it may hold a token
        "redirects": 0,
        "signed": True,
        "response": "thanks",
        "body_truncated": False,
    }


async def test_webhook_without_a_body_sends_only_the_contact_id_and_email_by_default(
    stand_in: StandIn, registry: ActionRegistry
) -> None:
    stand_in.script("POST", "/hook", lambda: web.Response(status=204))
    event = {"id": "evt_1", "type": "list.joined", "data": {"list": "vip"}, "contact": ada()}
    await registry["webhook"].run(make_ctx({"url": stand_in.url("/hook")}, event=event))
    body = json.loads(stand_in.seen[0].body)
    assert body["contact"] == {"id": "c_123", "email": ada()["email"]}  # data minimization
    assert body["event"] == {"id": "evt_1", "type": "list.joined", "data": {"list": "vip"}}
    assert (body["automation_id"], body["execution_id"], body["step_id"]) == ("auto_1", "ex_1", "step_0")


async def test_webhook_sends_exactly_the_contact_fields_include_fields_lists(
    stand_in: StandIn, registry: ActionRegistry
) -> None:
    stand_in.script("POST", "/hook", lambda: web.Response(status=204))
    contact = {**ada(), "fields": {"plan": "pro", "secret_note": "x"}}
    config = {"url": stand_in.url("/hook"), "include_fields": ["id", "fields.plan", "missing"]}
    await registry["webhook"].run(make_ctx(config, contact=contact))
    body = json.loads(stand_in.seen[0].body)
    assert body["contact"] == {"id": "c_123", "fields": {"plan": "pro"}}
    config["include_fields"] = []
    await registry["webhook"].run(make_ctx(config, contact=contact))
    assert json.loads(stand_in.seen[1].body)["contact"] == {}


async def test_webhook_text_body_and_get_without_body(stand_in: StandIn, registry: ActionRegistry) -> None:
    stand_in.script("PUT", "/text", lambda: web.Response(text="ok"))
    stand_in.script("GET", "/get", lambda: web.Response(text="ok"))
    await registry["webhook"].run(
        make_ctx({"url": stand_in.url("/text"), "method": "PUT", "body": "plain words"})
    )
    await registry["webhook"].run(make_ctx({"url": stand_in.url("/get"), "method": "GET"}))
    put, get = stand_in.seen
    assert (put.body, put.header("Content-Type")) == (b"plain words", "text/plain; charset=utf-8")
    assert get.body == b""
    assert receiver_accepts(put) and receiver_accepts(get)


async def test_webhook_of_an_organization_without_a_secret_is_sent_unsigned(
    stand_in: StandIn, registry: ActionRegistry
) -> None:
    stand_in.script("POST", "/hook", lambda: web.Response(text="ok"))
    ctx = replace(make_ctx({"url": stand_in.url("/hook"), "body": {}}), org_id="org_without_secrets")
    result = await registry["webhook"].run(ctx)
    assert stand_in.seen[0].header("X-Beez-Signature") is None
    assert result.output["signed"] is False


async def test_each_organization_signs_with_its_own_secret_only(
    stand_in: StandIn, registry: ActionRegistry
) -> None:
    stand_in.script("POST", "/hook", lambda: web.Response(text="ok"))
    await registry["webhook"].run(
        replace(make_ctx({"url": stand_in.url("/hook"), "body": {}}), org_id="org_2")
    )
    [seen] = stand_in.seen
    header = seen.header("X-Beez-Signature") or ""
    assert "kid=whk_other" in header and "whk_test" not in header
    assert verify_signature({"whk_other": "whsec_other"}, header, seen.body, now=int(NOW.timestamp()))
    assert not verify_signature({"whk_test": SECRET}, header, seen.body, now=int(NOW.timestamp()))


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Beez-Signature": "t=1,v1=forged"},
        {"Host": "evil.example"},
        {"X-Ok": "a\r\nInjected: 1"},
        {"Bad Name": "x"},
    ],
)
async def test_headers_the_engine_owns_or_that_are_malformed_are_permanent(
    stand_in: StandIn, registry: ActionRegistry, headers: dict[str, str]
) -> None:
    with pytest.raises(PermanentError) as failure:
        await registry["webhook"].run(make_ctx({"url": stand_in.url("/hook"), "headers": headers}))
    assert failure.value.category == "invalid_request"
    assert stand_in.seen == []


async def test_webhook_errors_are_classified(stand_in: StandIn, registry: ActionRegistry) -> None:
    stand_in.script("POST", "/hook", lambda: web.Response(status=503), lambda: web.Response(status=410))
    with pytest.raises(TransientError):
        await registry["webhook"].run(make_ctx({"url": stand_in.url("/hook")}))
    with pytest.raises(PermanentError):
        await registry["webhook"].run(make_ctx({"url": stand_in.url("/hook")}))


async def test_webhook_timeout_from_the_step_config_is_transient(
    stand_in: StandIn, registry: ActionRegistry
) -> None:
    stand_in.hang("POST", "/slow")
    with pytest.raises(TransientError) as failure:
        await registry["webhook"].run(make_ctx({"url": stand_in.url("/slow"), "timeout_s": 0.2}))
    assert failure.value.category == "timeout"


async def test_call_api_saves_the_json_answer_in_vars(stand_in: StandIn, registry: ActionRegistry) -> None:
    stand_in.script(
        "POST", "/api/score", lambda: web.json_response({"score": 87, "segment": "hot"}, status=201)
    )
    config = {
        "url": stand_in.url("/api/score"),
        "method": "POST",
        "headers": {"Authorization": "Bearer partner-key"},
        "body": {"email": "ada@example.com"},
        "save_as": "scoring",
    }
    result = await registry["call_api"].run(make_ctx(config))

    seen = stand_in.seen[0]
    assert seen.header("Authorization") == "Bearer partner-key"
    assert receiver_accepts(seen)
    assert result.vars == {"scoring": {"score": 87, "segment": "hot"}}
    assert result.output["status_code"] == 201
    assert json.loads(result.output["body"]) == {"score": 87, "segment": "hot"}
    assert result.output["saved_as"] == "scoring"


async def test_call_api_saves_text_answers_as_text_and_saves_nothing_unless_asked(
    stand_in: StandIn, registry: ActionRegistry
) -> None:
    stand_in.script("GET", "/plain", lambda: web.Response(text="hello"))
    saved = await registry["call_api"].run(
        make_ctx({"url": stand_in.url("/plain"), "method": "GET", "save_as": "greeting"})
    )
    unsaved = await registry["call_api"].run(make_ctx({"url": stand_in.url("/plain"), "method": "GET"}))
    assert saved.vars == {"greeting": "hello"}
    assert unsaved.vars == {}
    assert "saved_as" not in unsaved.output


async def test_call_api_truncates_the_logged_body(stand_in: StandIn) -> None:
    stand_in.script("GET", "/long", lambda: web.Response(text="y" * 3000))
    actions = build_registry(settings_for(stand_in, output_body_chars=100))
    try:
        result = await actions["call_api"].run(
            make_ctx({"url": stand_in.url("/long"), "method": "GET", "save_as": "x"})
        )
    finally:
        await actions.aclose()
    assert (len(result.output["body"]), result.output["body_truncated"]) == (100, True)
    assert result.vars == {"x": "y" * 3000}


async def test_call_api_answer_too_large_to_save_is_permanent(stand_in: StandIn) -> None:
    stand_in.script("GET", "/huge", lambda: web.Response(body=b"z" * 4096))
    actions = build_registry(settings_for(stand_in, http_max_response_bytes=1024))
    try:
        with pytest.raises(PermanentError) as failure:
            await actions["call_api"].run(
                make_ctx({"url": stand_in.url("/huge"), "method": "GET", "save_as": "x"})
            )
    finally:
        await actions.aclose()
    assert failure.value.category == "response_too_large"


async def test_call_api_400_is_permanent_and_429_is_transient_with_retry_after(
    stand_in: StandIn, registry: ActionRegistry
) -> None:
    stand_in.script(
        "GET",
        "/api",
        lambda: web.json_response({"error": "bad"}, status=400),
        lambda: web.Response(status=429, headers={"Retry-After": "12"}),
    )
    with pytest.raises(PermanentError) as bad:
        await registry["call_api"].run(make_ctx({"url": stand_in.url("/api"), "method": "GET"}))
    assert bad.value.category == "http_4xx"
    with pytest.raises(TransientError) as limited:
        await registry["call_api"].run(make_ctx({"url": stand_in.url("/api"), "method": "GET"}))
    assert limited.value.retry_after is not None
    assert 12.0 <= limited.value.retry_after <= 12.0 * 1.1  # honoured, plus jitter
