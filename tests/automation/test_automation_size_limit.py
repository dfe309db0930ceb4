"""A workflow too large for the messages that carry it is refused at the edge (decision 0026)."""

from __future__ import annotations

import grpc
import pytest

from beez.api.automation.v1 import automation_pb2 as pb
from beez.kit.bus.limits import DEFAULT_MAX_PAYLOAD, workflow_limit
from beez.workflow.model import workflow_from_json
from tests.automation.conftest import AutomationEnv
from tests.automation.support import Api, count_rows, onboarding_json, violations

LIMIT = workflow_limit(DEFAULT_MAX_PAYLOAD)  # the suite's NATS runs with the default max_payload


def sized(body_bytes: int) -> pb.CreateAutomationRequest:
    """The onboarding workflow with ``body_bytes`` of email bodies spread over extra emails (each
    body within its own 100,000-character limit)."""
    data = onboarding_json()
    chunk = 90_000
    welcome = data["actions"][0]
    extra = []
    for index in range(0, body_bytes, chunk):
        step = {**welcome, "id": f"filler{index // chunk}"}
        step["config"] = {**welcome["config"], "body": "x" * min(chunk, body_bytes - index)}
        extra.append(step)
    data["actions"] = [*extra, *data["actions"]]
    return pb.CreateAutomationRequest(automation=workflow_from_json(data), active=True)


async def test_a_workflow_just_over_the_limit_is_refused_naming_the_limit(
    api: Api, env: AutomationEnv
) -> None:
    request = sized(LIMIT)  # the body alone reaches the limit; the rest of the workflow tips it over
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await api.automations.CreateAutomation(request, metadata=api.md)

    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violations(err.value) == [("workflow", f"is larger than {LIMIT} bytes")]
    automations = "SELECT count(*) FROM automation.automations WHERE org_id = %s"
    assert count_rows(env.database_url, automations, api.org) == 0


async def test_a_workflow_under_the_limit_is_accepted_and_an_update_over_it_is_refused(api: Api) -> None:
    created = await api.automations.CreateAutomation(sized(LIMIT - 4096), metadata=api.md)
    over = sized(LIMIT).automation
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await api.automations.UpdateAutomation(
            pb.UpdateAutomationRequest(id=created.automation.id, automation=over), metadata=api.md
        )
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violations(err.value) == [("workflow", f"is larger than {LIMIT} bytes")]
