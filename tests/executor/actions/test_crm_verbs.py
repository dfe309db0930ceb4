"""The CRM verbs of decision 0042 in memory: their effects and snapshot changes, the field
violations of bad configs, and ActionService's preview showing the exact command (for the
request-reply verbs: on ``platform.requests``, under the step's stable key, nothing sent)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from google.protobuf import json_format

from beez.api.messages.v1 import events_pb2
from beez.api.workflow.v1 import workflow_pb2
from beez.executor.actions import ActionSettings, PermanentError, build_registry
from beez.executor.builder.service import ActionTools
from beez.kit.bus.topology import Topology
from beez.workflow.conditions.cost import cost_budget
from beez.workflow.effects import StepError, apply_contact_changes, effect_of
from beez.workflow.lead_score import calculate_lead_score, lead_score_issues
from beez.workflow.validate import action_issues
from tests.executor.actions.conftest import ada, make_ctx

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


class Refusing:
    """A requester that must not be called (a preview sends nothing)."""

    calls = 0

    async def request(self, subject: str, payload: bytes, headers: dict[str, str], timeout: float) -> bytes:
        self.calls += 1
        raise AssertionError("a preview sent a request")


@pytest.fixture
async def tools() -> Any:
    requester = Refusing()
    registry = build_registry(ActionSettings(), topology=Topology("t9"), requester=requester)
    yield ActionTools(registry, Topology("t9")), requester
    await registry.aclose()


def step(type_: str, config: dict[str, Any]) -> workflow_pb2.Action:
    action = workflow_pb2.Action(type=type_)
    action.config.update(config)
    return action


@pytest.mark.parametrize(
    ("type_", "config", "subject", "body", "variables"),
    [
        (
            "update_lifecycle_stage",
            {"stage": "lead"},
            "t9.platform.commands.org_1.update_lifecycle_stage",
            {"stage": "lead"},
            {},
        ),
        (
            "copy_field",
            {"from": "first_name", "to": "nick"},
            "t9.platform.commands.org_1.copy_field",
            {"fromField": "first_name", "toField": "nick", "value": "Ada"},
            {},
        ),
        (
            "create_contact",
            {"email": "{{ contact.email | replace('ada', 'bob') }}"},
            "t9.platform.requests.org_1.create_contact",
            {"email": "bob@example.com"},
            {"contact_id": "dry-run:contact_id"},
        ),
        (
            "export_contact_data",
            {},
            "t9.platform.requests.org_1.export_contact_data",
            {"format": "EXPORT_FORMAT_JSON"},
            {"export_id": "dry-run:export_id", "export_url": "dry-run:export_url"},
        ),
    ],
)
async def test_the_preview_shows_the_exact_command(
    tools: Any,
    type_: str,
    config: dict[str, Any],
    subject: str,
    body: dict[str, Any],
    variables: dict[str, Any],
) -> None:
    action_tools, requester = tools
    contact = events_pb2.Contact(id="c_1", email="ada@example.com", first_name="Ada")
    outcome = await action_tools.test("org_1", step(type_, config), contact, None, {}, NOW)
    [(shown_subject, command)] = outcome.commands
    assert shown_subject == subject
    assert json_format.MessageToDict(getattr(command, type_)) == body
    request = type_ in ("create_contact", "export_contact_data")
    expected_key = "exec:exec_preview:step:0" + ("" if request else ":attempt:1")
    assert (command.idempotency_key, command.organization_id, command.contact_id) == (
        expected_key,
        "org_1",
        "c_1",
    )
    assert requester.calls == 0
    if request:
        assert outcome.vars == variables


@pytest.mark.parametrize(
    ("type_", "config", "field"),
    [
        ("update_lifecycle_stage", {"stage": "champion"}, "action.config.stage"),
        ("create_contact", {"first_name": "Ada"}, "action.config.phone"),
        ("merge_contacts", {}, "action.config.duplicate_contact_id"),
        ("update_custom_field", {"field": "seats", "value": 1, "type": "money"}, "action.config.type"),
        ("copy_field", {"from": "email", "to": "bad name"}, "action.config.to"),
        ("unsubscribe", {"channels": ["fax"]}, "action.config.channels[0]"),
        ("update_consent", {}, "action.config.email"),
        ("update_consent", {"sms": "yes"}, "action.config.sms"),
        ("upload_document", {"url": "ftp://files.example.com/a.pdf"}, "action.config.url"),
        ("export_contact_data", {"format": "xml"}, "action.config.format"),
        ("calculate_lead_score", {"rules": []}, "action.config.rules"),
        ("calculate_lead_score", {"rules": [{"points": 5}]}, "action.config.rules[0].conditions"),
        (
            "calculate_lead_score",
            {
                "rules": [
                    {"points": 5, "conditions": [{"field": "contact.score", "operator": "bogus", "value": 1}]}
                ]
            },
            "action.config.rules[0].conditions[0].operator",
        ),
        ("create_relationship", {"related_contact_id": "c_2"}, "action.config.relationship"),
        ("log_activity", {"description": "x"}, "action.config.activity_type"),
    ],
)
def test_a_bad_config_is_refused_naming_its_field(type_: str, config: dict[str, Any], field: str) -> None:
    assert field in [issue.field for issue in action_issues(step(type_, config))]


def test_the_lead_score_rules_share_one_cost_budget() -> None:
    heavy = {"expression": "contact.tags.exists(t, t.startsWith('abc') || t.endsWith('x'))"}  # ~1,500 units
    rules = [{"points": 1, "conditions": [heavy]} for _ in range(20)]
    assert lead_score_issues({"rules": rules[:5]}, "config") == []
    issues = lead_score_issues({"rules": rules}, "config")
    assert issues and issues[-1].field == "config.rules", issues
    assert str(cost_budget()) in issues[-1].description


def test_the_lead_score_adds_the_points_of_the_rules_that_hold_within_bounds() -> None:
    rules = [
        {
            "name": "vip",
            "points": 50,
            "conditions": [{"field": "contact.tags", "operator": "has_tag", "value": "vip"}],
        },
        {
            "name": "opened",
            "points": 30,
            "conditions": [{"field": "event.type", "operator": "equals", "value": "email.opened"}],
        },
        {"name": "broken", "points": 99, "conditions": [{"expression": "contact.nope + 1 > 0"}]},
    ]
    ctx = {"contact": ada(tags=["vip"]), "event": {"type": "email.opened"}, "vars": {}}
    effect = calculate_lead_score({"rules": rules, "base": 5, "max": 60}, ctx, NOW)
    assert effect.values == {"score": 60, "matched_rules": ["vip", "opened"]}
    assert effect.contact_changes == {"score": 60}
    assert (
        calculate_lead_score({"rules": rules[:1], "min": 0, "base": -10}, {"contact": ada()}, NOW).values[
            "score"
        ]
        == 0
    )


@pytest.mark.parametrize(
    ("type_", "config", "changes"),
    [
        ("unsubscribe", {}, {"consent": {"email": False, "sms": False, "whatsapp": False}}),
        ("update_consent", {"sms": False}, {"consent": {"sms": False}}),
        ("set_do_not_contact", {"do_not_contact": False}, {"fields": {"do_not_contact": False}}),
        ("delete_contact", {}, {"deleted": True}),
        (
            "append_to_field",
            {"field": "plan", "value": "annual", "separator": "/"},
            {"fields": {"plan": "pro/annual"}},
        ),
        ("copy_field", {"from": "consent.sms", "to": "sms_ok"}, {"fields": {"sms_ok": True}}),
        (
            "update_custom_field",
            {"field": "vip", "value": "yes", "type": "boolean"},
            {"fields": {"vip": True}},
        ),
        (
            "update_custom_field",
            {"field": "renews", "value": "2027-01-05", "type": "date"},
            {"fields": {"renews": "2027-01-05"}},
        ),
        ("update_custom_field", {"field": "n", "value": 7, "type": "text"}, {"fields": {"n": "7"}}),
    ],
)
def test_each_verb_changes_the_snapshot(type_: str, config: dict[str, Any], changes: dict[str, Any]) -> None:
    effect = effect_of(type_, config, ada())
    assert effect is not None and effect.contact_changes == changes
    after = apply_contact_changes(ada(), effect.contact_changes)
    for key, value in changes.items():
        if key == "deleted":
            assert after["deleted"] is True
        elif key in ("consent", "fields"):
            assert {k: after[key][k] for k in value} == value


@pytest.mark.parametrize(
    ("type_", "config", "message"),
    [
        ("update_custom_field", {"field": "n", "value": "many", "type": "number"}, "not a number"),
        ("update_custom_field", {"field": "d", "value": "soon", "type": "date"}, "not an ISO date"),
        ("merge_contacts", {"duplicate_contact_id": "c_123"}, "the contact itself"),
        ("create_contact", {"first_name": "Ada"}, "both empty"),
        ("upload_document", {"url": "http://files.example.com/a.pdf"}, "https"),
    ],
)
async def test_a_config_that_renders_wrong_fails_the_step_permanently(
    type_: str, config: dict[str, Any], message: str
) -> None:
    with pytest.raises(StepError, match=message):
        effect_of(type_, config, ada())
    registry = build_registry(ActionSettings())
    try:
        with pytest.raises(PermanentError, match=message):
            await registry[type_].run(make_ctx(config))
    finally:
        await registry.aclose()
