"""The gauge of steps waiting on a connection's rate limit, per provider (decision 0040).

``beez.executor.integrations.waiting`` (attribute ``provider``) is read from the timers table
every ``interval_s`` by :meth:`WaitingSteps.run`, so it counts the waiting steps of every
replica, not only this one's; the observable gauge reports the last count.
"""

from __future__ import annotations

import asyncio

from opentelemetry import metrics
from opentelemetry.metrics import CallbackOptions, Observation

from beez.executor.connections.store import waiting_by_provider
from beez.kit.db import Database
from beez.kit.logging import get_logger

__all__ = ["WaitingSteps"]

log = get_logger(__name__)


class WaitingSteps:
    """Keeps the waiting-steps gauge current."""

    def __init__(self, db: Database, interval_s: float = 15.0, meter: metrics.Meter | None = None) -> None:
        self.db = db
        self.interval_s = interval_s
        self.counts: dict[str, int] = {}
        (meter or metrics.get_meter("beez.executor")).create_observable_gauge(
            "beez.executor.integrations.waiting",
            callbacks=[self._observe],
            unit="{step}",
            description="Steps waiting on a connection's rate limit, per provider.",
        )

    def _observe(self, options: CallbackOptions) -> list[Observation]:
        return [Observation(count, {"provider": provider}) for provider, count in self.counts.items()]

    async def refresh(self) -> None:
        found = await waiting_by_provider(self.db)
        self.counts = {provider: found.get(provider, 0) for provider in {*self.counts, *found}}

    async def run(self) -> None:
        while True:
            try:
                await self.refresh()
            except Exception as exc:
                log.warning("counting waiting steps failed", error=repr(exc))
            await asyncio.sleep(self.interval_s)
