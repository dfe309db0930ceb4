"""One automation service per test module (real PostgreSQL, NATS and gRPC, in-process).

Tests isolate themselves by organization, the way tenants are isolated in production: every
test works in an organization of its own, so they share the service without seeing each other.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from beez.kit.embedded import free_port
from tests.automation.support import Api, delete_streams
from tests.support.inproc import InProcService, running_service
from tests.support.servers import create_database, drop_database, unique_prefix


@dataclass
class AutomationEnv:
    """The module's automation service, its database and its bus prefix."""

    svc: InProcService
    database_url: str
    prefix: str


@pytest.fixture(scope="module")
async def env(admin_url: str, nats_url: str) -> AsyncIterator[AutomationEnv]:
    """The automation service, with analytics pointing at a port nobody listens on."""
    database_url = create_database(admin_url)
    prefix = unique_prefix()
    try:
        async with running_service(
            "automation",
            database_url,
            nats_url,
            prefix,
            analytics_addr=f"127.0.0.1:{free_port()}",
            executor_addr=f"127.0.0.1:{free_port()}",
        ) as svc:
            yield AutomationEnv(svc, database_url, prefix)
            assert svc.runtime.js is not None
            await delete_streams(svc.runtime.js, prefix)
    finally:
        drop_database(admin_url, database_url)


@pytest.fixture
def api(env: AutomationEnv) -> Api:
    """A client acting for a user of a fresh organization."""
    return Api.of(env.svc)


@pytest.fixture
def other(env: AutomationEnv) -> Api:
    """A client acting for another organization."""
    return Api.of(env.svc)
