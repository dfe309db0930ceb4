"""Outgoing HTTP against hostile or struggling providers: Retry-After bounds, decompression
bombs, and credentials on redirects to another origin."""

from __future__ import annotations

import functools
import gzip
import tracemalloc
import zlib
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from aiohttp import web

from beez.executor.actions import TransientError
from beez.executor.actions.http import OutboundHttp, parse_retry_after
from tests.executor.actions.conftest import NOW, StandIn, settings_for

BOMB_MIB = 64


@functools.cache
def gzip_bomb() -> bytes:
    """64 MiB of zeros, gzipped to about 64 KiB."""
    squeeze = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(1 << 20)
    return b"".join(squeeze.compress(block) for _ in range(BOMB_MIB)) + squeeze.flush()


@pytest.fixture
async def http(stand_in: StandIn) -> AsyncIterator[OutboundHttp]:
    client = OutboundHttp(settings_for(stand_in))
    yield client
    await client.aclose()


# --- Retry-After ---------------------------------------------------------------------------------


def test_a_huge_retry_after_is_capped_and_never_overflows() -> None:
    for huge in ("9" * 400, "99999999999999999999", "Fri, 31 Dec 9999 23:59:59 GMT"):
        seconds = parse_retry_after(huge, NOW, cap=3600)
        assert seconds == 3600
        NOW + timedelta(seconds=seconds)  # the retry timer's due time: no OverflowError
    for garbage in ("-5", "1e9", "Thu, 99 Foo 2026", "x" * 10_000, "٣"):
        assert parse_retry_after(garbage, NOW, cap=3600) is None


async def test_a_provider_asking_to_wait_for_ever_gets_the_cap_with_jitter(stand_in: StandIn) -> None:
    stand_in.script("POST", "/api", lambda: web.Response(status=429, headers={"Retry-After": "9" * 400}))
    client = OutboundHttp(settings_for(stand_in, http_retry_after_cap_s=600))
    try:
        with pytest.raises(TransientError) as failure:
            await client.request("POST", stand_in.url("/api"), now=NOW, content=b"{}")
    finally:
        await client.aclose()
    assert failure.value.category == "http_429"
    assert failure.value.retry_after == 600


async def test_retry_after_is_honoured_and_spread_by_jitter(stand_in: StandIn) -> None:
    stand_in.script("GET", "/api", lambda: web.Response(status=503, headers={"Retry-After": "100"}))
    client = OutboundHttp(settings_for(stand_in, http_retry_after_jitter=0.5, http_breaker_failures=0))
    waits = []
    try:
        for _ in range(8):
            with pytest.raises(TransientError) as failure:
                await client.request("GET", stand_in.url("/api"), now=NOW)
            waits.append(failure.value.retry_after)
    finally:
        await client.aclose()
    assert all(w is not None and 100 <= w <= 150 for w in waits)
    assert len(set(waits)) > 1, "every client would come back at the same second"


# --- decompression ---------------------------------------------------------------------------------


async def test_a_gzip_bomb_is_never_inflated_past_the_response_limit(stand_in: StandIn) -> None:
    bomb = gzip_bomb()
    assert len(bomb) < (BOMB_MIB << 20) // 500
    stand_in.script("GET", "/bomb", lambda: web.Response(body=bomb, headers={"Content-Encoding": "gzip"}))
    client = OutboundHttp(settings_for(stand_in))
    tracemalloc.start()
    try:
        response = await client.request("GET", stand_in.url("/bomb"), now=NOW)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        await client.aclose()
    assert (len(response.content), response.truncated) == (1_048_576, True)
    assert response.content == bytes(1_048_576)
    assert peak < 12 << 20, f"decoding held {peak / 2**20:.0f} MiB at once"


@pytest.mark.parametrize(
    ("encoding", "encode"),
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", lambda data: zlib.compress(data)[2:-4]),  # raw deflate, as some servers send it
    ],
)
async def test_compressed_answers_still_decode(
    stand_in: StandIn, http: OutboundHttp, encoding: str, encode: object
) -> None:
    payload = b'{"ok": true, "items": [' + b"1," * 5000 + b"1]}"
    body = encode(payload)  # type: ignore[operator]
    stand_in.script("GET", "/z", lambda: web.Response(body=body, headers={"Content-Encoding": encoding}))
    response = await http.request("GET", stand_in.url("/z"), now=NOW)
    assert (response.content, response.truncated) == (payload, False)
    assert stand_in.seen[0].header("Accept-Encoding") == "gzip, deflate"


# --- credentials on redirects --------------------------------------------------------------------


async def test_credential_headers_and_the_signature_stay_behind_on_a_cross_origin_redirect(
    stand_in: StandIn, other_stand_in: StandIn, http: OutboundHttp
) -> None:
    stand_in.script(
        "POST", "/a", lambda: web.Response(status=307, headers={"Location": other_stand_in.url("/b")})
    )
    other_stand_in.script("POST", "/b", lambda: web.Response(text="ok"))
    secrets = {
        "X-API-Key": "key-1",
        "Api-Key": "key-2",
        "X-Auth-Token": "tok",
        "X-Shop-Access-Token": "shop",
        "X-Tenant-Secret": "s",
    }

    await http.request(
        "POST",
        stand_in.url("/a"),
        now=NOW,
        content=b"{}",
        headers={**secrets, "X-Custom": "1"},
        signing=[("k1", "s3cret")],
        idempotency_key="key",
    )

    first, moved = stand_in.seen[0], other_stand_in.seen[0]
    for name, value in secrets.items():
        assert first.header(name) == value
        assert moved.header(name) is None, name
    assert first.header("X-Beez-Signature") is not None
    assert moved.header("X-Beez-Signature") is None
    assert moved.header("X-Custom") == "1"
    assert moved.header("X-Beez-Idempotency-Key") == "key"


async def test_a_header_the_caller_marks_as_a_credential_stays_behind_too(
    stand_in: StandIn, other_stand_in: StandIn, http: OutboundHttp
) -> None:
    stand_in.script(
        "GET", "/a", lambda: web.Response(status=302, headers={"Location": other_stand_in.url("/b")})
    )
    other_stand_in.script("GET", "/b", lambda: web.Response(text="ok"))

    await http.request(
        "GET",
        stand_in.url("/a"),
        now=NOW,
        headers={"X-Plain": "p", "X-Tenant": "t"},
        credential_headers=["x-tenant"],
    )

    assert stand_in.seen[0].header("X-Tenant") == "t"
    assert other_stand_in.seen[0].header("X-Tenant") is None
    assert other_stand_in.seen[0].header("X-Plain") == "p"


async def test_credentials_and_the_signature_follow_a_same_origin_redirect(
    stand_in: StandIn, http: OutboundHttp
) -> None:
    stand_in.script("POST", "/a", lambda: web.Response(status=308, headers={"Location": "/b"}))
    stand_in.script("POST", "/b", lambda: web.Response(text="ok"))

    await http.request(
        "POST",
        stand_in.url("/a"),
        now=NOW,
        content=b"{}",
        headers={"X-API-Key": "key-1"},
        signing=[("k1", "s3cret")],
    )

    moved = stand_in.seen[1]
    assert moved.header("X-API-Key") == "key-1"
    assert moved.header("X-Beez-Signature") is not None
