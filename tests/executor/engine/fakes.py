"""Test-only actions, injected into a real executor through ``action_plugins``.

They stand in for providers: each records what it was asked to do by idempotency key, so a test
can tell attempts (every call) from effects (one per key, as a deduplicating provider would).
:data:`PROVIDER` is reset by the ``provider`` fixture before each test; the executor reaches it
through :func:`plugin`, the ``tests.executor.engine.fakes:plugin`` action plugin.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from beez.executor.actions.base import Action, ActionContext, ActionResult, PermanentError, TransientError


class SimulatedCrash(BaseException):
    """Raised by an action to stand for the process dying right after the provider call."""


@dataclass
class Provider:
    """What the fake providers were asked to do."""

    calls: list[ActionContext] = field(default_factory=list)
    effects: dict[str, ActionContext] = field(default_factory=dict)
    """One entry per idempotency key: what a deduplicating provider would have done."""
    failures: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    crashed: set[str] = field(default_factory=set)
    broken: set[str] = field(default_factory=set)
    """Execution ids for which ``test_fails_until_repaired`` still fails."""
    gate: asyncio.Event = field(default_factory=asyncio.Event)
    """``test_gate`` actions wait for it."""

    def record(self, ctx: ActionContext) -> None:
        self.calls.append(ctx)
        self.effects.setdefault(ctx.idempotency_key, ctx)

    def calls_of(self, execution_id: str, step_id: str | None = None) -> list[ActionContext]:
        return [
            c
            for c in self.calls
            if c.execution_id == execution_id and (step_id is None or c.step_id == step_id)
        ]

    def effects_of(self, execution_id: str, step_id: str | None = None) -> list[ActionContext]:
        return [
            c
            for c in self.effects.values()
            if c.execution_id == execution_id and (step_id is None or c.step_id == step_id)
        ]


PROVIDER = Provider()


@dataclass
class Record:
    """Succeeds, echoing its rendered config as output; ``config.vars`` are set as variables."""

    type: str

    async def run(self, ctx: ActionContext) -> ActionResult:
        PROVIDER.record(ctx)
        config = dict(ctx.config)
        variables = config.pop("vars", {})
        return ActionResult(output={"config": config, "to": ctx.contact.get("email", "")}, vars=variables)


@dataclass
class Flaky:
    """Fails transiently ``config.failures`` times per execution, then succeeds."""

    type: str = "test_flaky"

    async def run(self, ctx: ActionContext) -> ActionResult:
        PROVIDER.record(ctx)
        if PROVIDER.failures[ctx.execution_id] < int(ctx.config.get("failures", 2)):
            PROVIDER.failures[ctx.execution_id] += 1
            raise TransientError("provider answered 503", retry_after=ctx.config.get("retry_after"))
        return ActionResult(output={"attempt": ctx.attempt})


@dataclass
class Broken:
    """Always fails permanently."""

    type: str = "test_broken"

    async def run(self, ctx: ActionContext) -> ActionResult:
        PROVIDER.record(ctx)
        raise PermanentError("provider refused the request (400)", category="bad_request")


@dataclass
class FailsUntilRepaired:
    """Fails permanently while the execution id is in ``PROVIDER.broken``."""

    type: str = "test_fails_until_repaired"

    async def run(self, ctx: ActionContext) -> ActionResult:
        PROVIDER.record(ctx)
        if ctx.execution_id in PROVIDER.broken:
            raise PermanentError("not yet", category="bad_request")
        return ActionResult(output={"ok": True})


@dataclass
class CrashesOnce:
    """Performs its effect, then the first time per execution dies before returning."""

    type: str = "test_crashes_once"

    async def run(self, ctx: ActionContext) -> ActionResult:
        PROVIDER.record(ctx)
        if ctx.execution_id not in PROVIDER.crashed:
            PROVIDER.crashed.add(ctx.execution_id)
            raise SimulatedCrash()
        return ActionResult(output={"attempt": ctx.attempt})


@dataclass
class Gate:
    """Holds its job until the test opens ``PROVIDER.gate``."""

    type: str = "test_gate"

    async def run(self, ctx: ActionContext) -> ActionResult:
        PROVIDER.record(ctx)
        await PROVIDER.gate.wait()
        return ActionResult()


def plugin(settings: Any) -> dict[str, Action]:
    """The ``action_plugins`` entry: the fakes, plus a recording ``send_email`` and ``send_sms``."""
    actions: list[Action] = [
        Record("test_record"),
        Record("send_email"),
        Record("send_sms"),
        Flaky(),
        Broken(),
        FailsUntilRepaired(),
        CrashesOnce(),
        Gate(),
    ]
    return {action.type: action for action in actions}
