"""Assembles the trigger service: its servicer, probes and background loops."""

from __future__ import annotations

import grpc

from beez.api.trigger.v1 import (
    contacts_pb2,
    contacts_pb2_grpc,
    hooks_pb2,
    hooks_pb2_grpc,
    trigger_pb2,
    trigger_pb2_grpc,
)
from beez.kit.bus.limits import edge_limit, event_limit
from beez.kit.grpc.server import ServerSpec
from beez.kit.keyring import KeyRing
from beez.kit.paging import PageLimits
from beez.kit.ratelimit import LeasedLimiter, Limit, RateLimiter
from beez.kit.runtime import Runtime
from beez.trigger import consumers, maintenance, models
from beez.trigger.conditions import ConditionSweep
from beez.trigger.config import TriggerSettings
from beez.trigger.contact_handlers import ContactServicer
from beez.trigger.credits import StartCredits
from beez.trigger.handlers import EventServicer, HookServicer
from beez.trigger.hooks import Hooks
from beez.trigger.ingest import Ingestor
from beez.trigger.limits import ingest_limit
from beez.trigger.resync import IndexResync
from beez.trigger.scheduler import Scheduler
from beez.trigger.slots import ExecutorStates, SlotReconciler
from beez.trigger.sweeper import StartSweeper
from beez.workflow.conditions.cost import set_cost_budget

SERVICE_NAMES = [
    trigger_pb2.DESCRIPTOR.services_by_name["EventService"].full_name,
    hooks_pb2.DESCRIPTOR.services_by_name["HookService"].full_name,
    contacts_pb2.DESCRIPTOR.services_by_name["ContactService"].full_name,
]


async def build(runtime: Runtime) -> ServerSpec:
    """The trigger service's part of the server."""
    settings = runtime.settings
    assert isinstance(settings, TriggerSettings)
    set_cost_budget(settings.condition_max_cost)
    ingestor = Ingestor(
        runtime.db,
        runtime.clock,
        runtime.topology,
        max_event_bytes=edge_limit(settings.max_event_bytes, event_limit, lambda: runtime.nc),
        compiled_cache_size=settings.compiled_cache_size,
        counter_retention_days=settings.counter_retention_days,
        condition_cache_size=settings.condition_cache_size,
        credits=StartCredits(runtime.topology, settings.start_credits_per_org),
        min_schedule_interval_s=settings.schedule_min_interval_s,
    )
    scheduler = Scheduler(
        runtime.db,
        runtime.clock,
        runtime.topology,
        ingestor.triggers,
        ingestor.plans,
        ingestor.credits,
        page_size=settings.schedule_page_size,
        interval=settings.schedule_poll_interval_s,
    )
    hooks = Hooks(
        runtime.db,
        runtime.clock,
        ingestor,
        LeasedLimiter(
            RateLimiter(runtime.db.engine, runtime.db.schema, runtime.clock), lease=settings.hook_limit_lease
        ),
        ring=hook_key_ring(settings),
        limit=Limit(rate=settings.hook_rate_per_s, burst=settings.hook_burst),
        public_url=settings.hooks_public_url,
        max_per_org=settings.hooks_max_per_org,
        signature_tolerance_s=settings.hook_signature_tolerance_s,
        page_limits=PageLimits(settings.list_page_size, settings.list_page_size_max),
    )

    def register(server: grpc.aio.Server) -> None:
        event_service = EventServicer(
            runtime.db,
            ingestor,
            scheduler,
            batch_max=settings.publish_batch_max,
            page_size=settings.list_page_size,
            page_size_max=settings.list_page_size_max,
        )
        trigger_pb2_grpc.add_EventServiceServicer_to_server(event_service, server)
        hooks_pb2_grpc.add_HookServiceServicer_to_server(HookServicer(hooks), server)
        contact_service = ContactServicer(
            runtime.db, runtime.clock, ingestor.projector, import_batch_max=settings.import_batch_max
        )
        contacts_pb2_grpc.add_ContactServiceServicer_to_server(contact_service, server)

    limit = ingest_limit(runtime.db, runtime.clock, settings)
    factories = consumers.worker_factories(
        runtime.topology,
        settings,
        runtime.db,
        runtime.clock,
        ingestor,
        ingest_limit=limit,
        credits=ingestor.credits,
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

    condition_sweep = ConditionSweep(
        runtime.db,
        runtime.clock,
        runtime.topology,
        ingestor.projector,
        interval=settings.condition_sweep_interval_s,
        batch=settings.condition_sweep_batch,
    )

    resync = IndexResync(
        runtime.db, settings.automation_addr, settings.tls_files(), timeout_s=settings.resync_timeout_s
    )

    return ServerSpec(
        register=register,
        service_names=SERVICE_NAMES,
        probes={},
        background=[
            runtime.outbox_relay(models.outbox),
            *(runtime.consumers(durable, factory) for durable, factory in factories.items()),
            housekeeping,
            sweeper.run,
            scheduler.run,
            *([resync.run_at_start] if settings.resync_on_empty_index else []),
            reconciler.run,
            condition_sweep.run,
        ],
    )


def hook_key_ring(settings: TriggerSettings) -> KeyRing | None:
    """The ring that encrypts hook secrets: the file's; in local mode without one, the public
    development key; in production without one, None (hooks cannot be created or rotated)."""
    if settings.hook_keys_file or settings.local_mode:
        return KeyRing.load(settings.hook_keys_file, "BEEZ_HOOK_KEYS_FILE")
    return None
