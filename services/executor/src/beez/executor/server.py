"""Assembles the executor service: its servicer, probes and background loops.

Background loops: the outbox relay, the job consumers (one per priority, started once NATS is
up), the consumer of automation announcements the START check reads, the consumer folding the
DLQ stream into the dead-letter table, and the timer loop. The
action registry's HTTP client is closed when the server stops.
"""

from __future__ import annotations

import grpc
from nats.js import JetStreamContext

from beez.api.executor.v1 import (
    actions_pb2,
    actions_pb2_grpc,
    connections_pb2,
    connections_pb2_grpc,
    dead_letters_pb2,
    dead_letters_pb2_grpc,
    executor_pb2,
    executor_pb2_grpc,
)
from beez.executor import models
from beez.executor.actions.base import Action
from beez.executor.actions.registry import build_registry
from beez.executor.actions.requests import NatsRequester
from beez.executor.announcements import AnnouncedWorkflows
from beez.executor.builder.handlers import ActionServicer
from beez.executor.builder.service import ActionTools
from beez.executor.config import ExecutorSettings
from beez.executor.connections.handlers import ConnectionServicer
from beez.executor.connections.service import Connections
from beez.executor.connections.store import ConnectionStore
from beez.executor.connections.waiting import WaitingSteps
from beez.executor.consumers import AutomationsConsumer, JobConsumers
from beez.executor.dlq.consumer import DeadLetterConsumer
from beez.executor.dlq.handlers import DeadLetterServicer
from beez.executor.dlq.service import DeadLetters
from beez.executor.engine import Engine, LimitOverride, OrganizationLimits, SessionStore
from beez.executor.engine.send_limits import SendLimits
from beez.executor.handlers import ExecutionServicer
from beez.executor.org_limits import OrganizationLimitsService
from beez.executor.plugins import plugin_actions
from beez.executor.scheduled import ScheduledSender
from beez.executor.service import ExecutionService
from beez.executor.signing.store import SigningSecrets
from beez.executor.sweeper import Sweeper, default_stale_after
from beez.executor.timers import TimerLoop
from beez.executor.trigger_fires import TriggerFires
from beez.kit.bus.worker import PullWorker
from beez.kit.db import Database, create_engine
from beez.kit.grpc.server import ServerSpec
from beez.kit.keyring import KeyRing
from beez.kit.logging import get_logger
from beez.kit.ratelimit import Limit, RateLimiter
from beez.kit.runtime import Runtime
from beez.kit.tracking import TrackingKeys
from beez.workflow.amplification import ExecutionLimits
from beez.workflow.conditions.cost import set_cost_budget
from beez.workflow.senders import SenderPolicy

log = get_logger(__name__)

SERVICE_NAMES = [
    executor_pb2.DESCRIPTOR.services_by_name["ExecutionService"].full_name,
    dead_letters_pb2.DESCRIPTOR.services_by_name["DeadLetterService"].full_name,
    connections_pb2.DESCRIPTOR.services_by_name["ConnectionService"].full_name,
    actions_pb2.DESCRIPTOR.services_by_name["ActionService"].full_name,
]


def tracking_keys(settings: ExecutorSettings) -> TrackingKeys | None:
    """The keys that sign email tracking tokens (decision 0041): the file's; without one, the
    public development key in local mode, and none (emails untracked) in production."""
    if settings.actions.tracking_base_url and (settings.tracking_keys_file or settings.local_mode):
        return TrackingKeys.load(settings.tracking_keys_file)
    if settings.actions.tracking_base_url:
        log.warning("tracking_base_url is set but BEEZ_TRACKING_KEYS_FILE is not: emails are not tracked")
    return None


async def build(runtime: Runtime) -> ServerSpec:
    """The executor service's part of the server."""
    settings = runtime.settings
    assert isinstance(settings, ExecutorSettings)
    set_cost_budget(settings.condition_max_cost)
    ring = KeyRing.load(settings.signing_keys_file)
    signing = SigningSecrets(runtime.db, ring, cache_s=settings.signing_cache_s)
    senders = SenderPolicy(settings.actions.default_from, settings.verified_senders)
    registry = build_registry(
        settings.actions,
        signing=signing.signing,
        senders=senders,
        tracking_keys=tracking_keys(settings),
        topology=runtime.topology,
        requester=NatsRequester(lambda: runtime.nc),
    )
    actions: dict[str, Action] = {**registry, **plugin_actions(settings)}
    limits = OrganizationLimits(
        ExecutionLimits(settings.max_steps_per_execution, settings.max_messages_per_execution),
        {
            org_id: LimitOverride(own.max_steps_per_execution, own.max_messages_per_execution)
            for org_id, own in settings.org_limits.items()
        },
        cache_s=settings.org_limits_cache_s,
    )
    limits_engine = create_engine(
        settings.database_url,
        runtime.db.schema,
        pool_size=settings.send_limit_pool_size,
        application_name="beez-executor-limits",
        tls=settings.database_tls(),
    )
    limiter = RateLimiter(limits_engine, runtime.db.schema, runtime.clock)
    lookups_db = Database(
        settings.database_url,
        runtime.db.schema,
        pool_size=settings.send_limit_pool_size,
        application_name="beez-executor-connections",
        tls=settings.database_tls(),
    )
    connections = Connections(
        ConnectionStore(runtime.db, ring),
        settings.actions,
        registry.http,
        limiter,
        cache_s=settings.connections_cache_s,
        lookups=ConnectionStore(lookups_db, ring),
    )
    waiting = WaitingSteps(runtime.db)
    engine = Engine(
        SessionStore(runtime.db),
        runtime.topology,
        runtime.clock,
        actions,
        max_steps_per_job=settings.max_steps_per_job,
        limits=limits,
        send_limits=send_limits(settings, limiter),
        integrations=connections,
    )
    timers = TimerLoop(
        runtime.db,
        runtime.topology,
        runtime.clock,
        poll_interval=settings.timer_poll_interval_s,
        batch=settings.timer_batch,
    )
    scheduled = ScheduledSender(
        runtime.db,
        runtime.clock,
        actions["send_email"],
        connections,
        poll_interval=settings.scheduled_poll_interval_s,
        lease_s=settings.scheduled_lease_s,
    )
    sweeper = Sweeper(
        runtime.db,
        runtime.topology,
        runtime.clock,
        stale_after=settings.sweeper_stale_after_s
        or default_stale_after(settings.job_timeout_s, settings.job_ack_wait_s, settings.job_max_deliver),
        interval=settings.sweeper_interval_s,
    )

    announced = AnnouncedWorkflows(runtime.db)
    dead_letters = DeadLetters(runtime.db, runtime.topology, runtime.clock)

    def job_workers(js: JetStreamContext) -> list[PullWorker]:
        return JobConsumers(
            js,
            runtime.topology,
            engine,
            announced,
            concurrency=settings.job_concurrency,
            job_timeout=settings.job_timeout_s,
            ack_wait=settings.job_ack_wait_s,
            max_deliver=settings.job_max_deliver,
            start_batch=settings.job_start_batch,
        ).workers

    fires = (
        TriggerFires(settings.trigger_addr, settings.trigger_timeout_s, settings.tls_files())
        if settings.trigger_addr
        else None
    )

    def register(server: grpc.aio.Server) -> None:
        servicer = ExecutionServicer(
            ExecutionService(runtime.db, engine, fires),
            signing,
            runtime.clock,
            OrganizationLimitsService(runtime.db, limits),
        )
        executor_pb2_grpc.add_ExecutionServiceServicer_to_server(servicer, server)
        dead_letters_pb2_grpc.add_DeadLetterServiceServicer_to_server(
            DeadLetterServicer(dead_letters), server
        )
        connections_pb2_grpc.add_ConnectionServiceServicer_to_server(
            ConnectionServicer(connections, runtime.clock), server
        )
        actions_pb2_grpc.add_ActionServiceServicer_to_server(
            ActionServicer(ActionTools(registry, runtime.topology, runtime.db, connections), runtime.clock),
            server,
        )

    return ServerSpec(
        register=register,
        service_names=SERVICE_NAMES,
        probes={},
        background=[
            runtime.outbox_relay(models.outbox),
            runtime.consumers("executor-jobs", job_workers),
            runtime.consumers(
                "executor-automations", AutomationsConsumer(runtime.topology, announced).workers
            ),
            runtime.consumers("executor-dlq", DeadLetterConsumer(runtime.topology, dead_letters).workers),
            timers.run,
            scheduled.run,
            sweeper.run,
            waiting.run,
        ],
        on_stop=[registry.aclose, limits_engine.dispose, lookups_db.engine.dispose],
    )


def send_limits(settings: ExecutorSettings, limiter: RateLimiter) -> SendLimits:
    """The send limits the settings describe (burst: twice the rate per channel)."""
    return SendLimits(
        limiter,
        Limit(rate=settings.send_rate_per_org, burst=settings.send_burst_per_org),
        {
            name: Limit(rate=rate, burst=max(1.0, 2 * rate))
            for name, rate in settings.send_channel_rates.items()
        },
        Limit(
            rate=settings.send_channel_rate_default, burst=max(1.0, 2 * settings.send_channel_rate_default)
        ),
    )
