"""Suite-wide fixtures: real PostgreSQL and NATS, isolated per test; the slow lane, by folder.

The tests in :data:`SLOW_FOLDERS` start service processes (``beez up``, the services as
processes, the chaos harness, the benchmark) and are marked ``slow``: ``make test-fast`` leaves
them out, ``make test`` runs everything. A test goes in the slow lane by living in one of those
folders, never by a marker of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import warnings
import weakref
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import nats
import pytest
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext

from tests.support.servers import (
    admin_pg_url,
    create_database,
    drop_database,
    nats_server,
    pg_data_root,
    unique_prefix,
)

os.environ.setdefault("BEEZ_LOCAL_MODE", "true")
"""The suite runs services in local mode (as ``beez up`` does) unless a test asks for production:
the production tests configure certificates, credentials and tokens of their own."""

_CLIENTS: weakref.WeakSet[NATS] = weakref.WeakSet()
_nats_init = NATS.__init__


def _tracked_init(self: NATS) -> None:
    _nats_init(self)
    _CLIENTS.add(self)


NATS.__init__ = _tracked_init  # type: ignore[method-assign]


class LeakedNatsClient(UserWarning):
    """A test left a NATS client open: it would reconnect forever to a server the test stopped,
    flooding the logs and hanging the session loop's close."""


async def _close(clients: list[NATS]) -> None:
    for client in clients:
        with contextlib.suppress(Exception):  # best effort: the leak is reported either way
            await asyncio.wait_for(client.close(), timeout=2)


@pytest.fixture(autouse=True)
async def _close_reconnecting_nats_clients(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    """After each test, closes the NATS clients still trying to reach a server that is gone.

    Such a client (nats-py retries forever with our settings) floods the log and, because its
    reconnect loop does not end on cancellation, hangs the event loop's close. A client that is
    connected is left alone: a longer-lived fixture may own it.
    """
    yield
    lost = [c for c in list(_CLIENTS) if not c.is_closed and (c.is_reconnecting or c.is_connecting)]
    await _close(lost)
    if lost:
        warnings.warn(
            f"a NATS client was left reconnecting (seen after {request.node.nodeid})",
            LeakedNatsClient,
            stacklevel=1,
        )


@pytest.fixture(scope="session", autouse=True)
async def _close_every_nats_client() -> AsyncIterator[None]:
    """At the session's end, closes every client a test or fixture left open, before the loop closes."""
    yield
    await _close([c for c in list(_CLIENTS) if not c.is_closed])


SLOW_FOLDERS = frozenset({"bench", "chaos", "e2e", "services"})
TESTS = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Marks every test under one of :data:`SLOW_FOLDERS` ``slow``."""
    for item in items:
        if item.path.is_relative_to(TESTS) and item.path.relative_to(TESTS).parts[0] in SLOW_FOLDERS:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("servers")


@pytest.fixture(scope="session")
def admin_url(workdir: Path) -> Iterator[str]:
    """A PostgreSQL server the suite may create databases on."""
    url, embedded = admin_pg_url(workdir)
    yield url
    if embedded is not None:
        embedded.stop()


@pytest.fixture(scope="session")
def nats_url(workdir: Path) -> Iterator[str]:
    """A NATS server with JetStream, 2.10 or newer.

    It stops with the session's fixtures; no client outlives it, because every test's leftover
    clients are closed by :func:`_close_leaked_nats_clients` (a client reconnecting forever to a
    stopped server would hang the event loop's close).
    """
    url, embedded = nats_server(workdir)
    yield url
    if embedded is not None:
        embedded.stop()


@pytest.fixture
def database_url(admin_url: str) -> Iterator[str]:
    """A fresh, empty database for one test, dropped afterwards."""
    url = create_database(admin_url)
    yield url
    drop_database(admin_url, url)


@pytest.fixture
def pg_dir() -> Iterator[Path]:
    """A directory for a test's own embedded PostgreSQL, removed afterwards."""
    root = pg_data_root()
    yield root / "pg"
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def bus_prefix() -> str:
    """A stream and subject prefix unique to one test."""
    return unique_prefix()


@pytest.fixture
async def nc(nats_url: str) -> AsyncIterator[NATS]:
    client = await nats.connect(nats_url)
    yield client
    await client.drain()


@pytest.fixture
def js(nc: NATS) -> JetStreamContext:
    return nc.jetstream()
