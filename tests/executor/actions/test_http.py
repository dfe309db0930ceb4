"""Outgoing HTTP: error classification, timeouts, redirects, size limits."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from aiohttp import web

from beez.executor.actions import ActionError, ActionSettings, PermanentError, TransientError
from beez.executor.actions.http import OutboundHttp, parse_retry_after, verify_signature
from tests.executor.actions.conftest import NOW, Seen, StandIn, free_port, settings_for


@pytest.fixture
async def http(stand_in: StandIn) -> AsyncIterator[OutboundHttp]:
    client = OutboundHttp(settings_for(stand_in))
    yield client
    await client.aclose()


def test_retry_after_reads_seconds_and_http_dates() -> None:
    assert parse_retry_after("120", NOW) == 120.0
    assert parse_retry_after("Thu, 26 Nov 2026 10:02:00 GMT", NOW) == 120.0
    assert parse_retry_after("Thu, 26 Nov 2026 09:00:00 GMT", NOW) == 0.0  # already past
    assert parse_retry_after("2.0", NOW) == 2.0  # Shopify's decimal seconds
    assert parse_retry_after("1.5.1", NOW) is None
    assert parse_retry_after("soon", NOW) is None
    assert parse_retry_after(None, NOW) is None


@pytest.mark.parametrize(
    ("status", "kind", "category"),
    [
        (500, TransientError, "http_5xx"),
        (502, TransientError, "http_5xx"),
        (503, TransientError, "http_5xx"),
        (408, TransientError, "http_408"),
        (429, TransientError, "http_429"),
        (400, PermanentError, "http_4xx"),
        (401, PermanentError, "http_4xx"),
        (404, PermanentError, "http_4xx"),
        (422, PermanentError, "http_4xx"),
    ],
)
async def test_status_codes_are_classified(
    stand_in: StandIn, http: OutboundHttp, status: int, kind: type[ActionError], category: str
) -> None:
    stand_in.script("POST", "/api", lambda: web.Response(status=status, text="nope"))
    with pytest.raises(kind) as failure:
        await http.request("POST", stand_in.url("/api"), now=NOW, content=b"{}")
    assert failure.value.category == category
    assert f"answered {status}: nope" in str(failure.value)


async def test_503_with_retry_after_passes_it_on(stand_in: StandIn, http: OutboundHttp) -> None:
    stand_in.script("GET", "/api", lambda: web.Response(status=503, headers={"Retry-After": "7"}))
    with pytest.raises(TransientError) as failure:
        await http.request("GET", stand_in.url("/api"), now=NOW)
    assert failure.value.retry_after is not None
    assert 7.0 <= failure.value.retry_after <= 7.0 * 1.1  # honoured, stretched by the default jitter


async def test_a_server_that_does_not_answer_in_time_is_transient(
    stand_in: StandIn, http: OutboundHttp
) -> None:
    stand_in.hang("POST", "/slow")
    with pytest.raises(TransientError) as failure:
        await http.request("POST", stand_in.url("/slow"), now=NOW, timeout_s=0.2)
    assert failure.value.category == "timeout"
    assert "timed out after 0.2 s" in str(failure.value)


async def test_a_refused_connection_is_transient(stand_in: StandIn, http: OutboundHttp) -> None:
    with pytest.raises(TransientError) as failure:
        await http.request("GET", f"http://127.0.0.1:{free_port()}/", now=NOW)
    assert failure.value.category == "connection"


async def test_307_and_308_keep_the_method_body_and_a_valid_signature(
    stand_in: StandIn, http: OutboundHttp
) -> None:
    stand_in.script("POST", "/a", lambda: web.Response(status=307, headers={"Location": "/b"}))
    stand_in.script("POST", "/b", lambda: web.Response(status=308, headers={"Location": stand_in.url("/c")}))
    stand_in.script("POST", "/c", lambda: web.json_response({"ok": True}))

    response = await http.request(
        "POST",
        stand_in.url("/a"),
        now=NOW,
        content=b'{"x":1}',
        signing=[("k1", "s3cret")],
        idempotency_key="k1",
    )

    assert response.redirects == 2
    assert str(response.url) == stand_in.url("/c")
    assert [(s.method, s.path, s.body) for s in stand_in.seen] == [
        ("POST", "/a", b'{"x":1}'),
        ("POST", "/b", b'{"x":1}'),
        ("POST", "/c", b'{"x":1}'),
    ]
    last = stand_in.seen[-1]
    assert verify_signature(
        {"k1": "s3cret"}, last.header("X-Beez-Signature") or "", last.body, now=int(NOW.timestamp())
    )
    assert last.header("X-Beez-Idempotency-Key") == "k1"


@pytest.mark.parametrize("status", [301, 302, 303])
async def test_301_302_303_continue_as_get_without_a_body(
    stand_in: StandIn, http: OutboundHttp, status: int
) -> None:
    stand_in.script("PUT", "/a", lambda: web.Response(status=status, headers={"Location": "/b"}))
    stand_in.script("GET", "/b", lambda: web.Response(text="done"))

    response = await http.request(
        "PUT", stand_in.url("/a"), now=NOW, content=b"payload", headers={"Content-Type": "text/plain"}
    )

    assert response.text == "done"
    second = stand_in.seen[1]
    assert (second.method, second.body) == ("GET", b"")
    assert second.header("Content-Type") is None


async def test_too_many_redirects_is_permanent(stand_in: StandIn) -> None:
    stand_in.script("GET", "/loop", lambda: web.Response(status=302, headers={"Location": "/loop"}))
    client = OutboundHttp(settings_for(stand_in, http_max_redirects=3))
    try:
        with pytest.raises(PermanentError) as failure:
            await client.request("GET", stand_in.url("/loop"), now=NOW)
    finally:
        await client.aclose()
    assert failure.value.category == "too_many_redirects"
    assert len(stand_in.seen) == 4


async def test_credentials_are_dropped_when_a_redirect_changes_origin(
    stand_in: StandIn, other_stand_in: StandIn, http: OutboundHttp
) -> None:
    stand_in.script(
        "GET", "/a", lambda: web.Response(status=302, headers={"Location": other_stand_in.url("/b")})
    )
    other_stand_in.script("GET", "/b", lambda: web.Response(text="ok"))

    await http.request(
        "GET", stand_in.url("/a"), now=NOW, headers={"Authorization": "Bearer t", "X-Custom": "1"}
    )

    assert stand_in.seen[0].header("Authorization") == "Bearer t"
    moved = other_stand_in.seen[0]
    assert moved.header("Authorization") is None
    assert moved.header("X-Custom") == "1"


async def test_a_redirect_to_another_scheme_is_refused(stand_in: StandIn, http: OutboundHttp) -> None:
    stand_in.script("GET", "/a", lambda: web.Response(status=302, headers={"Location": "file:///etc/passwd"}))
    with pytest.raises(PermanentError) as failure:
        await http.request("GET", stand_in.url("/a"), now=NOW)
    assert failure.value.category == "ssrf_blocked"


async def test_large_answers_are_read_only_up_to_the_limit(stand_in: StandIn) -> None:
    stand_in.script("GET", "/big", lambda: web.Response(body=b"x" * 5000))
    client = OutboundHttp(settings_for(stand_in, http_max_response_bytes=1024))
    try:
        response = await client.request("GET", stand_in.url("/big"), now=NOW)
    finally:
        await client.aclose()
    assert (len(response.content), response.truncated) == (1024, True)


async def test_a_url_that_is_not_http_is_permanent(http: OutboundHttp) -> None:
    for url in ("ftp://127.0.0.1/x", "not a url", "http:///nohost"):
        with pytest.raises(PermanentError) as failure:
            await http.request("GET", url, now=NOW)
        assert failure.value.category == "invalid_request"


async def test_the_user_agent_is_sent_unless_overridden(stand_in: StandIn, http: OutboundHttp) -> None:
    async def echo(seen: Seen) -> web.StreamResponse:
        return web.json_response({"ua": seen.header("User-Agent")})

    stand_in.route("GET", "/ua", echo)
    default = await http.request("GET", stand_in.url("/ua"), now=NOW)
    custom = await http.request("GET", stand_in.url("/ua"), now=NOW, headers={"user-agent": "mine"})
    assert json.loads(default.content)["ua"] == ActionSettings().user_agent
    assert json.loads(custom.content)["ua"] == "mine"


async def test_signature_timestamps_come_from_the_step_clock(stand_in: StandIn, http: OutboundHttp) -> None:
    stand_in.script("POST", "/s", lambda: web.Response(text="ok"))
    later = NOW + timedelta(hours=48)  # tests move the clock; the signature follows it
    await http.request("POST", stand_in.url("/s"), now=later, content=b"b", signing=[("k1", "k")])
    header = stand_in.seen[0].header("X-Beez-Signature") or ""
    assert header.startswith(f"t={int(later.timestamp())},kid=k1,v1=")
