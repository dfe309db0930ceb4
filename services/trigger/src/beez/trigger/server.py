"""Assembles the trigger service: its servicer, probes and background loops."""

from __future__ import annotations

import grpc

from beez.api.trigger.v1 import trigger_pb2, trigger_pb2_grpc
from beez.kit.bus.limits import edge_limit, event_limit
from beez.kit.grpc.server import ServerSpec
from beez.kit.runtime import Runtime
from beez.trigger import consumers, maintenance, models
from beez.trigger.config import TriggerSettings
from beez.trigger.credits import StartCredits
from beez.trigger.handlers import EventServicer
from beez.trigger.ingest import Ingestor
from beez.trigger.limits import ingest_limit
from beez.trigger.resync import IndexResync
from beez.trigger.slots import ExecutorStates, SlotReconciler
from beez.trigger.sweeper import StartSweeper

SERVICE_NAMES = [
    trigger_pb2.DESCRIPTOR.services_by_name["EventService"].full_name,
]


async def build(runtime: Runtime) -> ServerSpec:
    """The trigger service's part of the server."""
    settings = runtime.settings
    assert isinstance(settings, TriggerSettings)
    ingestor = Ingestor(
        runtime.db,
        runtime.clock,
        runtime.topology,
        max_event_bytes=edge_limit(settings.max_event_bytes, event_limit, lambda: runtime.nc),
        compiled_cache_size=settings.compiled_cache_size,
        credits=StartCredits(runtime.topology, settings.start_credits_per_org),
    )

    def register(server: grpc.aio.Server) -> None:
        event_service = EventServicer(
            runtime.db,
            ingestor,
            batch_max=settings.publish_batch_max,
            page_size=settings.list_page_size,
            page_size_max=settings.list_page_size_max,
        )
        trigger_pb2_grpc.add_EventServiceServicer_to_server(event_service, server)

    limit = ingest_limit(runtime.db, runtime.clock, settings)
    factories = consumers.worker_factories(
        runtime.topology, settings, runtime.db, runtime.clock, ingestor, ingest_limit=limit
    )

    async def housekeeping() -> None:
        await maintenance.run(runtime.db, runtime.clock, settings)

    sweeper = StartSweeper(
        runtime.db,
        runtime.clock,
        runtime.topology,
        redispatch_after=settings.start_redispatch_after_s,
        max_redispatches=settings.start_redispatch_max,
        interval=settings.start_sweep_interval_s,
        batch=settings.start_sweep_batch,
        credits=ingestor.credits,
    )
    reconciler = SlotReconciler(
        runtime.db,
        runtime.clock,
        ExecutorStates(settings.executor_addr, settings.executor_timeout_s, settings.tls_files()),
        held_after=settings.slot_reconcile_after_s,
        interval=settings.slot_reconcile_interval_s,
        batch=settings.slot_reconcile_batch,
    )

    resync = IndexResync(runtime.db, settings.automation_addr, settings.tls_files())

    return ServerSpec(
        register=register,
        service_names=SERVICE_NAMES,
        probes={},
        background=[
            runtime.outbox_relay(models.outbox),
            *(runtime.consumers(durable, factory) for durable, factory in factories.items()),
            housekeeping,
            sweeper.run,
            *([resync.run_at_start] if settings.resync_on_empty_index else []),
            reconciler.run,
        ],
    )
