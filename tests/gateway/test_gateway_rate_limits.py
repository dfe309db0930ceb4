"""Request limits of the real gateway over HTTP: 429, Retry-After and a QuotaFailure naming the quota."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest

from beez.gateway.__main__ import MIGRATIONS
from beez.gateway.config import GatewaySettings
from beez.kit.embedded import free_port
from beez.kit.migrations import upgrade
from tests.support.gateway import running_gateway

QUOTA_FAILURE = "type.googleapis.com/google.rpc.QuotaFailure"
ROUTE = "/api/automations/triggers"


@pytest.fixture
async def gateway(database_url: str) -> Callable[..., Any]:
    """Starts gateways with the given limits on a database whose gateway schema is migrated."""
    await asyncio.to_thread(upgrade, MIGRATIONS, database_url, "gateway")
    nowhere = f"127.0.0.1:{free_port()}"  # the backends are never reached over the limit

    def settings(**limits: Any) -> GatewaySettings:
        addrs: dict[str, Any] = {
            f"{name}_addr": nowhere for name in ("automation", "trigger", "executor", "beezora", "analytics")
        }
        return GatewaySettings(local_mode=True, database_url=database_url, **addrs, **limits)

    return lambda **limits: running_gateway(settings(**limits))


async def get(session: aiohttp.ClientSession, url: str, org: str) -> tuple[int, dict[str, str], Any]:
    async with session.get(url + ROUTE, headers={"X-Org-Id": org}) as response:
        return response.status, dict(response.headers), await response.json()


async def test_an_organization_over_its_rate_gets_429_with_retry_after_and_the_quota_named(
    gateway: Callable[..., Any],
) -> None:
    async with gateway(rate_per_org=0.1, burst_per_org=3) as url, aiohttp.ClientSession() as session:
        within = [await get(session, url, "org_noisy") for _ in range(3)]
        status, headers, body = await get(session, url, "org_noisy")
        other, _, _ = await get(session, url, "org_quiet")

    assert all(s != 429 for s, _, _ in within)
    assert status == 429
    assert 1 <= int(headers["Retry-After"]) <= 10
    assert body["code"] == 8  # RESOURCE_EXHAUSTED
    [detail] = body["details"]
    assert detail["@type"] == QUOTA_FAILURE
    [violation] = detail["violations"]
    assert violation["quotaId"] == "requests_per_organization"
    assert violation["subject"] == "organization:org_noisy"
    assert other != 429, "another organization has its own bucket"


async def test_every_organization_is_refused_over_the_global_rate(gateway: Callable[..., Any]) -> None:
    async with gateway(rate_global=0.1, burst_global=2) as url, aiohttp.ClientSession() as session:
        first = [(await get(session, url, org))[0] for org in ("org_a", "org_b")]
        status, headers, body = await get(session, url, "org_c")

    assert 429 not in first
    assert status == 429 and int(headers["Retry-After"]) >= 1
    assert body["details"][0]["violations"][0]["quotaId"] == "requests_global"


async def test_the_default_limits_leave_ordinary_traffic_alone(gateway: Callable[..., Any]) -> None:
    async with gateway() as url, aiohttp.ClientSession() as session:
        statuses = await asyncio.gather(*(get(session, url, "org_busy") for _ in range(150)))
    assert all(s != 429 for s, _, _ in statuses)
