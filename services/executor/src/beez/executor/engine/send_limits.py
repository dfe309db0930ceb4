"""Outbound send limits per organization and per channel, shared by every executor replica.

Before an external action step begins an attempt, :class:`SendLimits` takes one token from the
organization's bucket for that channel (``send:<org>:<channel>``) and then from the
organization's bucket for all its sends (``send:<org>``), in the executor's
``rate_buckets`` (decision 0024). When either is empty the step is not attempted: the execution
waits on a ``rate_limit`` timer for the bucket's retry-after and runs the step then, so the
deferral is neither a failure nor an attempt of the step's retry policy (decision 0031).

The buckets are checked on a small engine of their own: the step's transaction already holds a
connection of the main pool, and waiting for a second one there could exhaust it under load.
"""

from __future__ import annotations

from collections.abc import Mapping

from opentelemetry import metrics

from beez.kit.ratelimit import Limit, RateLimiter
from beez.workflow import catalog

QUOTA_ORG = "sends_per_organization"
QUOTA_CHANNEL = "sends_per_organization_channel"


def send_channel(action_type: str) -> str:
    """The channel an action sends on: the contact channel (email, sms, whatsapp) or its type."""
    return catalog.channel(action_type) or action_type


class SendLimits:
    """Decides whether an organization may make one more send on a channel now."""

    def __init__(
        self,
        limiter: RateLimiter,
        per_org: Limit,
        per_channel: Mapping[str, Limit],
        default_channel: Limit,
        meter: metrics.Meter | None = None,
    ) -> None:
        self._limiter = limiter
        self._per_org = per_org
        self._per_channel = dict(per_channel)
        self._default_channel = default_channel
        self._deferred = (meter or metrics.get_meter("beez.executor")).create_counter(
            "beez.executor.sends.deferred",
            unit="{step}",
            description="Send steps deferred by a send limit (per organization, or per channel).",
        )

    async def wait(self, org: str, action_type: str) -> float | None:
        """None when the send may go now (its tokens are taken); else the seconds to wait."""
        channel = send_channel(action_type)
        checks = [
            (f"send:{org}:{channel}", self._per_channel.get(channel, self._default_channel)),
            (f"send:{org}", self._per_org),
        ]
        decision = await self._limiter.acquire_all(checks)
        if decision.allowed:
            return None
        quota = QUOTA_ORG if decision.key == f"send:{org}" else QUOTA_CHANNEL
        self._deferred.add(1, {"org": org, "channel": channel, "quota": quota})
        return decision.retry_after
