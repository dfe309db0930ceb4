"""Per-organization execution caps over gRPC, enforced by a real executor on PostgreSQL and NATS
(issue #12, decision 0023): each organization sees and sets its own caps only, setting them needs
the admin role, and an execution over its organization's cap fails with the sends it made counted."""

from __future__ import annotations

import uuid
from typing import Any

import grpc
from sqlalchemy import select

from beez.api.executor.v1 import executor_pb2
from beez.api.executor.v1.executor_pb2 import ExecutionStatus
from beez.executor.models import OrganizationLimit
from tests.executor.engine.conftest import Executor, Flow
from tests.support.rpc import rpc_error, violations


async def get_limits(executor: Executor, metadata: list[tuple[str, str]]) -> executor_pb2.OrganizationLimits:
    response = await executor.stub.GetOrganizationLimits(
        executor_pb2.GetOrganizationLimitsRequest(), metadata=metadata
    )
    limits: executor_pb2.OrganizationLimits = response.limits
    return limits


async def set_limits(
    executor: Executor, metadata: list[tuple[str, str]], steps: int = 0, messages: int = 0
) -> executor_pb2.OrganizationLimits:
    request = executor_pb2.SetOrganizationLimitsRequest(
        max_steps_per_execution=steps, max_messages_per_execution=messages
    )
    response = await executor.stub.SetOrganizationLimits(request, metadata=metadata)
    limits: executor_pb2.OrganizationLimits = response.limits
    return limits


def loop_of_emails(times: int) -> dict[str, Any]:
    email = {"id": "mail", "type": "send_email", "config": {"subject": "s", "body": "b"}}
    return {
        "actions": [
            {
                "id": "loop",
                "type": "loop",
                "config": {"times": times},
                "branches": [{"name": "body", "actions": [email]}],
            }
        ]
    }


async def test_an_organization_sees_and_sets_its_own_caps_only(flow: Flow, executor: Executor) -> None:
    other = [("x-org-id", f"org_{uuid.uuid4().hex[:10]}")]
    defaults = await get_limits(executor, flow.metadata)
    assert (defaults.max_steps_per_execution, defaults.max_messages_per_execution) == (10_000, 1_000)
    assert defaults.default_max_messages_per_execution == 1_000

    changed = await set_limits(executor, flow.metadata, messages=50)
    assert (changed.max_steps_per_execution, changed.max_messages_per_execution) == (10_000, 50)
    mine = await get_limits(executor, flow.metadata)
    assert mine.max_messages_per_execution == 50 and mine.default_max_messages_per_execution == 1_000
    # another organization has no way to name this one, and its own caps are untouched
    theirs = await get_limits(executor, other)
    assert theirs.max_messages_per_execution == 1_000

    # 0 gives the default back
    assert (await set_limits(executor, flow.metadata)).max_messages_per_execution == 1_000


async def test_the_caps_record_the_user_who_set_them(flow: Flow, executor: Executor) -> None:
    """``updated_by`` is the caller's ``x-user-id`` (the gateway's verified user)."""
    await set_limits(executor, [*flow.metadata, ("x-user-id", "u_admin")], messages=40)
    async with executor.svc.runtime.db.transaction() as session:
        row = await session.scalar(
            select(OrganizationLimit.updated_by).where(OrganizationLimit.org_id == flow.org)
        )
    assert row == "u_admin"


async def test_setting_caps_needs_the_admin_role_and_valid_values(flow: Flow, executor: Executor) -> None:
    editor = [*flow.metadata, ("x-roles", "editor")]
    denied = await rpc_error(set_limits(executor, editor, messages=5))
    assert denied.code() == grpc.StatusCode.PERMISSION_DENIED
    viewer = [*flow.metadata, ("x-roles", "viewer")]
    assert (await get_limits(executor, viewer)).max_messages_per_execution == 1_000

    bad = await rpc_error(set_limits(executor, flow.metadata, steps=-1, messages=100_001))
    assert bad.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violations(bad) == ["max_steps_per_execution", "max_messages_per_execution"]


async def test_an_execution_over_its_organizations_cap_fails_with_its_sends_counted(
    flow: Flow, executor: Executor
) -> None:
    await set_limits(executor, flow.metadata, messages=2)
    execution_id = await flow.start(loop_of_emails(3))
    execution = await flow.settled(execution_id, "failed")
    assert execution.status == ExecutionStatus.EXECUTION_STATUS_FAILED
    assert execution.error == "limit_exceeded: 2 messages per execution"
    assert execution.messages_sent == 2
    assert (
        execution.steps_run == 1 + 2 * 2 + 1
    )  # the loop, two sends and the loop step after each, the third send
    sent = [step for step in execution.steps if step.step_id == "mail"]
    assert [step.status for step in sent][:2] == [executor_pb2.STEP_STATUS_SUCCEEDED] * 2
    assert sent[-1].status == executor_pb2.STEP_STATUS_FAILED

    # the same workflow in an organization with the default caps completes
    other = Flow(executor, f"org_{uuid.uuid4().hex[:10]}")
    done = await other.settled(await other.start(loop_of_emails(3)), "completed")
    assert done.messages_sent == 3
