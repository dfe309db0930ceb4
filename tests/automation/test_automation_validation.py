"""Invalid workflows: every problem with its path, nothing written; Validate reports the same.

The exhaustive rules are tested in tests/workflow; these check that the service passes them on
unchanged (paths inside the workflow, not prefixed with ``automation.``) and writes nothing.
"""

from __future__ import annotations

from typing import Any

import grpc
import pytest

from beez.api.automation.v1 import automation_pb2 as pb
from beez.workflow.model import workflow_from_json
from tests.automation.conftest import AutomationEnv
from tests.automation.support import Api, count_rows, onboarding, onboarding_json, violations

EXPECTED = [
    ("conditions[0].value", "must be a number"),
    ("actions[0].config.body", "required when no template is given"),
    (
        "actions[0].config.subject",
        "invalid template: line 1: unexpected end of template, expected 'end of print statement'.",
    ),
    ("actions[1].type", "unknown action type 'teleport'"),
    ("actions[3].config.timeout.value", "must not be longer than 1 year"),
    ("actions[3].branches[0].name", "must be one of event, timeout"),
    ("actions[4].config.times", "times (or over) is required"),
]


def broken() -> dict[str, Any]:
    """The onboarding example with one problem of each kind the issue lists."""
    data = onboarding_json(
        conditions=[{"field": "contact.score", "operator": "greater_than", "value": "high"}]
    )
    data["actions"][0]["config"] = {"subject": "Hi {{ contact.first_name "}  # no body, bad template
    data["actions"][1] = {"type": "teleport", "config": {}}  # unknown type
    data["actions"][3]["config"]["timeout"] = {"value": 400, "unit": "days"}  # over the limit
    data["actions"][3]["branches"][0]["name"] = "clicked"  # unknown branch
    data["actions"].append(  # an unbounded loop
        {"type": "loop", "config": {}, "branches": [{"name": "body", "actions": [{"type": "stop"}]}]}
    )
    return data


async def test_invalid_create_reports_every_problem_with_its_path_and_writes_nothing(
    api: Api, env: AutomationEnv
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await api.automations.CreateAutomation(
            pb.CreateAutomationRequest(automation=workflow_from_json(broken()), active=True), metadata=api.md
        )

    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert err.value.details() == "the workflow is invalid (7 problems)"
    assert violations(err.value) == EXPECTED
    automations = "SELECT count(*) FROM automation.automations WHERE org_id = %s"
    assert count_rows(env.database_url, automations, api.org) == 0
    versions = "SELECT count(*) FROM automation.automation_versions WHERE org_id = %s"
    assert count_rows(env.database_url, versions, api.org) == 0
    assert (
        count_rows(env.database_url, "SELECT count(*) FROM automation.outbox WHERE org_id = %s", api.org) == 0
    )


async def test_validate_returns_every_issue_and_never_fails_for_an_invalid_workflow(api: Api) -> None:
    reply = await api.automations.ValidateAutomation(
        pb.ValidateAutomationRequest(automation=workflow_from_json(broken())), metadata=api.md
    )
    assert not reply.valid
    assert [(i.field, i.description) for i in reply.issues] == EXPECTED

    empty = await api.automations.ValidateAutomation(pb.ValidateAutomationRequest(), metadata=api.md)
    assert not empty.valid
    assert {i.field for i in empty.issues} == {"name", "trigger.type", "actions"}

    good = await api.automations.ValidateAutomation(
        pb.ValidateAutomationRequest(automation=onboarding()), metadata=api.md
    )
    assert good.valid
    assert list(good.issues) == []


async def test_invalid_update_keeps_the_current_version_and_writes_nothing(
    api: Api, env: AutomationEnv
) -> None:
    created = (
        await api.automations.CreateAutomation(
            pb.CreateAutomationRequest(automation=onboarding()), metadata=api.md
        )
    ).automation
    bad = onboarding()
    bad.actions[2].config["body"] = "{% if %}"

    with pytest.raises(grpc.aio.AioRpcError) as err:
        await api.automations.UpdateAutomation(
            pb.UpdateAutomationRequest(id=created.id, automation=bad), metadata=api.md
        )

    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    [(field, description)] = violations(err.value)
    assert field == "actions[2].config.body"
    assert description.startswith("invalid template")
    got = (
        await api.automations.GetAutomation(pb.GetAutomationRequest(id=created.id), metadata=api.md)
    ).automation
    assert got.version == 1
    versions = "SELECT count(*) FROM automation.automation_versions WHERE org_id = %s"
    assert count_rows(env.database_url, versions, api.org) == 1
    assert (
        count_rows(env.database_url, "SELECT count(*) FROM automation.outbox WHERE org_id = %s", api.org) == 1
    )


async def test_a_missing_id_is_invalid_argument_naming_the_field(api: Api) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await api.automations.GetAutomation(pb.GetAutomationRequest(), metadata=api.md)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violations(err.value) == [("id", "is required")]


async def test_a_condition_over_its_cost_budget_is_refused_on_create_naming_its_path(api: Api) -> None:
    body = "x0 > 0.0"
    for level in range(6, 0, -1):
        body = f"event.data.items.all(x{level}, {body} && x{level} != 'q')"
    data = onboarding_json(conditions=[{"expression": body + " && true" * ((4000 - len(body)) // 8)}])

    with pytest.raises(grpc.aio.AioRpcError) as err:
        await api.automations.CreateAutomation(
            pb.CreateAutomationRequest(automation=workflow_from_json(data), active=True), metadata=api.md
        )

    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    [(field, description)] = violations(err.value)
    assert field == "conditions[0].expression"
    assert description.startswith("is too expensive: its cost is estimated at ")
    assert description.endswith("more than the budget of 20000")
