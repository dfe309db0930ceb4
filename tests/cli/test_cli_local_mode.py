"""``beez automations|events ...`` through a real local-mode gateway, as after ``make run``.

Every command goes over HTTP to the gateway, which calls the real services; the organization
travels in ``X-Org-Id``. Errors come back as the gateway's ``google.rpc.Status`` JSON and are
printed as ``CODE: message`` with one ``  field: description`` line per violation.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from beez.cli.main import app
from beez.kit.embedded import free_port
from tests.cli.conftest import beez, new_org

ONBOARDING = Path(__file__).resolve().parents[2] / "examples" / "onboarding.json"


async def test_commands_reach_the_services_through_the_gateway_for_the_given_organization(
    local_gateway: str,
) -> None:
    org = new_org()
    env = {"BEEZ_API_URL": local_gateway, "BEEZ_ORG": org, "BEEZ_USER": "user_ada"}

    created = await beez("automations", "create", "-f", str(ONBOARDING), "--json", env=env)
    assert created.exit_code == 0, created.output
    automation = json.loads(created.stdout)["automation"]
    assert automation["createdBy"] == "user_ada"
    automation_id = automation["id"]

    listed = await beez("automations", "list", "--json", env=env)
    assert listed.exit_code == 0, listed.output
    assert [a["id"] for a in json.loads(listed.stdout)["automations"]] == [automation_id]
    elsewhere = await beez("automations", "list", "--json", env={**env, "BEEZ_ORG": new_org()})
    assert json.loads(elsewhere.stdout).get("automations", []) == []

    got = await beez("automations", "get", automation_id, env=env)
    assert got.exit_code == 0, got.output
    assert json.loads(got.stdout)["workflow"]["name"] == "New contact onboarding"

    toggled = await beez("automations", "toggle", automation_id, "--inactive", env=env)
    assert toggled.stdout.strip() == f"{automation_id} is inactive", toggled.output

    valid = await beez("automations", "validate", "-f", str(ONBOARDING), env=env)
    assert (valid.exit_code, valid.stdout.strip()) == (0, "valid"), valid.output

    resynced = await beez("automations", "resync", env=env)
    assert resynced.stdout.strip() == "announced 1 automations again", resynced.output

    event = ["events", "publish", "--type", "list.joined", "--contact", "c_1", "--id", f"evt_{org}"]
    assert (await beez(*event, env=env)).stdout.strip() == f"evt_{org}: accepted"
    assert (await beez(*event, env=env)).stdout.strip() == f"evt_{org}: duplicate, ignored"

    deleted = await beez("automations", "delete", automation_id, env=env)
    assert deleted.stdout.strip() == f"deleted {automation_id}", deleted.output
    gone = await beez("automations", "get", automation_id, env=env)
    assert gone.exit_code == 1
    assert gone.stderr.startswith("NOT_FOUND: "), gone.output


@pytest.mark.parametrize(("flags", "active"), [([], True), (["--inactive"], False), (["--active"], True)])
async def test_create_is_active_unless_inactive_is_asked_for(
    local_gateway: str, flags: list[str], active: bool
) -> None:
    env = {"BEEZ_API_URL": local_gateway, "BEEZ_ORG": new_org()}
    created = await beez("automations", "create", "-f", str(ONBOARDING), "--json", *flags, env=env)
    assert created.exit_code == 0, created.output
    automation_id = json.loads(created.stdout)["automation"]["id"]

    got = await beez("automations", "get", automation_id, env=env)
    assert json.loads(got.stdout).get("active", False) is active


async def test_field_violations_are_printed_one_per_line_and_the_command_fails(
    local_gateway: str, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({"name": "no trigger, no actions"}))

    result = await beez(
        "automations", "create", "-f", str(broken), env={"BEEZ_API_URL": local_gateway, "BEEZ_ORG": new_org()}
    )

    assert result.exit_code == 1
    first, *violations = result.stderr.splitlines()
    assert first.startswith("INVALID_ARGUMENT: the workflow is invalid"), result.stderr
    fields = [line.split(":", 1)[0] for line in violations]
    assert "  trigger.type" in fields and "  actions" in fields, result.stderr


async def test_a_request_without_the_field_its_path_needs_is_refused_before_any_call() -> None:
    result = await beez("automations", "get", "", env={"BEEZ_API_URL": f"http://127.0.0.1:{free_port()}"})
    assert result.exit_code == 1
    assert result.stderr.strip() == "INVALID_ARGUMENT: id must be set to call GetAutomation"


async def test_an_unreachable_gateway_is_named_without_its_credentials() -> None:
    port = free_port()
    result = await beez("automations", "--api-url", f"http://ops:hunter2@127.0.0.1:{port}", "list")
    assert result.exit_code == 1
    assert f"cannot reach the gateway at http://127.0.0.1:{port}" in result.stderr, result.output
    assert "hunter2" not in result.output


def test_an_api_url_that_is_not_http_is_refused() -> None:
    result = CliRunner().invoke(app, ["automations", "--api-url", "127.0.0.1:8080", "list"])
    assert result.exit_code == 2
    assert "expected an http:// or https:// URL" in result.output
