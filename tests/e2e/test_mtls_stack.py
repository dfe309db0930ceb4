"""The whole stack in production mode: five services and the gateway, each with a certificate of a
throwaway CA (``Stack.plan(tls_dir=...)``), NATS over TLS with a user per service, and the
gateway verifying JWTs (HS256 from a secret file, as a test identity provider would issue them).

It proves that a client without a certificate, with one of another CA, or in plaintext is
refused; that a certificate of the CA naming a caller that is not allowed may not act for an
organization; and that an automation created through the gateway runs to completion over NATS,
with every gRPC hop (gateway to services, automation to analytics, health checks) over mTLS and
every REST call tied to a verified token: none or a forged one is refused, a viewer may not
create, and another organization's token finds nothing.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest

from beez.api.automation.v1 import automation_pb2, automation_pb2_grpc
from beez.kit.embedded import free_port
from beez.kit.stack import GATEWAY, STACK_HOLDER, Dependencies, Stack, migrate_all
from beez.kit.tls import TlsFiles, channel, write_bundle
from tests.cli.tokens import AUDIENCE, ISSUER, hs256_token
from tests.support.servers import unique_prefix

ORG = "org_mtls"
WORKFLOW = {
    "name": "Tag VIPs",
    "trigger": {"type": "list_joined", "filters": {"list": "VIP"}},
    "actions": [{"type": "add_tag", "config": {"tag": "VIP"}}],
}


@dataclass
class Secure:
    stack: Stack
    tls_dir: Path
    foreign: TlsFiles
    jwt_secret: str

    def token(self, org: str = ORG, roles: tuple[str, ...] = ("editor",), secret: str = "") -> str:
        return hs256_token(secret or self.jwt_secret, org_id=org, sub="u_mtls", roles=list(roles))

    def bearer(self, **kwargs: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(**kwargs)}"}

    def address(self, name: str) -> str:
        return self.stack.services[name].address

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.stack.services[GATEWAY].port}/api"

    def ours(self, holder: str) -> TlsFiles:
        return TlsFiles(
            self.tls_dir / f"{holder}.pem", self.tls_dir / f"{holder}-key.pem", self.tls_dir / "ca.pem"
        )


@pytest.fixture(scope="module")
async def secure(admin_url: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Secure]:
    logs = tmp_path_factory.mktemp("mtls")
    prefix = unique_prefix()
    # Production mode needs NATS over TLS with a user per service: an embedded nats-server of the
    # stack's own, running the deployed permission model.
    deps = Dependencies.start(logs, admin_url=admin_url, bus_prefix=prefix, nats_tls_dir=logs / "nats-tls")
    migrate_all(deps.database_url)
    jwt_secret = secrets.token_urlsafe(48)
    (logs / "jwt-secret").write_text(jwt_secret)
    stack = Stack.plan(
        deps,
        logs,
        prefix=prefix,
        gateway_port=free_port(),
        tls_dir=logs / "tls",
        # The suite's PostgreSQL has no TLS: production's database check is told so.
        env={"BEEZ_DATABASE_ALLOW_INSECURE": "true"},
        service_env={
            GATEWAY: {
                "BEEZ_HTTP_HOST": "127.0.0.1",
                "BEEZ_JWT_HS256_SECRET_FILE": str(logs / "jwt-secret"),
                "BEEZ_JWT_ISSUER": ISSUER,
                "BEEZ_JWT_AUDIENCE": AUDIENCE,
            }
        },
    ).start()
    foreign = write_bundle(logs / "foreign", ["gateway"])["gateway"]
    try:
        await stack.serving(timeout=90)
        async with httpx.AsyncClient(timeout=10) as http:
            for _ in range(200):
                try:
                    if (
                        await http.get(f"http://127.0.0.1:{stack.services[GATEWAY].port}/readyz")
                    ).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
            else:
                pytest.fail(f"the gateway never became ready:\n{stack.services[GATEWAY].log_tail()}")
        yield Secure(stack, logs / "tls", foreign, jwt_secret)
    finally:
        stack.stop()


async def list_automations(address: str, ch: grpc.aio.Channel) -> None:
    await automation_pb2_grpc.AutomationServiceStub(ch).ListAutomations(
        automation_pb2.ListAutomationsRequest(),
        metadata=[("x-org-id", ORG), ("x-roles", "viewer")],
        timeout=5,
    )


async def refusal(address: str, ch: grpc.aio.Channel) -> grpc.StatusCode:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await list_automations(address, ch)
    return err.value.code()


async def test_every_service_serves_only_mutual_tls(secure: Secure) -> None:
    for name in ("automation", "trigger", "executor", "beezora", "analytics"):
        address = secure.address(name)
        async with grpc.aio.insecure_channel(address) as ch:
            assert await refusal(address, ch) == grpc.StatusCode.UNAVAILABLE, name
        no_cert = grpc.ssl_channel_credentials(root_certificates=(secure.tls_dir / "ca.pem").read_bytes())
        async with grpc.aio.secure_channel(address, no_cert) as ch:
            assert await refusal(address, ch) == grpc.StatusCode.UNAVAILABLE, name
        another_ca = TlsFiles(secure.foreign.cert_file, secure.foreign.key_file, secure.tls_dir / "ca.pem")
        async with channel(address, another_ca) as ch:
            assert await refusal(address, ch) == grpc.StatusCode.UNAVAILABLE, name


async def test_only_allowed_callers_may_act_for_an_organization(secure: Secure) -> None:
    address = secure.address("automation")
    async with channel(address, secure.ours(STACK_HOLDER)) as ch:
        assert await refusal(address, ch) == grpc.StatusCode.PERMISSION_DENIED
    async with channel(address, secure.ours("trigger")) as ch:
        await list_automations(address, ch)


async def test_the_gateway_takes_only_verified_tokens_with_the_role_a_call_needs(secure: Secure) -> None:
    async with httpx.AsyncClient(timeout=10) as http:
        headers_only = {"X-Org-Id": ORG, "X-User-Id": "u_mtls"}
        assert (await http.get(f"{secure.api}/automations", headers=headers_only)).status_code == 401
        forged = secure.bearer(secret=secrets.token_urlsafe(48))
        answer = await http.get(f"{secure.api}/automations", headers=forged)
        assert answer.status_code == 401
        assert forged["Authorization"].split()[1] not in answer.text
        viewer = secure.bearer(roles=("viewer",))
        assert (await http.get(f"{secure.api}/automations", headers=viewer)).status_code == 200
        refused = await http.post(f"{secure.api}/automations", json=WORKFLOW, headers=viewer)
        assert refused.status_code == 403, refused.text
        made = await http.post(f"{secure.api}/automations", json=WORKFLOW, headers=secure.bearer())
        assert made.status_code == 200, made.text
        automation = made.json()["automation"]
        assert automation["createdBy"] == "u_mtls"
        elsewhere = secure.bearer(org="org_other", roles=("admin",))
        hidden = await http.get(f"{secure.api}/automations/{automation['id']}", headers=elsewhere)
        assert hidden.status_code == 404, hidden.text


async def test_an_automation_created_through_the_gateway_runs_to_completion(secure: Secure) -> None:
    async with httpx.AsyncClient(timeout=10, headers=secure.bearer()) as http:
        made = await http.post(f"{secure.api}/automations", json=WORKFLOW)
        assert made.status_code == 200, made.text
        automation_id = made.json()["automation"]["id"]
        executions: list[dict[str, Any]] = []
        for attempt in range(100):  # the trigger indexes the new automation within milliseconds
            event = {
                "id": f"evt_mtls_{attempt}",
                "type": "list.joined",
                "contactId": "c_mtls",
                "data": {"list": "VIP"},
            }
            published = await http.post(f"{secure.api}/automations/events/publish", json=event)
            assert published.status_code == 200, published.text
            listing = await http.get(f"{secure.api}/automations/{automation_id}/executions")
            executions = listing.json().get("executions", [])
            if executions:
                break
            await asyncio.sleep(0.1)
        assert executions, "no execution started"
        execution: dict[str, Any] = {}
        for _ in range(200):
            shown = await http.get(f"{secure.api}/automations/executions/{executions[0]['id']}")
            execution = shown.json()["execution"]
            if execution["status"].endswith("COMPLETED"):
                break
            await asyncio.sleep(0.1)
        assert execution["status"].endswith("COMPLETED"), execution
        stats: dict[str, Any] = {}
        for _ in range(200):  # automation asks analytics over mTLS; analytics folds the lifecycle in
            stats = (
                (await http.get(f"{secure.api}/automations/{automation_id}"))
                .json()["automation"]
                .get("stats", {})
            )
            if int(stats.get("succeeded", 0)):
                break
            await asyncio.sleep(0.1)
        assert int(stats.get("succeeded", 0)) >= 1, stats
    log = secure.stack.services["automation"].log_path.read_text()
    assert "analytics unavailable" not in log
