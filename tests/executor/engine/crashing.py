"""An action plugin that crashes right after a real provider call, before the step settles.

``plugin`` wraps the real actions of the types in :data:`TYPES`: each runs as registered (its
request reaches the provider's stand-in), then, for an execution listed in :data:`CRASH`, raises
:class:`~tests.executor.engine.fakes.SimulatedCrash` as if the process died before the commit.
Redelivery then runs the same attempt again, under the same idempotency key.
"""

from __future__ import annotations

from typing import Any

from beez.executor.actions.base import Action, ActionContext, ActionResult
from beez.executor.actions.providers import set_b
from beez.executor.actions.registry import ActionRegistry, build_registry
from tests.executor.engine.fakes import SimulatedCrash

TYPES = set_b.TYPES
CRASH: set[str] = set()
"""Execution ids whose next provider call crashes after the provider answered."""
REGISTRIES: list[ActionRegistry] = []
"""The registries the plugin built (their HTTP clients are closed by the test's fixture)."""


class CrashAfterCall:
    """A real action that, for the executions in :data:`CRASH`, dies after its call once."""

    def __init__(self, inner: Action) -> None:
        self.inner = inner
        self.type = inner.type

    async def run(self, ctx: ActionContext) -> ActionResult:
        result = await self.inner.run(ctx)
        if ctx.execution_id in CRASH:
            CRASH.discard(ctx.execution_id)
            raise SimulatedCrash()
        return result


def plugin(settings: Any) -> dict[str, Action]:
    registry = build_registry(settings.actions)
    REGISTRIES.append(registry)
    return {type_: CrashAfterCall(registry[type_]) for type_ in TYPES}
