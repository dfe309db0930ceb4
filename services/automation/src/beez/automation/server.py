"""Assembles the automation service: its servicers, probes and background loops."""

from __future__ import annotations

import asyncio
import contextlib

import grpc
from sqlalchemy.exc import SQLAlchemyError

from beez.api.automation.v1 import (
    automation_pb2,
    automation_pb2_grpc,
    catalog_pb2,
    catalog_pb2_grpc,
    templates_pb2,
    templates_pb2_grpc,
)
from beez.automation import models
from beez.automation.builder import BuilderService
from beez.automation.config import AutomationSettings
from beez.automation.connections import ExecutorConnections
from beez.automation.domain.rules import OrganizationRules
from beez.automation.handlers import AutomationServicer, CatalogServicer
from beez.automation.library.loader import load_library
from beez.automation.limits import ExecutorLimits
from beez.automation.service import AutomationService, CatalogService
from beez.automation.stats import AnalyticsStats
from beez.automation.template_handlers import TemplateServicer
from beez.automation.template_service import TemplateService
from beez.kit.bus.limits import edge_limit, workflow_limit
from beez.kit.grpc.server import ServerSpec
from beez.kit.logging import get_logger
from beez.kit.runtime import Runtime
from beez.workflow.amplification import ExecutionLimits
from beez.workflow.conditions.cost import set_cost_budget
from beez.workflow.senders import SenderPolicy

log = get_logger(__name__)

SERVICE_NAMES = [
    automation_pb2.DESCRIPTOR.services_by_name["AutomationService"].full_name,
    catalog_pb2.DESCRIPTOR.services_by_name["CatalogService"].full_name,
    templates_pb2.DESCRIPTOR.services_by_name["TemplateService"].full_name,
]


def organization_rules(settings: AutomationSettings) -> OrganizationRules:
    """The caps and verified senders of :class:`OrganizationRules`, from the settings."""
    defaults = ExecutionLimits(settings.max_steps_per_execution, settings.max_messages_per_execution)
    return OrganizationRules(
        defaults,
        {
            org_id: ExecutionLimits(
                own.max_steps_per_execution or defaults.max_steps,
                own.max_messages_per_execution or defaults.max_messages,
            )
            for org_id, own in settings.org_limits.items()
        },
        SenderPolicy(settings.default_from, settings.verified_senders),
        settings.schedule_min_interval_s,
    )


async def build(runtime: Runtime) -> ServerSpec:
    """The automation service's part of the server.

    Analytics is not a probe: the service works without it (GetAutomation answers without stats).
    The template library is checked and stored before serving: a template file that fails its
    checks stops the start (decision 0048).
    Once NATS is up it announces every live automation again (``reannounce_on_start``).
    """
    settings = runtime.settings
    assert isinstance(settings, AutomationSettings)
    set_cost_budget(settings.condition_max_cost)
    stats = AnalyticsStats(settings.analytics_addr, settings.analytics_timeout_s, settings.tls_files())
    limits = ExecutorLimits(
        settings.executor_addr,
        settings.executor_timeout_s,
        settings.tls_files(),
        cache_s=settings.org_limits_cache_s,
    )
    connections = ExecutorConnections(
        settings.executor_addr,
        settings.executor_timeout_s,
        settings.tls_files(),
        cache_s=settings.org_limits_cache_s,
    )
    service = AutomationService(
        runtime.db,
        runtime.topology,
        runtime.clock,
        stats,
        max_workflow_bytes=edge_limit(settings.max_workflow_bytes, workflow_limit, lambda: runtime.nc),
        rules=organization_rules(settings),
        limits=limits,
        connections=connections,
    )

    templates = TemplateService(runtime.db, runtime.clock, service, load_library())

    async def store_templates() -> None:
        """Stores the built-ins, retrying while PostgreSQL is unreachable."""
        delay = 0.5
        while True:
            try:
                written = await templates.sync()
            except (OSError, SQLAlchemyError) as exc:
                log.warning("template library not stored yet", error=type(exc).__name__)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
                continue
            log.info("template library stored", templates=len(templates.library.templates), written=written)
            return

    with contextlib.suppress(TimeoutError):  # stored before serving when the database answers
        await asyncio.wait_for(store_templates(), timeout=5)

    async def reannounce() -> None:
        await runtime.nats_ready.wait()
        announced = await service.reannounce()
        log.info("automations announced again", count=announced)

    def register(server: grpc.aio.Server) -> None:
        automation_pb2_grpc.add_AutomationServiceServicer_to_server(
            AutomationServicer(
                service,
                internal_callers=frozenset(settings.resync_callers.split(",")) - {""},
                local_mode=settings.local_mode,
            ),
            server,
        )
        catalog_pb2_grpc.add_CatalogServiceServicer_to_server(
            CatalogServicer(CatalogService(), BuilderService(service, runtime.clock)), server
        )
        templates_pb2_grpc.add_TemplateServiceServicer_to_server(TemplateServicer(templates), server)

    return ServerSpec(
        register=register,
        service_names=SERVICE_NAMES,
        probes={},
        background=[
            runtime.outbox_relay(models.outbox),
            store_templates,
            *([reannounce] if settings.reannounce_on_start else []),
        ],
        on_stop=[stats.close, limits.close, connections.close],
    )
