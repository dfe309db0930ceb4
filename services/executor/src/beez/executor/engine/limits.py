"""The caps one execution runs under, per organization, and how the engine enforces them.

An organization's caps (decision 0023) come from, first to last: its own row in ``org_limits``
(set through ``SetOrganizationLimits``), the deployment's ``BEEZ_ORG_LIMITS`` map, and the
defaults ``BEEZ_MAX_STEPS_PER_EXECUTION`` / ``BEEZ_MAX_MESSAGES_PER_EXECUTION``, each cap on
its own. The row is read in the step's transaction and cached per organization for
``cache_s`` (at most ``max_entries`` organizations, least recently used dropped first, in an
:class:`~beez.kit.cache.ExpiringCache`), so a step costs no query; a change through this
process applies at once (a step that read the row before the change does not cache it), through
another replica within ``cache_s``.

Counting, on the execution row and in the transaction that records the step, so a redelivered
job or a restart neither loses nor repeats a count:

* ``steps_run`` grows by one each time the execution arrives at a step and runs it (the
  ``start`` → ``ready`` phase change: a delay, a quiet-hours hold, a retry or a crashed attempt
  resumed later are the same visit; a loop step is visited on entry and after each iteration);
* ``messages_sent`` grows by one when a message step's attempt is settled as sent; a skipped
  message (no consent, no address) and a failed attempt are not sends.

Before a step would go past a cap the execution fails at that step with ``limit_exceeded``,
naming the cap; what it already did stays recorded and counted.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from beez.kit.cache import ExpiringCache
from beez.workflow.amplification import ExecutionLimits

if TYPE_CHECKING:
    from beez.executor.engine.store import Transaction

__all__ = ["LIMIT_EXCEEDED", "LimitOverride", "OrganizationLimits", "messages_exceeded", "steps_exceeded"]

LIMIT_EXCEEDED = "limit_exceeded"
"""The error category of an execution failed for going past a cap."""


@dataclass(frozen=True, slots=True)
class LimitOverride:
    """An organization's own caps; None: the next source decides."""

    max_steps: int | None = None
    max_messages: int | None = None

    def over(self, base: ExecutionLimits) -> ExecutionLimits:
        """``base`` with the caps this one sets."""
        return ExecutionLimits(
            max_steps=self.max_steps or base.max_steps,
            max_messages=self.max_messages or base.max_messages,
        )


def steps_exceeded(limits: ExecutionLimits) -> str:
    return f"{LIMIT_EXCEEDED}: {limits.max_steps} steps per execution"


def messages_exceeded(limits: ExecutionLimits) -> str:
    return f"{LIMIT_EXCEEDED}: {limits.max_messages} messages per execution"


class OrganizationLimits:
    """Every organization's caps; see the module docstring."""

    def __init__(
        self,
        defaults: ExecutionLimits | None = None,
        configured: Mapping[str, LimitOverride] | None = None,
        *,
        cache_s: float = 10.0,
        max_entries: int = 10_000,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.defaults = defaults or ExecutionLimits()
        self._configured = dict(configured or {})
        self._cache: ExpiringCache[str, LimitOverride | None] = ExpiringCache(
            ttl_s=cache_s, max_entries=max_entries, monotonic=monotonic
        )

    def base(self, org_id: str) -> ExecutionLimits:
        """The caps ``org_id`` has when it set none of its own (the deployment's)."""
        configured = self._configured.get(org_id)
        return configured.over(self.defaults) if configured is not None else self.defaults

    def resolve(self, org_id: str, own: LimitOverride | None) -> ExecutionLimits:
        """The caps in force for ``org_id`` given its own row ``own``."""
        base = self.base(org_id)
        return own.over(base) if own is not None else base

    async def of(self, tx: Transaction, org_id: str) -> ExecutionLimits:
        """The caps in force for ``org_id``, its own row read through ``tx`` unless cached."""
        own = await self._cache.get(org_id, lambda: tx.organization_limits(org_id))
        return self.resolve(org_id, own)

    def forget(self, org_id: str) -> None:
        """Drops ``org_id``'s cached row (its caps were just changed)."""
        self._cache.forget(org_id)
