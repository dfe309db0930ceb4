"""``beez limits show|set`` through a real local-mode gateway and executor (decision 0023)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.cli.conftest import beez, executor_gateway, new_org
from tests.support.inproc import running_service
from tests.support.servers import create_database, drop_database, unique_prefix


@pytest.fixture(scope="module")
async def gateway(admin_url: str, nats_url: str) -> AsyncIterator[str]:
    """A local-mode gateway in front of an executor whose deployment caps messages at 500."""
    database_url = create_database(admin_url)
    try:
        async with (
            running_service(
                "executor", database_url, nats_url, unique_prefix(), max_messages_per_execution=500
            ) as executor,
            executor_gateway(executor.server.port) as url,
        ):
            yield url
    finally:
        drop_database(admin_url, database_url)


async def test_limits_show_and_set_for_the_organization(gateway: str) -> None:
    env = {"BEEZ_API_URL": gateway, "BEEZ_ORG": new_org()}
    shown = await beez("limits", "show", env=env)
    assert shown.exit_code == 0, shown.output
    assert "messages per execution" in shown.stdout and "500" in shown.stdout

    changed = await beez("limits", "set", "--max-messages", "25", "--json", env=env)
    assert changed.exit_code == 0, changed.output
    assert json.loads(changed.stdout) == {
        "maxStepsPerExecution": 10000,
        "maxMessagesPerExecution": 25,
        "defaultMaxStepsPerExecution": 10000,
        "defaultMaxMessagesPerExecution": 500,
    }
    mine = json.loads((await beez("limits", "show", "--json", env=env)).stdout)
    assert mine["maxMessagesPerExecution"] == 25
    theirs = json.loads((await beez("limits", "show", "--json", env={**env, "BEEZ_ORG": new_org()})).stdout)
    assert theirs["maxMessagesPerExecution"] == 500


async def test_setting_limits_needs_the_admin_role_and_valid_values(gateway: str) -> None:
    env = {"BEEZ_API_URL": gateway, "BEEZ_ORG": new_org()}
    bad = await beez("limits", "set", "--max-messages", "-3", env=env)
    assert bad.exit_code != 0
    assert "INVALID_ARGUMENT" in bad.output and "max_messages_per_execution" in bad.output

    # the REST route the CLI uses: an editor may read the caps, not set them
    headers = {"X-Org-Id": env["BEEZ_ORG"], "X-Roles": "editor"}
    async with httpx.AsyncClient(base_url=gateway, headers=headers) as http:
        assert (await http.get("/api/automations/limits")).status_code == 200
        denied = await http.put("/api/automations/limits", json={"maxMessagesPerExecution": 5})
    assert denied.status_code == 403
