"""The condition cost budget is a service setting (``condition_max_cost``, decision 0022): read and
validated with the other settings, applied when the service starts."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pydantic import ValidationError

from beez.api.automation.v1 import automation_pb2 as pb
from beez.automation.config import AutomationSettings
from beez.executor.config import ExecutorSettings
from beez.kit.embedded import free_port
from beez.kit.settings import CONDITION_MAX_COST
from beez.trigger.config import TriggerSettings
from beez.workflow.conditions.cost import MAX_COST, cost_budget, set_cost_budget
from beez.workflow.model import workflow_from_json
from tests.automation.support import Api, onboarding_json
from tests.support.inproc import running_service
from tests.support.servers import create_database, drop_database, unique_prefix


@pytest.fixture
def budget() -> Iterator[None]:
    yield
    set_cost_budget(MAX_COST)  # the budget is per process; in-process services share it


def test_the_budget_is_a_setting_of_every_service_that_runs_conditions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert CONDITION_MAX_COST == MAX_COST
    monkeypatch.setenv("BEEZ_CONDITION_MAX_COST", "5000")
    for settings in (AutomationSettings, ExecutorSettings, TriggerSettings):
        assert settings().condition_max_cost == 5000
    monkeypatch.setenv("BEEZ_CONDITION_MAX_COST", "0")
    with pytest.raises(ValidationError, match="condition_max_cost"):
        AutomationSettings()


async def test_a_service_started_with_a_smaller_budget_refuses_what_the_default_allows(
    admin_url: str, nats_url: str, budget: None
) -> None:
    database_url = create_database(admin_url)
    try:
        async with running_service(
            "automation",
            database_url,
            nats_url,
            unique_prefix(),
            analytics_addr=f"127.0.0.1:{free_port()}",
            executor_addr=f"127.0.0.1:{free_port()}",
            condition_max_cost=10,
        ) as svc:
            assert cost_budget() == 10
            api = Api.of(svc)
            data = onboarding_json(conditions=[{"expression": "'vip' in contact.tags"}])
            reply = await api.automations.ValidateAutomation(
                pb.ValidateAutomationRequest(automation=workflow_from_json(data)), metadata=api.md
            )
    finally:
        drop_database(admin_url, database_url)
    assert not reply.valid
    [issue] = reply.issues
    assert issue.field == "conditions[0].expression" and issue.description.endswith("the budget of 10")
