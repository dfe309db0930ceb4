"""What a service process is made of, and the ``main()`` every service shares.

A :class:`Runtime` holds the process's connections: its database (its own schema), NATS with
JetStream, the stream topology and the clock. NATS is connected in the background, so a service
whose NATS is down still starts, reports NOT_SERVING, and becomes SERVING by itself when NATS
comes up. :func:`main` gives every service the same command line: ``serve`` (default) and
``migrate``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import uvloop
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from sqlalchemy import Table

from beez.kit.bus.connect import connect, require_server_version
from beez.kit.bus.credentials import NatsCredentials, inbox_prefix
from beez.kit.bus.lifecycle import WorkersFactory, run_workers
from beez.kit.bus.outbox import DirectPublisher
from beez.kit.bus.publisher import Publisher
from beez.kit.bus.relay import OutboxRelay
from beez.kit.bus.topology import Topology, ensure_streams
from beez.kit.clock import Clock, SystemClock, clock_from_settings
from beez.kit.db import Database, InsecureDatabaseError
from beez.kit.grpc.health_port import HealthPort
from beez.kit.grpc.peers import TrustedPeers
from beez.kit.grpc.server import Server, ServerSpec
from beez.kit.logging import configure_logging, get_logger
from beez.kit.redact import redact_url
from beez.kit.settings import ServiceSettings, load_settings
from beez.kit.telemetry import configure_tracing

log = get_logger(__name__)


DIRECT_MIN_AGE = timedelta(seconds=5)
"""With direct publishing, how old an unsent outbox row is before the relay sends it instead."""


@dataclass
class Runtime:
    """The shared connections of one service process."""

    settings: ServiceSettings
    db: Database
    topology: Topology
    clock: Clock = field(default_factory=SystemClock)
    nc: NATS | None = None
    js: JetStreamContext | None = None
    nats_ready: asyncio.Event = field(default_factory=asyncio.Event)
    nats_credentials: NatsCredentials = field(default_factory=NatsCredentials)

    async def connect_nats(self) -> None:
        """Connects (retrying until it succeeds), checks the server version, declares streams.

        The service's NATS user is named after it, and its reply inboxes live under its name
        (:func:`~beez.kit.bus.credentials.inbox_prefix`), where that user may subscribe.
        """
        delay = 0.2
        name = self.settings.service_name
        while True:
            try:
                nc = await connect(
                    self.settings.nats_url,
                    f"beez-{name}",
                    credentials=self.nats_credentials,
                    inbox_prefix=inbox_prefix(name),
                )
                break
            except Exception as exc:
                log.warning("nats unavailable; retrying", error=repr(exc), retry_in_s=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
        require_server_version(nc)
        js = nc.jetstream()
        await ensure_streams(js, self.topology, limits=self.settings.streams)
        self.nc, self.js = nc, js
        self.nats_ready.set()
        log.info("nats connected", server=redact_url(nc.connected_url.geturl() if nc.connected_url else ""))

    def outbox_relay(self, table: Table) -> Callable[[], Awaitable[None]]:
        """A background loop relaying ``table``'s outbox to JetStream once NATS is up."""

        async def relay() -> None:
            await self.nats_ready.wait()
            assert self.js is not None
            publisher = Publisher(self.js)
            if not self.settings.outbox_direct_publish:
                await OutboxRelay(self.db, table, publisher).run()
                return
            direct = DirectPublisher(self.db, table, publisher)
            direct.install()
            try:
                await OutboxRelay(self.db, table, publisher, min_age=DIRECT_MIN_AGE).run()
            finally:
                direct.uninstall()

        return relay

    def consumers(self, name: str, build: WorkersFactory) -> Callable[[], Awaitable[None]]:
        """A background loop running the workers ``build`` makes, once NATS is up.

        The one consumer lifecycle of every service (:mod:`beez.kit.bus.lifecycle`): the workers
        start when JetStream is connected and, when the server stops, drain for up to
        ``drain_grace_s`` before they stop.
        """

        async def run() -> None:
            await self.nats_ready.wait()
            assert self.js is not None
            await run_workers(build(self.js), drain_s=self.settings.drain_grace_s)

        run.__qualname__ = name
        return run

    async def nats_ok(self) -> bool:
        """True while connected to NATS and the server answers."""
        if self.nc is None or not self.nc.is_connected:
            return False
        await self.nc.flush(timeout=1)
        return True

    async def close(self) -> None:
        if self.nc is not None and not self.nc.is_closed:
            await self.nc.drain()
        await self.db.dispose()


Build = Callable[[Runtime], Awaitable[ServerSpec]]


async def start(
    settings: ServiceSettings, schema: str, build: Build, clock: Clock | None = None
) -> tuple[Server, Runtime]:
    """Builds the runtime and the service and starts serving; tests use it in-process.

    In production mode (``local_mode`` off) NATS needs credentials and TLS: without them this
    raises :class:`~beez.kit.bus.credentials.InsecureNatsConfiguration` before anything starts.
    """
    credentials = nats_credentials(settings)
    runtime = Runtime(
        settings=settings,
        db=Database(
            settings.database_url,
            schema,
            pool_size=settings.db_pool_size,
            application_name=f"beez-{settings.service_name}",
            pre_ping=settings.db_pool_pre_ping,
            tls=settings.database_tls(),
            statement_timeout_s=settings.db_statement_timeout_s,
            idle_in_transaction_timeout_s=settings.db_idle_in_transaction_timeout_s,
        ),
        topology=Topology(settings.bus_prefix),
        clock=clock or clock_from_settings(settings.clock_offset_file),
        nats_credentials=credentials,
    )
    spec = await build(runtime)
    spec.probes = {"postgres": runtime.db.ping, "nats": runtime.nats_ok, **spec.probes}
    spec.background = [runtime.connect_nats, *spec.background]
    spec.on_stop = [*spec.on_stop, runtime.close]
    server = Server(
        spec,
        settings.listen_host,
        settings.grpc_port,
        health_interval_s=settings.health_interval_s,
        drain_grace_s=settings.drain_grace_s,
        tls=settings.tls_files(),
        peers=None if settings.local_mode else TrustedPeers(settings.allowed_callers()),
        local_mode=settings.local_mode,
        max_concurrent_rpcs=settings.grpc_max_concurrent_rpcs,
    )
    await server.start()
    if settings.health_port is not None:
        # The kubelet's probes cannot present a client certificate; see beez.kit.grpc.health_port.
        health = HealthPort(server.health, settings.listen_host, settings.health_port)
        await health.start()
        spec.on_stop = [*spec.on_stop, health.stop]
    return server, runtime


def nats_credentials(settings: ServiceSettings) -> NatsCredentials:
    """The service's NATS credentials; ValueError when they cannot work, and
    :class:`~beez.kit.bus.credentials.InsecureNatsConfiguration` in production mode without an
    identity or TLS."""
    credentials = NatsCredentials.from_settings(settings)
    credentials.check()
    if not settings.local_mode:
        credentials.require_secure(settings.nats_url)
    return credentials


async def serve(settings: ServiceSettings, schema: str, build: Build) -> None:
    """Serves until a stop signal, then drains and shuts down."""
    server, _ = await start(settings, schema, build)
    configure_gc(settings.gc_threshold)
    await server.wait()


def configure_gc(threshold: int) -> None:
    """Collects the young generation every ``threshold`` allocations (0: Python's default), and
    freezes what is alive now (modules, settings, compiled statements, connections) out of the
    collector's scans for good. See :attr:`ServiceSettings.gc_threshold`."""
    if threshold:
        _, older, oldest = gc.get_threshold()
        gc.set_threshold(threshold, older, oldest)
    gc.collect()
    gc.freeze()


def main(
    settings_cls: type[ServiceSettings],
    schema: str,
    migrations_dir: Path,
    build: Build,
    argv: list[str] | None = None,
) -> None:
    """The command line of a service: ``serve`` (default) or ``migrate``."""
    parser = argparse.ArgumentParser(prog=f"beez-{schema}")
    parser.add_argument("command", nargs="?", default="serve", choices=["serve", "migrate"])
    args = parser.parse_args(argv)
    settings = load_settings(settings_cls)
    configure_logging(settings.service_name, settings.log_level, mask=not settings.log_pii)
    try:
        tls = settings.database_tls()
    except InsecureDatabaseError as exc:
        print(f"refusing to start: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    if args.command == "migrate":
        from beez.kit.migrations import migrate_service

        migrate_service(
            migrations_dir,
            schema,
            migration_url=settings.migration_database_url or settings.database_url,
            service_url=settings.database_url,
            tls=tls,
        )
        log.info("migrated", schema=schema)
        return
    try:
        nats_credentials(settings)
    except ValueError as exc:  # InsecureNatsConfiguration too: one readable line, no traceback
        log.error("invalid configuration", error=str(exc))
        print(f"invalid configuration: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    configure_tracing(
        settings.service_name,
        settings.otlp_endpoint,
        otlp_insecure=settings.otlp_insecure,
        otlp_ca_file=settings.otlp_ca_file,
    )
    run(serve(settings, schema, build), settings.event_loop)


def run(main: Coroutine[Any, Any, None], event_loop: str = "uvloop") -> None:
    """Runs ``main`` to completion on a new event loop of the kind ``event_loop`` names."""
    factory = uvloop.new_event_loop if event_loop == "uvloop" else None
    with asyncio.Runner(loop_factory=factory) as runner:
        runner.run(main)
