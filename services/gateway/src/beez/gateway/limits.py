"""Request limits: a token bucket per organization and one over all of them, shared by every
gateway replica (``gateway.rate_buckets``, decision 0031).

A request over either limit is answered 429 with ``Retry-After`` and a ``google.rpc.Status`` of
RESOURCE_EXHAUSTED whose ``QuotaFailure`` names the quota (``requests_per_organization`` or
``requests_global``). The organization's bucket is checked first, so a tenant over its own quota
never drains the global one.

The limiter fails open: when its database cannot be reached the requests pass unlimited (and a
warning is logged, then the database is left alone for ``retry_s``), since the backends behind
the gateway, not the gateway, are what the limit protects, and they apply their own bounds.
"""

from __future__ import annotations

import time

import grpc
from google.protobuf import any_pb2
from google.rpc import error_details_pb2

from beez.gateway.errors import GatewayError
from beez.kit.logging import get_logger
from beez.kit.ratelimit import Decision, LeasedLimiter, Limit

log = get_logger(__name__)

QUOTA_ORG = "requests_per_organization"
QUOTA_GLOBAL = "requests_global"
GLOBAL_KEY = "requests:global"


class RequestLimits:
    """Admits a request of an organization, or raises the 429 :class:`GatewayError`."""

    def __init__(self, limiter: LeasedLimiter, per_org: Limit, overall: Limit, retry_s: float = 5.0) -> None:
        self._limiter = limiter
        self._per_org = per_org
        self._overall = overall
        self._retry_s = retry_s
        self._skip_until = 0.0

    async def admit(self, org: str) -> None:
        """Returns when the request may go on; raises RESOURCE_EXHAUSTED (429) otherwise."""
        if time.monotonic() < self._skip_until:
            return
        try:
            decision = await self._limiter.acquire(f"requests:{org}", self._per_org)
            if decision.allowed:
                decision = await self._limiter.acquire(GLOBAL_KEY, self._overall)
        except Exception as exc:
            self._skip_until = time.monotonic() + self._retry_s
            log.warning(
                "rate limiter unavailable: requests pass unlimited", error=f"{type(exc).__name__}: {exc}"
            )
            return
        if not decision.allowed:
            raise over_quota(org, decision)

    async def admit_global(self) -> None:
        """Like :meth:`admit` for a request of no proven organization (an inbound webhook, whose
        own per-hook limit is the trigger's): only the global bucket."""
        if time.monotonic() < self._skip_until:
            return
        try:
            decision = await self._limiter.acquire(GLOBAL_KEY, self._overall)
        except Exception as exc:
            self._skip_until = time.monotonic() + self._retry_s
            log.warning(
                "rate limiter unavailable: requests pass unlimited", error=f"{type(exc).__name__}: {exc}"
            )
            return
        if not decision.allowed:
            raise over_quota("", decision)


def over_quota(org: str, decision: Decision) -> GatewayError:
    """The 429 for a refused ``decision``: ``Retry-After`` and a QuotaFailure naming the quota."""
    quota = QUOTA_GLOBAL if decision.key == GLOBAL_KEY else QUOTA_ORG
    subject = "global" if quota == QUOTA_GLOBAL else f"organization:{org}"
    violation = error_details_pb2.QuotaFailure.Violation(
        subject=subject,
        description=f"{quota} exceeded; retry after {decision.retry_after_header} s",
        quota_id=quota,
    )
    packed = any_pb2.Any()
    packed.Pack(error_details_pb2.QuotaFailure(violations=[violation]))
    return GatewayError(
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        f"too many requests: {quota}",
        [packed],
        headers={"Retry-After": decision.retry_after_header},
    )
