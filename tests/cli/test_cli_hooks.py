"""``beez hooks create|list|get|rotate|delete`` through real gateways in front of a real trigger, and
a POST to the URL the CLI printed: in local mode, and in production mode (JWT for the CLI, no token
at all for the sender, mutual TLS from the gateway to the trigger)."""

from __future__ import annotations

import json
import re
import time

import httpx

from beez.trigger.domain.hooks import signature_header
from tests.cli.conftest import ProductionGateway, beez, new_org
from tests.cli.tokens import hs256_token


def printed(output: str, label: str) -> str:
    found = re.search(rf"^{label}:\s+(\S+)$", output, re.MULTILINE)
    assert found, output
    return found[1]


async def post(url: str, body: bytes, secret: str | None = None) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Beez-Signature"] = signature_header(secret, int(time.time()), body)
    async with httpx.AsyncClient() as http:
        return await http.post(url, content=body, headers=headers)


async def test_create_list_rotate_delete_and_deliver_through_the_printed_url(local_gateway: str) -> None:
    env = {"BEEZ_API_URL": local_gateway, "BEEZ_ORG": new_org()}
    made = await beez(
        "hooks", "create", "--name", "shop", "--event-type", "order.paid", "--require-signature", env=env
    )
    assert made.exit_code == 0, made.output
    url, secret = printed(made.stdout, "url"), printed(made.stdout, "secret")
    assert url.startswith(f"{local_gateway}/hooks/{env['BEEZ_ORG']}.")
    hook_id = made.stdout.split()[0]

    body = b'{"order": 1}'
    assert (await post(url, body)).status_code == 401
    delivered = await post(url, body, secret)
    assert delivered.status_code == 202, delivered.text
    assert delivered.json()["hookId"] == hook_id

    listed = await beez("hooks", "list", "--json", env=env)
    assert listed.exit_code == 0, listed.output
    [hook] = json.loads(listed.stdout)["hooks"]
    assert hook["id"] == hook_id and hook["eventType"] == "order.paid" and hook["requireSignature"]
    shown = await beez("hooks", "get", hook_id, env=env)
    table = await beez("hooks", "list", env=env)
    for output in (listed.stdout, shown.stdout, table.stdout):
        assert secret not in output and url.rpartition(".")[2] not in output

    rotated = await beez("hooks", "rotate", hook_id, env=env)
    assert rotated.exit_code == 0, rotated.output
    new_url, new_secret = printed(rotated.stdout, "url"), printed(rotated.stdout, "secret")
    assert new_url != url and new_secret != secret
    assert (await post(url, body, secret)).status_code == 404
    assert (await post(new_url, body, new_secret)).status_code == 202

    gone = await beez("hooks", "delete", hook_id, env=env)
    assert gone.exit_code == 0 and gone.stdout.strip() == f"deleted {hook_id}"
    assert (await post(new_url, body, new_secret)).status_code == 404
    missing = await beez("hooks", "rotate", hook_id, env=env)
    assert missing.exit_code == 1 and "NOT_FOUND" in missing.stderr


async def test_a_bad_contact_id_path_is_named(local_gateway: str) -> None:
    env = {"BEEZ_API_URL": local_gateway, "BEEZ_ORG": new_org()}
    result = await beez("hooks", "create", "--contact-id-path", "data. id", env=env)
    assert result.exit_code == 1
    assert "INVALID_ARGUMENT" in result.stderr and "contactIdPath:" in result.stderr


async def test_in_production_the_sender_needs_no_token_and_a_viewer_cannot_create(
    production_gateway: ProductionGateway,
) -> None:
    org = new_org()
    admin = hs256_token(production_gateway.secret, sub="user_admin", org_id=org, roles=["admin"])
    viewer = hs256_token(production_gateway.secret, sub="user_viewer", org_id=org, roles=["viewer"])
    env = {"BEEZ_API_URL": production_gateway.url}

    refused = await beez("hooks", "--token", viewer, "create", env=env)
    assert refused.exit_code == 1 and "PERMISSION_DENIED" in refused.stderr

    made = await beez("hooks", "--token", admin, "create", env=env)
    assert made.exit_code == 0, made.output
    url = printed(made.stdout, "url")
    delivered = await post(url, b'{"from": "outside"}')
    assert delivered.status_code == 202, delivered.text

    listed = await beez("hooks", "--token", viewer, "list", "--json", env=env)
    assert listed.exit_code == 0, listed.output
    assert len(json.loads(listed.stdout)["hooks"]) == 1
