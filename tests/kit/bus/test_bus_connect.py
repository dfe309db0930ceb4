"""Connecting: reconnect forever, and refuse servers older than the engine needs."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from nats.aio.client import ServerVersion

from beez.kit.bus import MIN_SERVER_VERSION, connect, require_server_version


async def test_connect_reconnects_forever_and_accepts_this_server(nats_url: str) -> None:
    nc = await connect(nats_url, "test-connect")
    try:
        assert nc.is_connected
        assert nc.options["max_reconnect_attempts"] == -1
        require_server_version(nc)
        version = nc.connected_server_version
        assert (version.major, version.minor) >= MIN_SERVER_VERSION[:2]
    finally:
        await nc.close()


@dataclass
class ConnectedTo:
    """Stands for a client connected to a server reporting ``connected_server_version``."""

    connected_server_version: ServerVersion


def test_older_server_is_refused_naming_both_versions() -> None:
    with pytest.raises(RuntimeError, match=r"2\.9\.25 is too old.*2\.10\.0"):
        require_server_version(ConnectedTo(ServerVersion("2.9.25")))


def test_newer_major_version_is_accepted() -> None:
    require_server_version(ConnectedTo(ServerVersion("3.0.1")))
