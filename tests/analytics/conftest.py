"""The analytics service in-process, on the test's own database and bus prefix."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from nats.js import JetStreamContext

from tests.automation.support import delete_streams
from tests.support.inproc import InProcService, running_service


@pytest.fixture
async def analytics(
    database_url: str, nats_url: str, bus_prefix: str, js: JetStreamContext
) -> AsyncIterator[InProcService]:
    async with running_service("analytics", database_url, nats_url, bus_prefix) as svc:
        yield svc
    await delete_streams(js, bus_prefix)
