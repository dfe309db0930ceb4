"""Sizes and service settings of a benchmark run; ``--quick`` shrinks every size."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class BenchConfig:
    """Every knob of a run; the report records all of them beside the figures."""

    # the stack's own CPU with nothing to do (pollers, heartbeats, health probes)
    idle_s: float = 10.0
    # sustained throughput (closed loop: at most `inflight` events published and not completed)
    throughput_warmup_s: float = 8.0
    throughput_window_s: float = 30.0
    throughput_inflight: int = 1500
    drain_s: float = 120.0
    throughput_orgs: int = 10
    # latency at fixed rates (open loop); the saturation-relative rate is added at run time
    latency_rates: tuple[float, ...] = (100.0, 500.0)
    latency_duration_s: float = 20.0
    latency_saturation_fraction: float = 0.5
    # trigger matching cost
    matching_sizes: tuple[int, ...] = (100, 10_000, 100_000)
    matching_orgs: int = 1000
    matching_events: int = 300
    # timers
    timers: int = 100_000
    timers_spread_s: float = 60.0
    timers_lead_s: float = 10.0
    # the contact projection (bench.projection): bulk import, cost per event, condition evaluation
    projection_contacts: int = 1_000_000
    projection_condition_automations: int = 10_000
    projection_events: int = 500
    # time-based triggers (bench.schedules): birthday sweep, inactivity, fan-out, 09:00 local
    schedules_contacts: int = 1_000_000
    schedules_audience: int = 100_000
    # the executor's CPU per external action, a connection's step against a webhook (bench.integrations)
    integrations_executions: int = 400
    integrations_rounds: int = 7
    # service settings (environment of the processes)
    service_env: dict[str, str] = field(
        default_factory=lambda: {
            "BEEZ_LOG_LEVEL": "WARNING",
            # 2,560 slots give the normal priority (the benchmark's automations) 512 START jobs in
            # hand, so two batches of up to 256 can be gathering while two commit. With fewer the
            # executor waited on its own commits with CPU to spare: 640 slots and batches of 128
            # gave 963/s where 1,280 gave 1,073/s, and 1,280 gave 797-880/s where 2,560 with
            # batches of 256 gave 865-961/s (back to back, in a slower hour of this machine).
            "BEEZ_JOB_CONCURRENCY": "2560",
            "BEEZ_JOB_START_BATCH": "256",
            "BEEZ_EVENTS_CONCURRENCY": "256",
            "BEEZ_EVENTS_BATCH_MAX": "128",
            "BEEZ_DB_POOL_SIZE": "20",
            "BEEZ_TIMER_BATCH": "500",
        }
    )
    sections: tuple[str, ...] = (
        "throughput",
        "latency",
        "matching",
        "timers",
        "projection",
        "schedules",
        "integrations",
    )
    quick: bool = False

    @classmethod
    def quick_run(cls) -> BenchConfig:
        """A smoke run: every section, small sizes, well under a minute."""
        return cls(
            idle_s=2.0,
            throughput_warmup_s=2.0,
            throughput_window_s=5.0,
            throughput_inflight=500,
            throughput_orgs=3,
            latency_rates=(100.0,),
            latency_duration_s=3.0,
            matching_sizes=(10, 100, 1000),
            matching_orgs=100,
            matching_events=40,
            timers=2000,
            timers_spread_s=5.0,
            timers_lead_s=3.0,
            projection_contacts=5_000,
            projection_condition_automations=500,
            projection_events=100,
            schedules_contacts=5_000,
            schedules_audience=2_000,
            integrations_executions=100,
            integrations_rounds=3,
            quick=True,
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
