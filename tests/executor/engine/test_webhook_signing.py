"""Per-organization webhook signing secrets: rotated over gRPC, stored encrypted, signing each
organization's requests with its own secrets only, old and new both during the overlap
(a real executor on PostgreSQL and NATS, a real HTTP receiver)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from beez.api.executor.v1 import executor_pb2
from beez.executor import models
from beez.executor.actions.http import verify_signature
from tests.executor.engine.conftest import Executor, Flow, start_executor
from tests.support.providers import HttpStandIn, http_server


@dataclass
class Rig:
    executor: Executor
    receiver: HttpStandIn


@pytest.fixture(scope="module")
async def rig(admin_url: str, nats_url: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Rig]:
    ring = tmp_path_factory.mktemp("ring") / "signing-keys"
    ring.write_text(f"# the key ring\nk2026:{Fernet.generate_key().decode()}\n")
    async with (
        http_server() as receiver,
        start_executor(
            admin_url,
            nats_url,
            action_plugins=[],
            actions={"ssrf_allowlist": ["127.0.0.1/32"]},
            signing_keys_file=str(ring),
            signing_cache_s=0,
        ) as executor,
    ):
        yield Rig(executor, receiver)


async def rotate(flow: Flow, overlap_s: int = 0) -> executor_pb2.RotateWebhookSigningSecretResponse:
    request = executor_pb2.RotateWebhookSigningSecretRequest(overlap_seconds=overlap_s)
    response: executor_pb2.RotateWebhookSigningSecretResponse = (
        await flow.executor.stub.RotateWebhookSigningSecret(request, metadata=flow.metadata)
    )
    return response


async def keys(flow: Flow) -> list[executor_pb2.WebhookSigningKey]:
    response = await flow.executor.stub.ListWebhookSigningKeys(
        executor_pb2.ListWebhookSigningKeysRequest(), metadata=flow.metadata
    )
    return list(response.keys)


async def webhook(rig: Rig, flow: Flow) -> tuple[str, bytes, int]:
    """Runs a webhook step for ``flow``'s organization; the signature header, body and step time."""
    before = len(rig.receiver.requests)
    workflow: dict[str, Any] = {
        "actions": [
            {"id": "hook", "type": "webhook", "config": {"url": f"{rig.receiver.url}/hook", "body": {"a": 1}}}
        ]
    }
    execution_id = await flow.start(workflow)
    await flow.settled(execution_id, "completed")
    [request] = rig.receiver.requests[before:]
    return (
        request.headers.get("X-Beez-Signature", ""),
        request.body,
        int(flow.executor.clock.now().timestamp()),
    )


async def test_a_rotated_secret_signs_the_organizations_webhooks_with_its_key_id(rig: Rig) -> None:
    flow = Flow(rig.executor, "org_sign_a")
    rotated = await rotate(flow)
    assert rotated.secret.startswith("whsec_") and rotated.key.key_id.startswith("whk_")
    assert rotated.key.current and not rotated.key.HasField("expires_at")

    header, body, now = await webhook(rig, flow)
    assert f"kid={rotated.key.key_id}" in header
    assert verify_signature({rotated.key.key_id: rotated.secret}, header, body, now=now)
    assert [key.key_id for key in await keys(flow)] == [rotated.key.key_id]


async def test_the_secret_is_stored_encrypted_and_never_listed(rig: Rig) -> None:
    flow = Flow(rig.executor, "org_sign_stored")
    rotated = await rotate(flow)
    async with rig.executor.svc.runtime.db.sessions() as session:
        [row] = (
            await session.execute(
                select(models.WebhookSigningSecret).where(
                    models.WebhookSigningSecret.org_id == "org_sign_stored"
                )
            )
        ).scalars()
    assert row.encryption_key_id == "k2026"
    assert rotated.secret.encode() not in row.ciphertext
    assert rotated.secret not in str(await keys(flow))


async def test_during_a_rotation_old_and_new_secrets_both_verify_and_the_old_one_ends(rig: Rig) -> None:
    flow = Flow(rig.executor, "org_sign_rotate")
    old = await rotate(flow)
    new = await rotate(flow, overlap_s=3600)

    listed = await keys(flow)
    assert [(k.key_id, k.current) for k in listed] == [(new.key.key_id, True), (old.key.key_id, False)]
    header, body, now = await webhook(rig, flow)
    assert verify_signature({old.key.key_id: old.secret}, header, body, now=now)  # not switched yet
    assert verify_signature({new.key.key_id: new.secret}, header, body, now=now)  # switched
    assert header.index(new.key.key_id) < header.index(old.key.key_id)  # the current one first

    await flow.advance(seconds=3601)
    header, body, now = await webhook(rig, flow)
    assert old.key.key_id not in header
    assert not verify_signature({old.key.key_id: old.secret}, header, body, now=now)
    assert verify_signature({new.key.key_id: new.secret}, header, body, now=now)
    assert [k.key_id for k in await keys(flow)] == [new.key.key_id]


async def test_one_organization_never_signs_with_anothers_secret(rig: Rig) -> None:
    signer, other = Flow(rig.executor, "org_sign_owner"), Flow(rig.executor, "org_sign_other")
    owned = await rotate(signer)
    assert await keys(other) == []
    header, body, now = await webhook(rig, other)
    assert header == ""  # no secret of its own: unsigned, never the other's
    mine = await rotate(other)
    header, body, now = await webhook(rig, other)
    assert owned.key.key_id not in header
    assert not verify_signature({owned.key.key_id: owned.secret}, header, body, now=now)
    assert verify_signature({mine.key.key_id: mine.secret}, header, body, now=now)


async def test_a_bad_overlap_is_an_invalid_argument(rig: Rig) -> None:
    flow = Flow(rig.executor, "org_sign_bad")
    for overlap in (-1, 31 * 24 * 3600):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await rotate(flow, overlap)
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert await keys(flow) == []
