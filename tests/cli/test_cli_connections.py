"""``beez connections ...`` and the REST routes under /api/automations/connections, through a
real local-mode gateway in front of a real executor (decision 0040), with a Slack stand-in."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from aiohttp import web

from beez.kit.embedded import free_port
from tests.cli.conftest import beez, executor_gateway, new_org
from tests.support.inproc import running_service
from tests.support.providers import serving
from tests.support.servers import create_database, drop_database, unique_prefix

TOKEN = "xoxb-cli-secret-bot-token-0001"


async def slack(request: web.Request) -> web.Response:
    good = request.headers.get("Authorization") == f"Bearer {TOKEN}"
    return web.json_response({"ok": True, "team": "Beez"} if good else {"ok": False, "error": "invalid_auth"})


@pytest.fixture(scope="module")
async def gateway(admin_url: str, nats_url: str) -> AsyncIterator[str]:
    database_url = create_database(admin_url)
    port = free_port()
    actions = {
        "ssrf_allowlist": ["127.0.0.1/32"],
        "provider_base_urls": {"slack": f"http://127.0.0.1:{port}/api"},
    }
    try:
        async with (
            serving(slack, port),
            running_service("executor", database_url, nats_url, unique_prefix(), actions=actions) as executor,
            executor_gateway(executor.server.port) as url,
        ):
            yield url
    finally:
        drop_database(admin_url, database_url)


async def test_connections_over_rest_never_return_credentials(gateway: str) -> None:
    org = new_org()
    admin = {"X-Org-Id": org, "X-Roles": "admin"}
    async with httpx.AsyncClient(base_url=gateway) as http:
        created = await http.post(
            "/api/automations/connections",
            json={"provider": "slack", "name": "team", "credentials": {"botToken": TOKEN}},
            headers=admin,
        )
        assert created.status_code == 400, "credential names are the provider's, not camel-cased"
        created = await http.post(
            "/api/automations/connections",
            json={"provider": "slack", "name": "team", "credentials": {"bot_token": TOKEN}},
            headers=admin,
        )
        assert created.status_code == 200, created.text
        connection = created.json()["connection"]
        assert connection["credentialFields"] == ["bot_token"] and TOKEN not in created.text
        listed = await http.get(
            "/api/automations/connections", headers={"X-Org-Id": org, "X-Roles": "viewer"}
        )
        assert [c["id"] for c in listed.json()["connections"]] == [connection["id"]]
        one = await http.get(f"/api/automations/connections/{connection['id']}", headers=admin)
        assert one.status_code == 200 and TOKEN not in one.text
        tested = await http.post(
            f"/api/automations/connections/{connection['id']}:test", json={}, headers=admin
        )
        assert tested.json()["ok"] is True
        limited = await http.put(
            f"/api/automations/connections/{connection['id']}/rate-limit",
            json={"rateLimit": {"perSecond": 2}},
            headers=admin,
        )
        assert limited.json()["connection"]["effectiveRateLimit"] == {"perSecond": 2, "burst": 4}
        denied = await http.post(
            "/api/automations/connections",
            json={"provider": "slack", "name": "x", "credentials": {"bot_token": TOKEN}},
            headers={"X-Org-Id": org, "X-Roles": "editor"},
        )
        assert denied.status_code == 403
        other = await http.get(
            f"/api/automations/connections/{connection['id']}", headers={"X-Org-Id": new_org()}
        )
        assert other.status_code == 404
        gone = await http.delete(f"/api/automations/connections/{connection['id']}", headers=admin)
        assert gone.status_code == 200
        assert (
            await http.get(f"/api/automations/connections/{connection['id']}", headers=admin)
        ).status_code == 404


async def test_beez_connections_create_list_show_test_rotate_delete(gateway: str, tmp_path: Path) -> None:
    env = {"BEEZ_API_URL": gateway, "BEEZ_ORG": new_org()}
    created = await beez(
        "connections", "create", "slack", "team", "-c", f"bot_token={TOKEN}", "--json", env=env
    )
    assert created.exit_code == 0, created.output
    [connection] = json.loads(created.stdout)["connections"]
    assert TOKEN not in created.output
    listed = await beez("connections", "list", env=env)
    assert listed.exit_code == 0 and "team" in listed.stdout and "bot_token" in listed.stdout
    shown = await beez("connections", "show", connection["id"], "--json", env=env)
    assert json.loads(shown.stdout)["connections"][0]["name"] == "team"
    tested = await beez("connections", "test", connection["id"], env=env)
    assert tested.exit_code == 0 and "ok" in tested.stdout

    secrets = tmp_path / "slack.json"
    secrets.write_text(json.dumps({"bot_token": "xoxb-wrong-token-000000"}))
    rotated = await beez(
        "connections", "rotate", connection["id"], "--credentials-file", str(secrets), env=env
    )
    assert rotated.exit_code == 0, rotated.output
    failed = await beez("connections", "test", connection["id"], env=env)
    assert failed.exit_code == 1 and "invalid_auth" in failed.stdout

    bad = await beez("connections", "create", "slack", "x", "-c", "colour=blue", env=env)
    assert bad.exit_code != 0 and "credentials.colour" in bad.output
    deleted = await beez("connections", "delete", connection["id"], env=env)
    assert deleted.exit_code == 0
    assert (await beez("connections", "show", connection["id"], env=env)).exit_code != 0
