"""The SSRF guard: refused addresses, after DNS, at every redirect, and at connect time."""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from beez.executor.actions import ActionError, ActionRegistry, ActionSettings, PermanentError, build_registry
from beez.executor.actions.http import OutboundHttp
from beez.executor.actions.ssrf import (
    AddressGuard,
    ResolutionError,
    SSRFBlocked,
    blocked_reason,
    system_resolver,
)
from tests.executor.actions.conftest import NOW, StandIn, make_ctx, settings_for


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("127.0.0.2", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "cloud metadata"),
        ("169.254.1.1", "link-local"),
        ("100.64.0.1", "shared address space (CGNAT)"),
        ("100.100.100.200", "cloud metadata"),
        ("0.0.0.0", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("240.0.0.1", "private"),
        ("255.255.255.255", "private"),
        ("::1", "loopback"),
        ("::", "unspecified"),
        ("fe80::1", "link-local"),
        ("fc00::1", "private"),
        ("fd00:ec2::254", "cloud metadata"),
        ("ff02::1", "multicast"),
        ("::ffff:127.0.0.1", "loopback (embedded in IPv6)"),
        ("::ffff:10.0.0.1", "private (embedded in IPv6)"),
        ("64:ff9b::a00:1", "private (embedded in IPv6)"),
        ("2002:a00:1::1", "private (embedded in IPv6)"),
        ("2001:db8::1", "private"),
    ],
)
def test_addresses_that_are_not_public_are_refused(address: str, reason: str) -> None:
    assert blocked_reason(ipaddress.ip_address(address)) == reason


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"])
def test_public_addresses_pass(address: str) -> None:
    assert blocked_reason(ipaddress.ip_address(address)) is None


@pytest.fixture
async def unguarded(stand_in: StandIn) -> AsyncIterator[ActionRegistry]:
    """A registry whose allowlist does not include the stand-in (127.0.0.1)."""
    actions = build_registry(settings_for(stand_in, ssrf_allowlist=[]))
    yield actions
    await actions.aclose()


async def test_loopback_without_an_allowlist_entry_is_refused_and_nothing_is_sent(
    stand_in: StandIn, unguarded: ActionRegistry
) -> None:
    stand_in.script("POST", "/hook", lambda: web.Response(text="ok"))
    for action, config in [
        ("webhook", {"url": stand_in.url("/hook")}),
        ("call_api", {"url": stand_in.url("/hook"), "method": "GET"}),
        ("send_slack", {"text": "hi", "webhook_url": stand_in.url("/hook")}),
        ("send_whatsapp", {"body": "hi"}),  # provider base URLs go through the guard too
    ]:
        with pytest.raises(PermanentError) as failure:
            await unguarded[action].run(make_ctx(config))
        assert failure.value.category == "ssrf_blocked", action
    assert stand_in.seen == []


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.1/internal",
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "http://[fd00:ec2::254]/latest/meta-data/",
        "http://[::1]:8080/",
        "http://[::ffff:127.0.0.1]/",
        "http://0.0.0.0:8080/",
        "http://100.64.0.1/",
        "http://localhost:8080/",
        "http://LOCALHOST./",
        "http://app.localhost/",
        "http://metadata.google.internal/computeMetadata/v1/",
        "http://2130706433/",  # 127.0.0.1 as one number: getaddrinfo reads it numerically
        "http://0x7f.1/",
    ],
)
async def test_private_loopback_and_metadata_destinations_are_refused(
    unguarded: ActionRegistry, url: str
) -> None:
    with pytest.raises(PermanentError) as failure:
        await unguarded["webhook"].run(make_ctx({"url": url}))
    assert failure.value.category == "ssrf_blocked"


async def test_a_public_looking_name_that_resolves_to_loopback_is_refused(stand_in: StandIn) -> None:
    async def resolver(host: str, port: int) -> list[str]:
        assert host == "hooks.partner.example"
        return ["127.0.0.1"]

    actions = build_registry(settings_for(stand_in, ssrf_allowlist=[]), resolver=resolver)
    try:
        with pytest.raises(PermanentError) as failure:
            await actions["webhook"].run(
                make_ctx({"url": f"http://hooks.partner.example:{stand_in.port}/hook"})
            )
    finally:
        await actions.aclose()
    assert failure.value.category == "ssrf_blocked"
    assert "hooks.partner.example (127.0.0.1): loopback" in str(failure.value)
    assert stand_in.seen == []


async def test_a_name_with_one_private_address_among_public_ones_is_refused(stand_in: StandIn) -> None:
    async def resolver(host: str, port: int) -> list[str]:
        return ["93.184.216.34", "10.0.0.5"]

    actions = build_registry(settings_for(stand_in, ssrf_allowlist=[]), resolver=resolver)
    try:
        with pytest.raises(PermanentError) as failure:
            await actions["webhook"].run(make_ctx({"url": "http://mixed.example/hook"}))
    finally:
        await actions.aclose()
    assert "10.0.0.5" in str(failure.value)


async def test_dns_rebinding_between_the_check_and_the_connection_is_refused(stand_in: StandIn) -> None:
    """The connection resolves again and checks what it connects to: a second answer pointing
    at loopback is refused, and no connection is made."""
    answers = [["93.184.216.34"], ["127.0.0.1"]]
    asked: list[str] = []

    async def rebinding(host: str, port: int) -> list[str]:
        asked.append(host)
        return answers.pop(0)

    actions = build_registry(settings_for(stand_in, ssrf_allowlist=[]), resolver=rebinding)
    try:
        with pytest.raises(PermanentError) as failure:
            await actions["webhook"].run(make_ctx({"url": f"http://rebind.example:{stand_in.port}/hook"}))
    finally:
        await actions.aclose()
    assert failure.value.category == "ssrf_blocked"
    assert asked == ["rebind.example", "rebind.example"]
    assert stand_in.seen == []


async def test_the_guarded_transport_alone_refuses_at_connect_time(stand_in: StandIn) -> None:
    stand_in.script("GET", "/", lambda: web.Response(text="ok"))
    settings = ActionSettings()
    async with OutboundHttp.guarded_client(AddressGuard([]), settings) as client:
        with pytest.raises(SSRFBlocked):
            await client.get(stand_in.url("/"))
    async with OutboundHttp.guarded_client(AddressGuard(["127.0.0.1"]), settings) as client:
        assert (await client.get(stand_in.url("/"))).text == "ok"
    assert len(stand_in.seen) == 1


@pytest.mark.parametrize(
    "target",
    [
        "http://10.0.0.1/admin",
        "http://169.254.169.254/latest/meta-data/",
        "http://127.0.0.2:{port}/hook",  # loopback, but not the allowlisted 127.0.0.1/32
        "http://localhost:{port}/hook",
        "http://[::1]:{port}/hook",
    ],
)
async def test_an_allowlisted_server_redirecting_to_a_private_address_is_refused_at_the_redirect(
    stand_in: StandIn, registry: ActionRegistry, target: str
) -> None:
    location = target.format(port=stand_in.port)
    stand_in.script("POST", "/hook", lambda: web.Response(status=307, headers={"Location": location}))
    with pytest.raises(PermanentError) as failure:
        await registry["webhook"].run(make_ctx({"url": stand_in.url("/hook")}))
    assert failure.value.category == "ssrf_blocked"
    assert [seen.path for seen in stand_in.seen] == ["/hook"]


async def test_allowlisted_host_names_and_cidrs_are_reachable(stand_in: StandIn) -> None:
    stand_in.script("GET", "/ok", lambda: web.Response(text="ok"))
    for allowlist, url in [
        (["localhost"], f"http://localhost:{stand_in.port}/ok"),
        (["*.localhost"], f"http://api.localhost:{stand_in.port}/ok"),
        (["127.0.0.0/8"], stand_in.url("/ok")),
    ]:

        async def resolver(host: str, port: int) -> list[str]:
            return ["127.0.0.1"]

        client = OutboundHttp(settings_for(stand_in, ssrf_allowlist=allowlist), resolver=resolver)
        try:
            assert (await client.request("GET", url, now=NOW)).text == "ok"
        finally:
            await client.aclose()
    assert len(stand_in.seen) == 3


async def test_the_system_resolver_is_used_by_default(stand_in: StandIn) -> None:
    assert any(ipaddress.ip_address(a).is_loopback for a in await system_resolver("localhost", 80))
    stand_in.script("GET", "/ok", lambda: web.Response(text="ok"))
    client = OutboundHttp(settings_for(stand_in, ssrf_allowlist=["localhost"]))
    try:
        assert (await client.request("GET", f"http://localhost:{stand_in.port}/ok", now=NOW)).text == "ok"
    finally:
        await client.aclose()


def test_a_bad_cidr_in_the_allowlist_is_a_settings_error() -> None:
    with pytest.raises(ValueError, match="ssrf_allowlist"):
        ActionSettings(ssrf_allowlist=["10.0.0.0/33"])


async def test_a_name_that_does_not_exist_is_permanent_and_a_failing_resolver_transient(
    stand_in: StandIn,
) -> None:
    async def nxdomain(host: str, port: int) -> list[str]:
        raise ResolutionError(f"{host} does not resolve", transient=False)

    async def servfail(host: str, port: int) -> list[str]:
        raise ResolutionError(f"{host} does not resolve", transient=True)

    for resolver, kind in [(nxdomain, "PermanentError"), (servfail, "TransientError")]:
        client = OutboundHttp(settings_for(stand_in), resolver=resolver)
        try:
            with pytest.raises(ActionError) as failure:
                await client.request("GET", "http://nowhere.example/", now=NOW)
        finally:
            await client.aclose()
        assert type(failure.value).__name__ == kind
        assert failure.value.category == "dns"


async def test_the_guarded_client_ignores_proxy_settings_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, stand_in: StandIn
) -> None:
    """A proxy would connect for us to addresses the guard never sees, so none is used."""
    monkeypatch.setenv("HTTP_PROXY", "http://10.0.0.9:3128")
    monkeypatch.setenv("ALL_PROXY", "http://10.0.0.9:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    stand_in.script("GET", "/direct", lambda: web.Response(text="direct"))
    async with OutboundHttp.guarded_client(AddressGuard(["127.0.0.1"]), ActionSettings()) as client:
        assert client.trust_env is False
        assert (await client.get(stand_in.url("/direct"))).text == "direct"
