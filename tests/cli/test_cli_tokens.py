"""``beez ... --token`` / ``BEEZ_TOKEN`` against a real production-mode gateway (issue #11).

The gateway verifies HS256 tokens with ``BEEZ_JWT_HS256_SECRET_FILE``, ``BEEZ_JWT_ISSUER`` and
``BEEZ_JWT_AUDIENCE`` and takes the organization, user and roles from the ``org_id``, ``sub``
and ``roles`` claims. Whatever the gateway answers, the CLI prints its reason, and never the token.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from tests.cli.conftest import ProductionGateway, beez, new_org
from tests.cli.tokens import hs256_token

ONBOARDING = Path(__file__).resolve().parents[2] / "examples" / "onboarding.json"


def assert_token_not_printed(output: str, token: str) -> None:
    assert token not in output
    assert token.rsplit(".", 1)[1] not in output  # nor its signature alone


async def gateway_reason(url: str, token: str | None) -> tuple[int, str]:
    """The HTTP status and the message the gateway answers ``GET /api/automations`` with."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient() as http:
        answer = await http.get(f"{url}/api/automations", headers=headers)
    return answer.status_code, str(answer.json()["message"])


async def test_without_a_token_the_401_reason_is_printed_with_how_to_send_one(
    production_gateway: ProductionGateway,
) -> None:
    status, reason = await gateway_reason(production_gateway.url, None)
    assert status == 401

    result = await beez(
        "automations", "list", env={"BEEZ_API_URL": production_gateway.url, "BEEZ_ORG": new_org()}
    )

    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"UNAUTHENTICATED: {reason}",
        "  the gateway wants a token: pass --token or set BEEZ_TOKEN",
    ]


async def test_a_bad_token_gets_the_401_reason_printed_and_the_token_never(
    production_gateway: ProductionGateway,
) -> None:
    token = hs256_token("not-the-gateways-secret", sub="user_mallory", org_id=new_org(), roles=["admin"])
    status, reason = await gateway_reason(production_gateway.url, token)
    assert status == 401

    result = await beez("automations", "--token", token, "list", env={"BEEZ_API_URL": production_gateway.url})

    assert result.exit_code == 1
    assert result.stderr.splitlines() == [f"UNAUTHENTICATED: {reason}"]
    assert_token_not_printed(result.output, token)


async def test_a_token_acts_for_the_organization_and_user_its_claims_name(
    production_gateway: ProductionGateway,
) -> None:
    org = new_org()
    token = hs256_token(production_gateway.secret, sub="user_grace", org_id=org, roles=["editor"])
    # --org names another organization: with a token, the token decides.
    flag = ["--api-url", production_gateway.url, "--token", token, "--org", new_org()]

    created = await beez("automations", *flag, "create", "-f", str(ONBOARDING), "--json")
    assert created.exit_code == 0, created.output
    automation = json.loads(created.stdout)["automation"]
    assert automation["createdBy"] == "user_grace"
    assert_token_not_printed(created.output, token)

    from_env = {"BEEZ_API_URL": production_gateway.url, "BEEZ_TOKEN": token}
    listed = await beez("automations", "list", "--json", env=from_env)
    assert listed.exit_code == 0, listed.output
    assert [a["id"] for a in json.loads(listed.stdout)["automations"]] == [automation["id"]]

    elsewhere = hs256_token(production_gateway.secret, sub="user_grace", org_id=new_org(), roles=["editor"])
    other_org = await beez("automations", "list", "--json", env={**from_env, "BEEZ_TOKEN": elsewhere})
    assert json.loads(other_org.stdout).get("automations", []) == []


async def test_a_role_without_the_permission_gets_the_403_reason_printed(
    production_gateway: ProductionGateway,
) -> None:
    token = hs256_token(production_gateway.secret, sub="user_vic", org_id=new_org(), roles=["viewer"])
    env = {"BEEZ_API_URL": production_gateway.url, "BEEZ_TOKEN": token}

    assert (await beez("automations", "list", env=env)).exit_code == 0
    result = await beez("automations", "create", "-f", str(ONBOARDING), env=env)

    assert result.exit_code == 1
    assert result.stderr.startswith("PERMISSION_DENIED: "), result.output
    assert_token_not_printed(result.output, token)
