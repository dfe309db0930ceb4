"""The automation-control steps of decision 0047 through the running executor: failed branches,
send_error_alert, retry_failed_action, calculate_value and cancel_pending_actions.

One executor (real PostgreSQL and NATS, the real actions) with a local HTTP server standing in
for the webhook's receiver, which answers as the test scripts it.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import func, select

from beez.api.executor.v1 import executor_pb2
from beez.api.messages.v1 import commands_pb2
from beez.executor import models
from beez.executor.actions.http import OutboundHttp
from beez.executor.actions.settings import ActionSettings
from beez.executor.connections.service import Connections
from beez.executor.connections.store import ConnectionStore
from beez.kit.grpc.errors import NotFound
from beez.kit.keyring import KeyRing
from tests.executor.engine.conftest import Executor, Flow, start_executor
from tests.executor.samples import ADA
from tests.support.providers import HttpStandIn, http_server

SUCCEEDED, FAILED, SKIPPED = (
    executor_pb2.STEP_STATUS_SUCCEEDED,
    executor_pb2.STEP_STATUS_FAILED,
    executor_pb2.STEP_STATUS_SKIPPED,
)


@dataclass
class Rig:
    executor: Executor
    http: HttpStandIn


@pytest.fixture(scope="module")
async def rig(admin_url: str, nats_url: str) -> AsyncIterator[Rig]:
    async with http_server() as http:
        settings = {"actions": {"ssrf_allowlist": ["127.0.0.1/32"]}, "timer_poll_interval_s": 0.02}
        async with start_executor(admin_url, nats_url, action_plugins=[], **settings) as executor:
            yield Rig(executor, http)


@pytest.fixture
def flow(rig: Rig) -> Flow:
    rig.http.requests.clear()
    rig.http.responses.clear()
    return Flow(rig.executor, f"org_ctl_{uuid.uuid4().hex[:10]}")


def hook(rig: Rig, step_id: str = "hook", **failed: Any) -> dict[str, Any]:
    """A webhook step to the stand-in, with a failed branch when ``failed`` gives its actions."""
    step: dict[str, Any] = {
        "id": step_id,
        "type": "webhook",
        "config": {"url": f"{rig.http.url}/hooks/{step_id}", "body": {"n": "{{ vars.n | default(0) }}"}},
    }
    if "actions" in failed:
        step["branches"] = [{"name": "failed", "actions": failed["actions"]}]
    return step


async def alerts(flow: Flow) -> list[commands_pb2.PlatformCommand]:
    return [
        commands_pb2.PlatformCommand.FromString(payload)
        for _, _, payload in await flow.outbox(".commands.")
        if commands_pb2.PlatformCommand.FromString(payload).WhichOneof("command") == "alert_admins"
    ]


async def dead_letters(flow: Flow) -> int:
    async with flow.executor.svc.runtime.db.transaction() as session:
        count = await session.scalar(
            select(func.count()).select_from(models.DeadLetter).where(models.DeadLetter.org_id == flow.org)
        )
    return int(count or 0)


async def test_a_failed_step_runs_its_failed_branch_and_alerts_the_admins(rig: Rig, flow: Flow) -> None:
    rig.http.responses = [(422, {"error": "unknown list"})]
    alert = {"id": "alert", "type": "send_error_alert", "config": {"severity": "warning"}}
    after = {"id": "after", "type": "set_variable", "config": {"name": "went_on", "value": True}}
    execution_id = await flow.start({"actions": [hook(rig, actions=[alert]), after]})

    done = await flow.settled(execution_id, "completed")
    assert [(s.step_id, s.status) for s in done.steps] == [
        ("hook", FAILED),
        ("alert", SUCCEEDED),
        ("after", SUCCEEDED),
    ]
    hook_row = done.steps[0]
    assert hook_row.error_category == "http_4xx"
    assert await dead_letters(flow) == 0  # the workflow handled the failure
    [command] = await alerts(flow)
    assert command.execution_id == execution_id and command.organization_id == flow.org
    assert command.idempotency_key == f"exec:{execution_id}:step:0.failed.0:attempt:1"
    body = command.alert_admins
    assert (body.severity, body.failed_step_id, body.failed_step_type) == ("warning", "hook", "webhook")
    assert (body.error, body.error_category) == (hook_row.error, "http_4xx")
    assert body.message == f"Step hook (webhook) failed: {hook_row.error}"
    subjects = [subject for subject, _, _ in await flow.outbox(".commands.")]
    assert subjects == [rig.executor.topology.command(flow.org, "alert_admins")]


async def test_an_empty_failed_branch_carries_on_and_without_one_the_execution_fails(
    rig: Rig, flow: Flow
) -> None:
    rig.http.responses = [(400, {"error": "bad"})]
    carry_on = await flow.start({"actions": [hook(rig, actions=[]), hook(rig, "next")]})
    done = await flow.settled(carry_on, "completed")
    assert [(s.step_id, s.status) for s in done.steps] == [("hook", FAILED), ("next", SUCCEEDED)]

    rig.http.responses = [(400, {"error": "bad"})]
    plain = await flow.start({"actions": [hook(rig), hook(rig, "next")]})
    failed = await flow.settled(plain, "failed")
    assert [s.step_id for s in failed.steps] == ["hook"]
    assert await dead_letters(flow) == 1


@pytest.mark.parametrize(
    ("answers", "statuses", "alerted"),
    [
        # fails, is re-run after 10 minutes, succeeds: the branch's alert never runs
        (
            [400, 200],
            [("hook", FAILED), ("retry", SUCCEEDED), ("hook", SUCCEEDED), ("after", SUCCEEDED)],
            False,
        ),
        # fails three times (two re-runs), then the re-runs are spent: on to the alert
        (
            [400, 400, 400],
            [
                ("hook", FAILED),
                ("retry", SUCCEEDED),
                ("hook", FAILED),
                ("retry", SUCCEEDED),
                ("hook", FAILED),
                ("retry", SKIPPED),
                ("alert", SUCCEEDED),
                ("after", SUCCEEDED),
            ],
            True,
        ),
    ],
)
async def test_retry_failed_action_reruns_the_failed_step_after_its_wait(
    rig: Rig, flow: Flow, answers: list[int], statuses: list[tuple[str, int]], alerted: bool
) -> None:
    rig.http.responses = [(status, {"error": "bad"} if status >= 400 else {"ok": True}) for status in answers]
    retry = {
        "id": "retry",
        "type": "retry_failed_action",
        "config": {"times": 2, "after": {"value": 10, "unit": "minutes"}},
    }
    alert = {
        "id": "alert",
        "type": "send_error_alert",
        "config": {"message": "hook gave up: {{ vars.error.error }}"},
    }
    after = {"id": "after", "type": "set_variable", "config": {"name": "went_on", "value": True}}
    execution_id = await flow.start({"actions": [hook(rig, actions=[retry, alert]), after]})

    def rerun_waiting(n: int) -> Callable[[executor_pb2.Execution], bool]:
        return lambda ex: (
            ex.status == executor_pb2.EXECUTION_STATUS_WAITING
            and sum(s.step_id == "retry" for s in ex.steps) == n
        )

    for rerun in range(1, min(len(answers), 3)):
        waiting = await flow.until(execution_id, rerun_waiting(rerun), f"re-run {rerun} waiting")
        assert waiting.current_step == "0"  # back at the failed step, waiting for its timer
        [timer] = await flow.scheduled(execution_id)
        assert timer.kind == "retry"
        assert timer.due_at.ToDatetime(tzinfo=UTC) == flow.clock.now() + timedelta(minutes=10)
        await flow.advance(minutes=10)
    done = await flow.settled(execution_id, "completed")

    assert [(s.step_id, s.status) for s in done.steps] == statuses
    hook_rows = [s for s in done.steps if s.step_id == "hook"]
    assert [s.attempt for s in hook_rows] == list(range(1, len(hook_rows) + 1))  # fresh keys per re-run
    sent_keys = [r.headers["X-Beez-Idempotency-Key"] for r in rig.http.requests]
    assert sent_keys == [s.idempotency_key for s in hook_rows]
    found = await alerts(flow)
    assert bool(found) == alerted
    if alerted:
        assert found[0].alert_admins.message == f"hook gave up: {hook_rows[-1].error}"
        assert "answered 400" in hook_rows[-1].error


async def test_calculate_value_stores_a_number_for_later_steps_and_fails_on_a_division_by_zero(
    rig: Rig, flow: Flow
) -> None:
    steps = [
        {"id": "bonus", "type": "set_variable", "config": {"name": "bonus", "value": 8}},
        {
            "id": "calc",
            "type": "calculate_value",
            "config": {"expression": "contact.score * 1.5 + vars.bonus", "name": "n", "decimals": 1},
        },
        hook(rig),
        {"id": "ratio", "type": "calculate_value", "config": {"expression": "vars.n / 0.0", "name": "r"}},
    ]
    execution_id = await flow.start({"actions": steps})
    failed = await flow.settled(execution_id, "failed")
    calc = next(s for s in failed.steps if s.step_id == "calc")
    assert dict(calc.result) == {"name": "n", "value": 71}  # 42 * 1.5 + 8, whole: an integer
    [request] = rig.http.requests
    assert request.json() == {"n": "71"}
    ratio = failed.steps[-1]
    assert (ratio.status, ratio.error_category) == (FAILED, "calculation")
    assert "not a finite number" in ratio.error
    assert "not a finite number" in failed.error


async def test_cancel_pending_actions_cancels_the_contacts_other_pending_work_once(
    rig: Rig, flow: Flow
) -> None:
    waiting = {"actions": [{"id": "nap", "type": "wait", "config": {"value": 1, "unit": "days"}}]}
    bob = {**ADA, "id": "c_bob", "email": "bob@example.com"}
    same = await flow.start(waiting, automation_id="auto_1")
    other_automation = await flow.start(waiting, automation_id="auto_2")
    other_contact = await flow.start(waiting, automation_id="auto_1", contact=bob)
    elsewhere = Flow(rig.executor, f"{flow.org}_x")  # another organization, same contact id
    foreign = await elsewhere.start(waiting, automation_id="auto_1")
    for ex in (same, other_automation, other_contact):
        await flow.settled(ex, "waiting")
    await elsewhere.settled(foreign, "waiting")

    canceller = flow.start_job(
        {"actions": [{"id": "cancel", "type": "cancel_pending_actions", "config": {"reason": "bought"}}]},
        automation_id="auto_1",
    )
    await flow.publish(canceller, f"start:{canceller.execution_id}")
    done = await flow.settled(canceller.execution_id, "completed")
    assert dict(done.steps[0].result) == {"cancelled": [same], "count": 1}
    await flow.settled(same, "cancelled")
    async with flow.executor.svc.runtime.db.transaction() as session:
        reason = await session.scalar(select(models.Execution.end_reason).where(models.Execution.id == same))
    assert reason == f"cancelled: by {canceller.execution_id} step cancel: bought"
    assert await flow.scheduled(same) == []
    for ex in (other_automation, other_contact):
        assert (await flow.get(ex)).status == executor_pb2.EXECUTION_STATUS_WAITING
    assert (await elsewhere.get(foreign)).status == executor_pb2.EXECUTION_STATUS_WAITING

    await flow.publish(canceller, f"again:{canceller.execution_id}")  # a redelivered START changes nothing
    everything = flow.start_job(
        {
            "actions": [
                {"id": "cancel_all", "type": "cancel_pending_actions", "config": {"scope": "all_automations"}}
            ]
        },
        automation_id="auto_3",
    )
    await flow.publish(everything, f"start:{everything.execution_id}")
    done_all = await flow.settled(everything.execution_id, "completed")
    assert dict(done_all.steps[0].result) == {"cancelled": [other_automation], "count": 1}
    assert (await flow.get(other_contact)).status == executor_pb2.EXECUTION_STATUS_WAITING
    again = await flow.get(canceller.execution_id)
    assert [s.step_id for s in again.steps] == ["cancel"]
    kinds = await flow.kinds(same)
    assert kinds.count("cancelled") == 1

    listed = flow.start_job(
        {
            "actions": [
                {
                    "id": "cancel_listed",
                    "type": "cancel_pending_actions",
                    "config": {"scope": "automations", "automation_ids": ["auto_9", "auto_1"]},
                }
            ]
        },
        automation_id="auto_4",
        contact=bob,
    )
    await flow.publish(listed, f"start:{listed.execution_id}")
    done_listed = await flow.settled(listed.execution_id, "completed")
    assert dict(done_listed.steps[0].result) == {"cancelled": [other_contact], "count": 1}


async def test_connection_credentials_are_cached_sealed_and_a_rotation_is_seen_at_once(
    rig: Rig,
) -> None:
    """The benchmark's fix (decision 0047): no credentials query per step within ``cache_s``."""
    db = rig.executor.svc.runtime.db
    ring = KeyRing.parse(f"k1:{Fernet.generate_key().decode()}")
    reads: list[str] = []

    class CountingStore(ConnectionStore):
        async def sealed(self, org_id: str, connection_id: str) -> bytes:
            reads.append(connection_id)
            return await super().sealed(org_id, connection_id)

    store = CountingStore(db, ring)
    settings = ActionSettings()
    connections = Connections(store, settings, OutboundHttp(settings), cache_s=60)
    now = datetime.now(UTC)
    org = f"org_cc_{uuid.uuid4().hex[:8]}"
    row = await connections.create(org, "u", "slack", "team", {"bot_token": "xoxb-1"}, (0, 0), now)
    binding = await connections.bind(org, "send_slack", "team")
    assert binding is not None
    first = await connections.access(org, binding, now)
    again = await connections.access(org, binding, now)
    assert first.credentials == again.credentials == {"bot_token": "xoxb-1"}
    assert reads == [row.id]
    await connections.rotate(org, row.id, {"bot_token": "xoxb-2"}, now)
    assert (await connections.access(org, binding, now)).credentials == {"bot_token": "xoxb-2"}
    with pytest.raises(NotFound):
        await connections.access(f"{org}_other", binding, now)  # another organization's: not served
    await connections.delete(org, row.id)
    with pytest.raises(NotFound):
        await connections.access(org, binding, now)
    await connections.http.aclose()
