"""The shared server over mutual TLS, with real certificates: who may connect, who may act for an
organization, and a rotated certificate served without a restart."""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
from cryptography import x509
from grpc_health.v1 import health_pb2, health_pb2_grpc

from beez.api.analytics.v1 import analytics_pb2, analytics_pb2_grpc
from beez.api.permissions import PERMISSIONS, Role
from beez.kit.grpc.identity import current_identity
from beez.kit.grpc.peers import TrustedPeers
from beez.kit.grpc.server import Server, ServerSpec
from beez.kit.settings import ServiceSettings
from beez.kit.tls import CALLERS, Authority, TlsFiles, channel, write_bundle, write_issued

ORG = [("x-org-id", "org_1"), ("x-user-id", "u_1"), ("x-roles", "viewer")]


class Stats(analytics_pb2_grpc.AnalyticsServiceServicer):
    async def GetAutomationStats(
        self, request: analytics_pb2.GetAutomationStatsRequest, context: Any
    ) -> analytics_pb2.GetAutomationStatsResponse:
        return analytics_pb2.GetAutomationStatsResponse(automation_id=f"{current_identity().org_id}/ok")


async def items(request: bytes, context: Any) -> AsyncIterator[bytes]:
    for n in range(3):
        yield f"{current_identity().org_id}:{n}".encode()


FEED = grpc.method_handlers_generic_handler(
    "beez.testing.Feed", {"Items": grpc.unary_stream_rpc_method_handler(items)}
)
"""A server-streaming RPC (raw bytes): the peer check guards streams too."""


async def healthy() -> bool:
    return True


@dataclass
class Secure:
    server: Server
    authority: Authority
    certs: dict[str, TlsFiles]
    foreign: TlsFiles
    directory: Path

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.server.port}"


def analytics_server(tls: TlsFiles, allowed: Iterable[str]) -> Server:
    """The stats service over mutual TLS, taking identity metadata from ``allowed`` callers only."""

    def register(server: grpc.aio.Server) -> None:
        analytics_pb2_grpc.add_AnalyticsServiceServicer_to_server(Stats(), server)
        server.add_generic_rpc_handlers([FEED])

    spec = ServerSpec(register, ["beez.api.analytics.v1.AnalyticsService"], {"always": healthy})
    return Server(
        spec,
        "127.0.0.1",
        0,
        health_interval_s=0.1,
        drain_grace_s=0.1,
        tls=tls,
        peers=TrustedPeers(allowed),
        permissions={**PERMISSIONS, "/beez.testing.Feed/Items": Role.VIEWER},
    )


@pytest.fixture
async def secure(tmp_path: Path) -> AsyncIterator[Secure]:
    authority = Authority.create()
    certs = write_bundle(tmp_path / "ours", ["analytics", "gateway", "billing-export"], authority=authority)
    foreign = write_bundle(tmp_path / "theirs", ["gateway"])["gateway"]
    server = analytics_server(certs["analytics"], CALLERS)
    await server.start()
    yield Secure(server, authority, certs, foreign, tmp_path / "ours")
    await server.stop()


async def stats(ch: grpc.aio.Channel) -> str:
    reply = await analytics_pb2_grpc.AnalyticsServiceStub(ch).GetAutomationStats(
        analytics_pb2.GetAutomationStatsRequest(automation_id="a1"), metadata=ORG, timeout=5
    )
    return str(reply.automation_id)


async def refused(ch: grpc.aio.Channel) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stats(ch)
    return err.value


async def test_a_caller_with_a_certificate_of_the_ca_naming_an_allowed_caller_is_served(
    secure: Secure,
) -> None:
    async with channel(secure.address, secure.certs["gateway"]) as ch:
        assert await stats(ch) == "org_1/ok"
    async with channel(f"localhost:{secure.server.port}", secure.certs["gateway"]) as ch:
        assert await stats(ch) == "org_1/ok"


async def test_a_client_without_a_certificate_is_refused(secure: Secure) -> None:
    trusting = grpc.ssl_channel_credentials(root_certificates=secure.certs["gateway"].ca_file.read_bytes())
    async with grpc.aio.secure_channel(secure.address, trusting) as ch:
        assert (await refused(ch)).code() == grpc.StatusCode.UNAVAILABLE


async def test_a_plaintext_client_is_refused(secure: Secure) -> None:
    async with grpc.aio.insecure_channel(secure.address) as ch:
        assert (await refused(ch)).code() == grpc.StatusCode.UNAVAILABLE


async def test_a_certificate_from_another_ca_is_refused(secure: Secure) -> None:
    foreign_but_trusting_ours = TlsFiles(
        secure.foreign.cert_file, secure.foreign.key_file, secure.certs["gateway"].ca_file
    )
    async with channel(secure.address, foreign_but_trusting_ours) as ch:
        assert (await refused(ch)).code() == grpc.StatusCode.UNAVAILABLE


async def test_a_certificate_naming_a_caller_not_allowed_may_not_pass_an_identity(secure: Secure) -> None:
    async with channel(secure.address, secure.certs["billing-export"]) as ch:
        error = await refused(ch)
        assert error.code() == grpc.StatusCode.PERMISSION_DENIED
        assert "billing-export" in (error.details() or "")
        health = await health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(), timeout=5)
        assert health.status == health_pb2.HealthCheckResponse.SERVING


async def test_a_platform_caller_listed_in_the_settings_may_act_for_an_organization(
    secure: Secure, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``BEEZ_TLS_ALLOWED_CALLERS`` names the internal platform callers besides the defaults."""
    monkeypatch.setenv("BEEZ_TLS_ALLOWED_CALLERS", f"{','.join(CALLERS)},billing-export")
    server = analytics_server(secure.certs["analytics"], ServiceSettings().allowed_callers())
    await server.start()
    try:
        address = f"127.0.0.1:{server.port}"
        async with channel(address, secure.certs["billing-export"]) as ch:
            assert await stats(ch) == "org_1/ok"
        async with channel(address, secure.certs["gateway"]) as ch:
            assert await stats(ch) == "org_1/ok"
    finally:
        await server.stop()


def served_certificate(port: int, client: TlsFiles) -> x509.Certificate:
    """The certificate the server presents on a new TLS connection (stdlib ssl, ALPN h2)."""
    context = ssl.create_default_context(cafile=str(client.ca_file))
    context.load_cert_chain(client.cert_file, client.key_file)
    context.set_alpn_protocols(["h2"])
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname="localhost") as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    return x509.load_der_x509_certificate(der)


async def test_a_replaced_certificate_is_served_without_a_restart(secure: Secure) -> None:
    gateway = secure.certs["gateway"]
    before = await asyncio.to_thread(served_certificate, secure.server.port, gateway)
    assert before == x509.load_pem_x509_certificate(secure.certs["analytics"].cert_file.read_bytes())

    rotated = secure.authority.issue("analytics")
    write_issued(secure.directory, "analytics", rotated, secure.certs["analytics"].ca_file)

    after = await asyncio.to_thread(served_certificate, secure.server.port, gateway)
    assert after == x509.load_pem_x509_certificate(rotated.cert_pem)
    assert after.serial_number != before.serial_number
    async with channel(secure.address, gateway) as ch:
        assert await stats(ch) == "org_1/ok"


async def test_a_rotation_to_a_new_ca_takes_effect_for_new_connections(secure: Secure) -> None:
    """The CA file is re-read too: after rotating to a new CA, its certificates are accepted and the
    old CA's are refused."""
    new = Authority.create()
    ca_file = secure.certs["analytics"].ca_file
    ca_file.write_bytes(new.cert_pem)
    write_issued(secure.directory, "analytics", new.issue("analytics"), ca_file)
    newcomer = write_issued(secure.directory / "new", "gateway", new.issue("gateway"), ca_file)

    async with channel(secure.address, newcomer) as ch:
        assert await stats(ch) == "org_1/ok"
    old = TlsFiles(secure.certs["gateway"].cert_file, secure.certs["gateway"].key_file, ca_file)
    async with channel(secure.address, old) as ch:
        assert (await refused(ch)).code() == grpc.StatusCode.UNAVAILABLE


async def test_streaming_calls_are_guarded_the_same_way(secure: Secure) -> None:
    async def feed(holder: str) -> list[bytes]:
        async with channel(secure.address, secure.certs[holder]) as ch:
            call = ch.unary_stream("/beez.testing.Feed/Items")(b"", metadata=ORG, timeout=5)
            return [item async for item in call]

    assert await feed("gateway") == [b"org_1:0", b"org_1:1", b"org_1:2"]
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await feed("billing-export")
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_a_half_written_rotation_keeps_the_current_certificate_until_it_is_complete(
    secure: Secure,
) -> None:
    gateway, analytics = secure.certs["gateway"], secure.certs["analytics"]
    current = x509.load_pem_x509_certificate(analytics.cert_file.read_bytes())
    rotated = secure.authority.issue("analytics")
    analytics.cert_file.write_bytes(rotated.cert_pem)  # the key has not arrived yet

    assert await asyncio.to_thread(served_certificate, secure.server.port, gateway) == current
    async with channel(secure.address, gateway) as ch:
        assert await stats(ch) == "org_1/ok"

    analytics.key_file.write_bytes(rotated.key_pem)
    served = await asyncio.to_thread(served_certificate, secure.server.port, gateway)
    assert served == x509.load_pem_x509_certificate(rotated.cert_pem)


async def test_a_file_missing_mid_rotation_keeps_the_current_certificate(secure: Secure) -> None:
    gateway, analytics = secure.certs["gateway"], secure.certs["analytics"]
    current = x509.load_pem_x509_certificate(analytics.cert_file.read_bytes())
    key = analytics.key_file.read_bytes()
    analytics.key_file.unlink()

    assert await asyncio.to_thread(served_certificate, secure.server.port, gateway) == current
    async with channel(secure.address, gateway) as ch:
        assert await stats(ch) == "org_1/ok"
    analytics.key_file.write_bytes(key)
