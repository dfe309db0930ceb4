"""The builder's trigger and condition tools over REST (the routes frame 4 names) and through
``beez triggers|conditions``, behind a real local-mode gateway."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from beez.workflow import catalog
from tests.cli.conftest import beez, new_org


async def test_the_rest_routes_of_frame_4_answer(local_gateway: str) -> None:
    headers = {"X-Org-Id": new_org(), "X-User-Id": "user_ada"}
    async with httpx.AsyncClient(base_url=local_gateway, headers=headers) as http:
        categories = await http.get("/api/automations/triggers/categories")
        assert categories.status_code == 200, categories.text
        counts = {c["category"]: c["count"] for c in categories.json()["categories"]}
        assert counts["event"] == sum(1 for t in catalog.trigger_types() if t.category == "event")

        valid = await http.post(
            "/api/automations/triggers/validate",
            json={
                "trigger": {"type": "lifecycle_stage_changed", "config": {"from": "lead", "to": "customer"}}
            },
        )
        assert valid.status_code == 200 and valid.json() == {"valid": True}
        invalid = await http.post(
            "/api/automations/triggers/validate",
            json={"trigger": {"type": "score_changed", "config": {"direction": "up"}}},
        )
        assert invalid.json() == {
            "valid": False,
            "issues": [{"field": "trigger.config.threshold", "description": "is required"}],
        }

        tested = await http.post(
            "/api/automations/triggers/test",
            json={
                "trigger": {"type": "email_opened", "filters": {"campaign": "spring"}},
                "event": {"type": "email.opened", "data": {"campaign": "fall"}},
            },
        )
        assert tested.status_code == 200, tested.text
        assert tested.json() == {
            "fires": False,
            "eventType": "email.opened",
            "reasons": [
                {
                    "field": "trigger.filters.campaign",
                    "description": "event.data.campaign is 'fall', not 'spring'",
                }
            ],
        }
        refused = await http.post("/api/automations/triggers/test", json={"event": {"type": "email.opened"}})
        assert refused.status_code == 400

        evaluated = await http.post(
            "/api/automations/conditions/evaluate",
            json={
                "conditions": [{"field": "contact.score", "operator": "greater_than", "value": 80}],
                "data": {"contact": {"score": 90}},
            },
        )
        assert evaluated.status_code == 200, evaluated.text
        body = evaluated.json()
        assert body["result"] is True
        assert [(r["field"], r["result"]) for r in body["results"]] == [("conditions[0]", True)]


async def test_beez_triggers_and_conditions_commands(local_gateway: str, tmp_path: Path) -> None:
    env = {"BEEZ_API_URL": local_gateway, "BEEZ_ORG": new_org()}

    categories = await beez("triggers", "categories", env=env)
    assert categories.exit_code == 0, categories.output
    assert "Event-based" in categories.stdout

    valid = await beez(
        "triggers", "validate", "--trigger", '{"type": "tag_added", "filters": {"tag": "vip"}}', env=env
    )
    assert valid.exit_code == 0 and "valid" in valid.stdout
    invalid = await beez("triggers", "validate", "--trigger", '{"type": "score_changed"}', env=env)
    assert invalid.exit_code == 1
    assert "trigger.config.threshold: is required" in invalid.stdout

    trigger = tmp_path / "trigger.json"
    trigger.write_text(json.dumps({"type": "score_changed", "config": {"threshold": 80}}))
    fires = await beez(
        "triggers",
        "test",
        "-f",
        str(trigger),
        "--event",
        '{"type": "score.changed", "data": {"old_score": 1, "new_score": 99}}',
        env=env,
    )
    assert fires.exit_code == 0, fires.output
    assert "fires (listens to score.changed)" in fires.stdout
    stays = await beez(
        "triggers",
        "test",
        "-f",
        str(trigger),
        "--event",
        '{"type": "score.changed", "data": {"old_score": 90, "new_score": 99}}',
        env=env,
    )
    assert stays.exit_code == 1
    assert "trigger.config.threshold" in stays.stdout

    conditions = tmp_path / "conditions.yaml"
    conditions.write_text(
        "conditions:\n"
        "  - {field: contact.tags, operator: has_tag, value: vip}\n"
        "data:\n"
        "  contact: {tags: [lead]}\n"
    )
    evaluated = await beez("conditions", "evaluate", "-f", str(conditions), env=env)
    assert evaluated.exit_code == 0, evaluated.output
    assert "result: false" in evaluated.stdout
    assert "conditions[0]" in evaluated.stdout
