"""``beez templates ...`` against the real automation service behind a local-mode gateway."""

from __future__ import annotations

import json

from tests.cli.conftest import beez, new_org


async def test_browse_preview_customize_and_rate_from_the_cli(local_gateway: str) -> None:
    env = {"BEEZ_API_URL": local_gateway, "BEEZ_ORG": new_org()}
    listed = await beez("templates", "list", "--category", "support", "--integration", "slack", env=env)
    assert listed.exit_code == 0, listed.output
    assert "escalate-urgent-messages" in listed.stdout and "templates" in listed.stdout
    categories = await beez("templates", "categories", env=env)
    assert "lead_scoring" in categories.stdout
    shown = await beez("templates", "get", "hot-lead-alert", env=env)
    assert "trigger.config.threshold" in shown.stdout and "score_changed" in shown.stdout
    found = await beez("templates", "search", "abandoned cart sms", env=env)
    assert "abandoned-cart-three-step" in found.stdout

    preview = await beez(
        "templates", "preview", "hot-lead-alert", "--set", "trigger.config.threshold=75", "--json", env=env
    )
    steps = json.loads(preview.stdout)
    assert steps["workflow"]["trigger"]["config"]["threshold"] == 75 and steps["wouldStart"]

    made = await beez(
        "templates",
        "customize",
        "hot-lead-alert",
        "--set",
        "actions[0].config.team=Inside Sales",
        "--json",
        env=env,
    )
    assert made.exit_code == 0, made.output
    assert json.loads(made.stdout)["automation"]["workflow"]["actions"][0]["config"]["team"] == "Inside Sales"
    bad = await beez(
        "templates", "customize", "hot-lead-alert", "--set", "trigger.config.threshold=lots", env=env
    )
    assert bad.exit_code == 1 and "overrides[trigger.config.threshold]" in bad.output

    rated = await beez("templates", "rate", "hot-lead-alert", "5", env=env)
    assert rated.exit_code == 0 and "rated 5" in rated.stdout
    used = await beez("templates", "use", "welcome-series-three-emails", "--inactive", env=env)
    assert "created" in used.stdout and "inactive" in used.stdout
    automation_id = used.stdout.split()[1]
    saved = await beez(
        "templates", "save", automation_id, "--category", "retention", "--tag", "ours", env=env
    )
    assert saved.exit_code == 0 and "saved template" in saved.stdout
    assert (await beez("templates", "recommendations", env=env)).exit_code == 0
    similar = await beez("templates", "similar", "win-back-churned-customers", "--json", env=env)
    ids = [item["template"]["id"] for item in json.loads(similar.stdout)["templates"]]
    assert ids and "win-back-churned-customers" not in ids
