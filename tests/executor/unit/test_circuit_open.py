"""A step whose provider's circuit is open waits out the cool-down without spending an attempt
(decision 0025): the call failed fast, the provider never saw it."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from beez.executor.actions.base import ActionContext, ActionResult, TransientError
from beez.executor.actions.breaker import CIRCUIT_OPEN
from beez.workflow.retry import DEFAULT_RETRY
from beez.workflow.status import ExecutionStatus, StepStatus
from beez.workflow.waits import WaitKind
from tests.executor.unit.harness import Harness


@dataclass
class BehindAnOpenCircuit:
    """Fails fast ``fast`` times (circuit open, 30 s of cool-down left), then the provider answers
    503 ``slow`` times, then it succeeds."""

    fast: int
    slow: int
    type: str = "test_behind_circuit"
    calls: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))

    async def run(self, ctx: ActionContext) -> ActionResult:
        calls = self.calls[ctx.execution_id]
        calls.append(ctx.attempt)
        if len(calls) <= self.fast:
            raise TransientError("circuit open", category=CIRCUIT_OPEN, retry_after=30)
        if len(calls) <= self.fast + self.slow:
            raise TransientError("provider answered 503", category="http_5xx")
        return ActionResult(output={"attempt": ctx.attempt})


async def test_fail_fasts_while_the_circuit_is_open_do_not_use_up_the_steps_attempts() -> None:
    fast = DEFAULT_RETRY.attempts + 2  # more than the policy allows attempts
    action = BehindAnOpenCircuit(fast=fast, slow=DEFAULT_RETRY.attempts - 1)
    harness = Harness(actions={action.type: action})
    execution_id = await harness.start({"actions": [{"id": "call", "type": action.type}]})

    for _ in range(fast):
        execution = harness.execution(execution_id)
        assert execution.status == ExecutionStatus.WAITING
        assert execution.wait_kind == WaitKind.RATE_LIMIT  # waiting out the cool-down, not a retry
        await harness.advance(seconds=30)
    for _ in range(DEFAULT_RETRY.attempts - 1):  # the real failures do count: all but the last try
        assert harness.execution(execution_id).wait_kind == WaitKind.RETRY
        await harness.advance(days=1)

    assert harness.execution(execution_id).status == ExecutionStatus.COMPLETED
    attempts = action.calls[execution_id]
    assert attempts == list(range(1, len(attempts) + 1))  # every try has a key of its own
    statuses = [status for step, status in harness.steps(execution_id) if step == "call"]
    assert statuses[-1] == StepStatus.SUCCEEDED


async def test_real_failures_after_the_circuit_closes_still_exhaust_the_policy() -> None:
    action = BehindAnOpenCircuit(fast=2, slow=DEFAULT_RETRY.attempts)
    harness = Harness(actions={action.type: action})
    execution_id = await harness.start({"actions": [{"id": "call", "type": action.type}]})
    for _ in range(2):
        await harness.advance(seconds=30)
    for _ in range(DEFAULT_RETRY.attempts):
        await harness.advance(days=1)
    execution = harness.execution(execution_id)
    assert execution.status == ExecutionStatus.FAILED
    assert len(action.calls[execution_id]) == 2 + DEFAULT_RETRY.attempts
