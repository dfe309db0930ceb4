"""Connecting to NATS the way every service does: reconnect forever, log, never crash.

A service keeps one connection for its whole life. When the server restarts or the network
drops, nats-py buffers outgoing messages and reconnects in the background; pull consumers
(:class:`~beez.kit.bus.worker.PullWorker`) and the outbox relay see timeouts meanwhile and carry
on once it is back. Connection trouble is reported through the log, not raised into the service.
"""

from __future__ import annotations

from typing import Any

import nats
from nats.aio.client import Client

from beez.kit.bus.credentials import INBOX_ROOT, NatsCredentials
from beez.kit.logging import get_logger
from beez.kit.redact import redact_url

log = get_logger(__name__)

MIN_SERVER_VERSION = (2, 10, 0)
"""The oldest nats-server the engine runs on.

What we rely on that needs 2.10:

* consumers with several filter subjects (``filter_subjects``, ADR-34, new in 2.10), which
  :class:`~beez.kit.bus.worker.PullWorker` uses when given more than one subject, e.g. an
  executor pool serving only ``jobs.critical.>`` and ``jobs.high.>`` from the work-queue stream;
* the named consumer create API with a filter subject (2.9+), on which the create-or-update
  of :func:`~beez.kit.bus.topology.ensure_consumer` rests.

With TLS, clients start with the TLS handshake (``tls_handshake_first``, see
:mod:`beez.kit.bus.credentials`), which the server accepts from 2.10.4 on (``handshake_first``
in its ``tls`` block); an older server fails the handshake before this check is reached.
Users, nkeys, ``.creds`` and subject permissions are 2.0 (docs/decisions/0017).

``nak(delay)`` and ``in_progress()`` are older than 2.10, but the worker's retry timing and
heartbeats depend on their exact behaviour, which ``tests/kit/bus`` verifies on the server
version we ship rather than assuming it.
"""

RECONNECT_TIME_WAIT = 2
"""Seconds between reconnect attempts to the same server."""


async def connect(
    url: str,
    name: str,
    *,
    credentials: NatsCredentials | None = None,
    inbox_prefix: str = INBOX_ROOT,
    reconnect_time_wait: int = RECONNECT_TIME_WAIT,
    check_version: bool = True,
) -> Client:
    """Connects to ``url`` as client ``name``, retrying forever, and checks the server version.

    ``credentials`` say who the client is and how TLS is verified (nats-py's own options; see
    :mod:`beez.kit.bus.credentials`); ``inbox_prefix`` is where its reply subjects live, which
    must be the inboxes its NATS user may subscribe to (:func:`~beez.kit.bus.credentials.inbox_prefix`).
    ``max_reconnect_attempts=-1`` makes nats-py retry forever, both for the first connection
    (a service started before NATS waits for it) and after a drop. Wrap the call in
    ``asyncio.timeout`` when a bounded wait is wanted (e.g. a CLI).
    """
    options = (credentials or NatsCredentials()).connect_options(url)

    async def on_error(exc: Exception) -> None:
        log.warning("nats error", client=name, error=f"{type(exc).__name__}: {exc}")

    async def on_disconnected() -> None:
        log.warning("nats disconnected", client=name)

    async def on_reconnected() -> None:
        log.info("nats reconnected", client=name, server=_server_url(nc))

    async def on_closed() -> None:
        log.info("nats connection closed", client=name)

    nc: Client = await nats.connect(
        url,
        name=name,
        allow_reconnect=True,
        max_reconnect_attempts=-1,
        reconnect_time_wait=reconnect_time_wait,
        error_cb=on_error,
        disconnected_cb=on_disconnected,
        reconnected_cb=on_reconnected,
        closed_cb=on_closed,
        inbox_prefix=inbox_prefix,
        **options,
    )
    if check_version:
        try:
            require_server_version(nc)
        except RuntimeError:
            await nc.close()
            raise
    log.info("nats connected", client=name, server=_server_url(nc), version=str(_version(nc)))
    return nc


def require_server_version(nc: Any, minimum: tuple[int, int, int] = MIN_SERVER_VERSION) -> None:
    """Raises RuntimeError when the connected server is older than ``minimum``.

    ``nc`` is a connected nats-py client (anything with ``connected_server_version``).
    """
    found = _version(nc)
    if found < minimum:
        raise RuntimeError(
            f"nats-server {'.'.join(map(str, found))} is too old: Beez needs "
            f"{'.'.join(map(str, minimum))} or newer (see beez.kit.bus.connect.MIN_SERVER_VERSION)"
        )


def _version(nc: Any) -> tuple[int, int, int]:
    version = nc.connected_server_version
    try:
        return (int(version.major), int(version.minor), int(version.patch))
    except ValueError:  # "0.0.0-unknown" when not connected parses; garbage does not
        return (0, 0, 0)


def _server_url(nc: Client) -> str:
    """The connected server's address, without any user-info the URL carried."""
    url = nc.connected_url
    return redact_url(url.geturl()) if url is not None else ""
