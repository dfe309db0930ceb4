"""The caps on one execution's steps and messages (issue #12, decision 0023), on the in-memory store.

Counts live on the execution row and change in the transaction that records the step, so a
crash, a redelivery or a retried attempt neither loses nor repeats one; an execution that would
go past a cap fails with ``limit_exceeded`` and keeps what it already did, counted.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, cast

import pytest

from beez.executor.actions.base import ActionContext, ActionResult
from beez.executor.engine import LimitOverride, OrganizationLimits
from beez.workflow.amplification import ExecutionLimits
from beez.workflow.status import ExecutionStatus, StepStatus
from tests.executor.engine import fakes
from tests.executor.unit.harness import ORG, Harness

if TYPE_CHECKING:
    from beez.executor.engine.store import Transaction

EMAIL: dict[str, Any] = {"type": "send_email", "config": {"subject": "s", "body": "b"}}


def loop(body: list[dict[str, Any]], times: int, step_id: str = "loop") -> dict[str, Any]:
    return {
        "id": step_id,
        "type": "loop",
        "config": {"times": times},
        "branches": [{"name": "body", "actions": body}],
    }


@pytest.fixture(params=["once", "rehearsed"])
def rehearse(request: pytest.FixtureRequest) -> bool:
    return bool(request.param == "rehearsed")


async def test_an_execution_over_the_messages_cap_fails_and_its_sends_stay_counted(rehearse: bool) -> None:
    harness = Harness(rehearse=rehearse, limits=OrganizationLimits(ExecutionLimits(max_messages=3)))
    execution_id = await harness.start({"actions": [loop([{"id": "mail", **EMAIL}], times=5)]})

    execution = harness.execution(execution_id)
    assert execution.status == ExecutionStatus.FAILED
    assert execution.error == "limit_exceeded: 3 messages per execution"
    assert execution.error_category == "limit_exceeded"
    assert execution.messages_sent == 3
    assert len(harness.provider.effects_of(execution_id, "mail")) == 3  # the fourth never went out
    statuses = [status for step, status in harness.steps(execution_id) if step == "mail"]
    assert statuses == [StepStatus.SUCCEEDED] * 3 + [StepStatus.FAILED]
    [letter] = harness.store.dead_letters_of(execution_id)
    assert letter["category"] == "limit_exceeded" and letter["step_id"] == "mail"


async def test_an_execution_over_the_steps_cap_fails_naming_the_cap(rehearse: bool) -> None:
    harness = Harness(rehearse=rehearse, limits=OrganizationLimits(ExecutionLimits(max_steps=20)))
    body = [{"type": "add_tag", "config": {"tag": "t"}}]
    execution_id = await harness.start({"actions": [loop(body, times=50)]})

    execution = harness.execution(execution_id)
    assert execution.status == ExecutionStatus.FAILED
    assert execution.error == "limit_exceeded: 20 steps per execution"
    assert execution.steps_run == 20


async def test_a_workflow_within_the_caps_counts_every_visit_exactly() -> None:
    harness = Harness(max_steps_per_job=3)  # handed over to RESUME jobs again and again
    body = [{"id": "mail", **EMAIL}, {"type": "add_tag", "config": {"tag": "t"}}]
    execution_id = await harness.start({"actions": [loop(body, times=4)]})

    execution = harness.execution(execution_id)
    assert execution.status == ExecutionStatus.COMPLETED
    assert execution.steps_run == 1 + 4 * (2 + 1)  # the loop step on entry and after each iteration
    assert execution.messages_sent == 4


class NoConsent:
    """A send skipped for want of consent: neither sent nor failed."""

    type = "send_whatsapp"

    async def run(self, ctx: ActionContext) -> ActionResult:
        return ActionResult(status=StepStatus.SKIPPED, reason="no whatsapp consent")


async def test_skipped_messages_are_not_sends_and_delays_and_retries_are_one_visit() -> None:
    harness = Harness(actions={"send_sms": fakes.Flaky("send_sms"), "send_whatsapp": NoConsent()})
    execution_id = await harness.start(
        {
            "actions": [
                {"type": "add_tag", "config": {"tag": "t"}, "delay": {"value": 1, "unit": "hours"}},
                {"id": "wa", "type": "send_whatsapp", "config": {"body": "b"}},
                {"id": "sms", "type": "send_sms", "config": {"body": "b", "failures": 2}},
            ]
        }
    )
    await harness.advance(hours=1)  # the delay
    for _ in range(3):
        await harness.advance(minutes=20)  # the retries
    execution = harness.execution(execution_id)
    assert execution.status == ExecutionStatus.COMPLETED
    assert len(harness.provider.calls_of(execution_id, "sms")) == 3
    assert ("wa", StepStatus.SKIPPED) in harness.steps(execution_id)
    assert (execution.steps_run, execution.messages_sent) == (3, 1)


async def test_a_send_that_crashed_after_the_provider_call_is_counted_once(rehearse: bool) -> None:
    harness = Harness(
        rehearse=rehearse,
        limits=OrganizationLimits(ExecutionLimits(max_messages=1)),
        actions={"send_whatsapp": fakes.CrashesOnce("send_whatsapp")},
    )
    job = harness.start_job(
        {"actions": [{"id": "wa", "type": "send_whatsapp", "config": {"body": "b"}}, {"id": "mail", **EMAIL}]}
    )
    with pytest.raises(fakes.SimulatedCrash):
        await harness.engine.handle(job)
    await harness.engine.handle(job)  # the redelivered START job finishes the same attempt

    execution = harness.execution(job.execution_id)
    assert execution.messages_sent == 1
    assert execution.status == ExecutionStatus.FAILED  # the email would be the second message
    assert execution.error == "limit_exceeded: 1 messages per execution"
    assert harness.provider.effects_of(job.execution_id, "mail") == []


async def test_an_organizations_own_caps_win_over_the_configured_and_the_default() -> None:
    limits = OrganizationLimits(
        ExecutionLimits(max_steps=10_000, max_messages=1_000),
        {ORG: LimitOverride(max_messages=5), "org_other": LimitOverride(max_messages=1)},
    )
    assert limits.base(ORG) == ExecutionLimits(10_000, 5)
    harness = Harness(limits=limits)
    harness.store.state.org_limits[ORG] = LimitOverride(max_messages=2)
    execution_id = await harness.start({"actions": [loop([{"id": "mail", **EMAIL}], times=3)]})
    assert harness.execution(execution_id).error == "limit_exceeded: 2 messages per execution"


async def test_cached_caps_are_bounded_and_expire() -> None:
    now = [0.0]
    limits = OrganizationLimits(cache_s=10, max_entries=2, monotonic=lambda: now[0])
    harness = Harness(limits=limits)
    async with harness.store.transaction() as tx:
        tx.state.org_limits["a"] = LimitOverride(max_steps=7)
        assert (await limits.of(tx, "a")).max_steps == 7
        tx.state.org_limits["a"] = LimitOverride(max_steps=8)
        assert (await limits.of(tx, "a")).max_steps == 7  # cached
        now[0] = 11
        assert (await limits.of(tx, "a")).max_steps == 8  # expired
        await limits.of(tx, "b")
        await limits.of(tx, "c")
        assert len(limits._cache) == 2 and "a" not in limits._cache


class _SlowLimits:
    """A transaction whose read of ``org_limits`` waits until told, as a slow database would."""

    def __init__(self, own: LimitOverride) -> None:
        self.own = own
        self.reading = asyncio.Event()
        self.release = asyncio.Event()

    async def organization_limits(self, org_id: str) -> LimitOverride | None:
        self.reading.set()
        await self.release.wait()
        return self.own


async def test_caps_read_by_a_step_before_they_were_changed_are_not_cached_after_the_change() -> None:
    limits = OrganizationLimits()
    tx = _SlowLimits(LimitOverride(max_messages=5))
    step = asyncio.create_task(limits.of(cast("Transaction", tx), ORG))
    await tx.reading.wait()
    limits.forget(ORG)  # SetOrganizationLimits committed max_messages=50 meanwhile
    tx.release.set()
    assert (await step).max_messages == 5  # that step ran under the caps it read
    fresh = _SlowLimits(LimitOverride(max_messages=50))
    fresh.release.set()
    assert (await limits.of(cast("Transaction", fresh), ORG)).max_messages == 50
