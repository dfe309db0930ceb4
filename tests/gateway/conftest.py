"""Gateway test fixtures: a real EchoService backend and the gateway served over real HTTP.

The test-only contract is ``protos/beez/testing/v1/echo.proto``; its generated code is
committed in ``gen/`` (regenerate with ``gen_protos.sh``) and put on ``sys.path`` here.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "gen"))

from aiohttp.test_utils import TestClient, TestServer  # noqa: E402

from beez.gateway import create_app  # noqa: E402
from beez.gateway.authn import LocalHeaders  # noqa: E402
from tests.gateway.gateway_echo import (  # noqa: E402
    ECHO_PERMISSIONS,
    SERVICE,
    Backend,
    start_backend,
    stop_backend,
)
from tests.gateway.gateway_support import Gateway, HttpClient  # noqa: E402


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def backend() -> AsyncIterator[Backend]:
    """EchoService on a free port, for the whole session."""
    started = await start_backend()
    yield started
    await stop_backend(started)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def _http(backend: Backend) -> AsyncIterator[HttpClient]:
    app = create_app(
        {SERVICE.full_name: backend.channel},
        [SERVICE],
        auth=LocalHeaders(),
        permissions=ECHO_PERMISSIONS,
        request_timeout_s=0.5,
    )
    async with TestClient(TestServer(app)) as client:
        yield client


@pytest.fixture
def gw(_http: HttpClient, backend: Backend) -> Gateway:
    """The shared gateway, with the backend's call log cleared for this test."""
    backend.calls.clear()
    return Gateway(_http, backend)
