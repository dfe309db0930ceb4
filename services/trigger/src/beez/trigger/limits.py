"""The per-organization ingestion limit: events over it are delayed, never dropped (decision 0031).

Every event taken from ``events.>`` spends a token of its organization's bucket
(``ingest:<org>`` in ``trigger.rate_buckets``, shared by every trigger replica). When the bucket
is empty the event is set aside on the OVERFLOW stream (``overflow.events.<org>.<type>``), and
the ``trigger-overflow`` consumer takes it from there: when the bucket is still empty, it raises
:class:`~beez.kit.bus.defer.Deferred` with the bucket's retry-after, and the pull worker holds
the message and tries again then, without counting an attempt. Holding on the main consumer
instead would let one organization's waiting events fill its ``max_ack_pending`` and stall every
other organization behind them (the noisy-neighbour scenario measured a 26x p99).

The deferrals are metrics, per organization: the counter ``beez.trigger.events.deferred`` and the
histogram ``beez.trigger.events.deferral`` (seconds each deferral asks to wait).
"""

from __future__ import annotations

from opentelemetry import metrics

from beez.kit.bus.defer import Deferred
from beez.kit.clock import Clock
from beez.kit.db import Database
from beez.kit.ratelimit import LeasedLimiter, Limit, RateLimiter
from beez.trigger.config import TriggerSettings

QUOTA = "ingest_per_organization"
"""The quota's name, in the deferral's reason and the metrics' ``quota`` attribute."""


class IngestLimit:
    """Admits an organization's event, or defers it for as long as its bucket needs to refill."""

    def __init__(self, limiter: LeasedLimiter, limit: Limit, meter: metrics.Meter | None = None) -> None:
        self._limiter = limiter
        self._limit = limit
        meter = meter or metrics.get_meter("beez.trigger")
        self._deferred = meter.create_counter(
            "beez.trigger.events.deferred",
            unit="{event}",
            description="Events deferred by the per-organization ingestion limit.",
        )
        self._delay = meter.create_histogram(
            "beez.trigger.events.deferral",
            unit="s",
            description="Seconds an event deferred by the ingestion limit was asked to wait.",
        )

    async def wait_for(self, org: str) -> float | None:
        """None when ``org`` may have one more event ingested now, else the seconds to wait."""
        decision = await self._limiter.acquire(f"ingest:{org}", self._limit)
        if decision.allowed:
            return None
        attributes = {"org": org, "quota": QUOTA}
        self._deferred.add(1, attributes)
        self._delay.record(decision.retry_after, attributes)
        return decision.retry_after

    async def admit(self, org: str) -> None:
        """Returns when ``org`` may have one more event ingested; raises Deferred otherwise."""
        delay = await self.wait_for(org)
        if delay is not None:
            raise Deferred(delay, f"{QUOTA}:{org}")


def ingest_limit(db: Database, clock: Clock, settings: TriggerSettings) -> IngestLimit:
    """The limit the settings describe, on buckets in the trigger's schema."""
    limiter = LeasedLimiter(RateLimiter(db.engine, db.schema, clock), lease=settings.ingest_limit_lease)
    return IngestLimit(limiter, Limit(rate=settings.ingest_rate_per_org, burst=settings.ingest_burst_per_org))
