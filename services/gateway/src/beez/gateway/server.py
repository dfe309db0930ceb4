"""The gateway process: channels to the backends, the app, and serving until SIGTERM/SIGINT.

A service's backend is chosen by its package: ``beez.api.<service>.v1.*`` goes to the
``<service>_addr`` setting, so ``CatalogService`` (in ``beez.api.automation.v1``) shares the
automation service's channel. Channels are created inside the serving event loop and closed
when the app shuts down.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import signal

import grpc
from aiohttp import web

from beez.gateway.app import create_app
from beez.gateway.auth_config import authenticator_from_settings
from beez.gateway.config import GatewaySettings
from beez.gateway.contracts import load_service_descriptors
from beez.gateway.limits import RequestLimits
from beez.kit.db import create_engine
from beez.kit.logging import get_logger
from beez.kit.ratelimit import LeasedLimiter, Limit, RateLimiter
from beez.kit.tls import channel

__all__ = ["ChannelPool", "GatewaySettings", "build_app", "run", "serve"]

log = get_logger(__name__)

SCHEMA = "gateway"
"""The gateway's own database schema: its rate buckets (decision 0031)."""

_SERVICE_PACKAGE = re.compile(r"^beez\.api\.(?P<service>[a-z0-9_]+)\.v\d+\.")


class ChannelPool:
    """One channel per backend address, shared by every service that address serves.

    Channels are mutual TLS with the gateway's own certificate when the TLS files are set
    (always in production), plaintext otherwise.
    """

    def __init__(self, settings: GatewaySettings) -> None:
        self.settings = settings
        self.tls = settings.tls_files()
        self.channels: dict[str, grpc.aio.Channel] = {}

    def for_service(self, full_name: str) -> grpc.aio.Channel:
        """The channel for a service, by its package; ``KeyError`` if no setting covers it."""
        found = _SERVICE_PACKAGE.match(full_name)
        if found is None:
            raise KeyError(f"{full_name} is not in a beez.api.<service>.v<N> package")
        address = self.settings.backend_address(found["service"])
        if address not in self.channels:
            self.channels[address] = channel(address, self.tls)
        return self.channels[address]

    async def close(self) -> None:
        await asyncio.gather(*(channel.close() for channel in self.channels.values()))
        self.channels.clear()


async def build_app(settings: GatewaySettings) -> web.Application:
    """The gateway for every service in the contracts, with its channels closed on cleanup.

    Raises :class:`~beez.gateway.auth_config.ConfigurationError` when production mode lacks a
    JWT setting, before any channel is opened.
    """
    auth = authenticator_from_settings(settings)
    limits_engine = None
    limits = None
    if settings.rate_limits:
        limits_engine = create_engine(
            settings.database_url,
            SCHEMA,
            pool_size=settings.db_pool_size,
            application_name="beez-gateway",
            tls=settings.database_tls(),
        )
        limits = RequestLimits(
            LeasedLimiter(RateLimiter(limits_engine, SCHEMA), lease=settings.rate_limit_lease),
            Limit(rate=settings.rate_per_org, burst=settings.burst_per_org),
            Limit(rate=settings.rate_global, burst=settings.burst_global),
        )
    pool = ChannelPool(settings)
    app = create_app(
        pool.for_service,
        load_service_descriptors(),
        auth=auth,
        cors_origins=settings.cors_origin_list,
        request_timeout_s=settings.request_timeout_s,
        limits=limits,
        hook_max_body_bytes=settings.hook_max_body_bytes,
        engagement=settings.engagement(),
    )

    async def close_channels(_: web.Application) -> None:
        await pool.close()
        if limits_engine is not None:
            await limits_engine.dispose()

    app.on_cleanup.append(close_channels)
    if settings.local_mode:
        log.warning(
            "local mode: X-Org-Id/X-User-Id headers are trusted as given, with every role; never expose this",
            host=settings.listen_host,
        )
    log.info("backends", addresses=sorted(pool.channels))
    return app


async def serve(settings: GatewaySettings, stop: asyncio.Event | None = None) -> None:
    """Serves until SIGTERM/SIGINT (or ``stop`` is set), then drains in-flight requests and exits.

    Draining stops accepting connections and gives running requests ``shutdown_grace_s`` to
    finish before the backend channels are closed.
    """
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    runner = web.AppRunner(
        await build_app(settings), access_log=None, shutdown_timeout=settings.shutdown_grace_s
    )
    await runner.setup()
    try:
        site = web.TCPSite(runner, settings.listen_host, settings.http_port)
        await site.start()
        log.info("listening", host=settings.listen_host, port=settings.http_port)
        await stop.wait()
        log.info("draining", grace_s=settings.shutdown_grace_s)
    finally:
        await runner.cleanup()
    log.info("stopped")


def run(settings: GatewaySettings) -> None:
    """Runs :func:`serve` in a new event loop."""
    asyncio.run(serve(settings))
