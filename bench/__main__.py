"""``python -m bench [--quick] [--out DIR] [--only SECTION ...] [--profile]``: run and report."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import Any

import nats
import psycopg

from beez.kit.bus.permissions import OPS, PLATFORM
from beez.kit.bus.topology import Topology
from beez.kit.logging import configure_logging
from beez.kit.runtime import configure_gc
from beez.kit.settings import ServiceSettings
from beez.kit.stack import with_database
from bench import integrations, projection, report, schedules, workloads
from bench.config import BenchConfig
from bench.sampler import Sampler
from bench.stack import ROOT, STATE, Stack


def parse(argv: list[str]) -> tuple[BenchConfig, Path, bool]:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run under a minute")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out", help="where report.{json,md} go")
    parser.add_argument("--only", nargs="+", choices=BenchConfig().sections, help="run only these sections")
    parser.add_argument("--profile", action="store_true", help="run the services under cProfile")
    parser.add_argument("--timers", type=int, help="how many timers (default 100,000; quick 2,000)")
    parser.add_argument("--window", type=float, help="throughput window in seconds")
    parser.add_argument("--inflight", type=int, help="events outstanding at most while saturating")
    parser.add_argument("--rates", type=float, nargs="+", help="fixed latency rates, events/s")
    parser.add_argument("--latency-duration", type=float, help="seconds at each latency rate")
    parser.add_argument("--matching-sizes", type=int, nargs="+", help="active automations per step")
    parser.add_argument("--drain", type=float, help="seconds to wait for outstanding executions")
    parser.add_argument(
        "--env", nargs="+", default=[], metavar="NAME=VALUE", help="extra service environment (overrides)"
    )
    args = parser.parse_args(argv)
    config = BenchConfig.quick_run() if args.quick else BenchConfig()
    if args.only:
        config.sections = tuple(args.only)
    if args.timers:
        config.timers = args.timers
    if args.window:
        config.throughput_window_s = args.window
    if args.inflight:
        config.throughput_inflight = args.inflight
    if args.rates:
        config.latency_rates = tuple(args.rates)
    if args.latency_duration:
        config.latency_duration_s = args.latency_duration
    if args.matching_sizes:
        config.matching_sizes = tuple(args.matching_sizes)
    if args.drain:
        config.drain_s = args.drain
    for item in args.env:
        name, _, value = item.partition("=")
        config.service_env[name] = value
    return config, args.out, args.profile


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


async def run(config: BenchConfig, out: Path, profile: bool = False, state: Path = STATE) -> dict[str, Any]:
    """Starts the stack, runs the configured sections, writes the report, returns it."""
    machine = report.machine()
    log("starting the stack")
    profile_dir = out / "profiles" if profile else None
    if profile_dir is not None:
        profile_dir.mkdir(parents=True, exist_ok=True)
    stack = await Stack.start(config.service_env, profile_dir=profile_dir, state=state)
    sampler = Sampler(stack.processes)
    sampler.start()
    result: dict[str, Any] = {"machine": machine, "notes": []}
    deps = stack.kit.deps
    nc, events_nc, announce_nc = [
        await nats.connect(stack.nats_url, **deps.nats_options(role))
        for role in (OPS, PLATFORM, "automation")
    ]
    try:
        with psycopg.connect(stack.libpq_url) as conn:
            pg_version = str(conn.execute("SHOW server_version").fetchone()[0])  # type: ignore[index]
        result["settings"] = {
            "service_env": config.service_env,
            "config": {k: v for k, v in config.as_dict().items() if k != "service_env"},
            "postgres": pg_version + (" (external)" if stack.pg is None else " (embedded, fsync on)"),
            "nats": (nc.connected_server_version.__str__() if nc.connected_server_version else "?")
            + (" (external)" if stack.nats is None else " (embedded, file storage)"),
            "bus_prefix": stack.prefix,
            "profiled": profile,
        }
        driver = workloads.Driver(
            nc,
            nc.jetstream(),
            Topology(stack.prefix),
            stack.services["trigger"].address,
            events_js=events_nc.jetstream(),
            announce_js=announce_nc.jetstream(),
        )
        await driver.subscribe()
        # The driver tunes its collector as the services do; it serves nothing, so the settings'
        # serving requirements (production mode's certificates) are not its own.
        configure_gc(ServiceSettings(local_mode=True).gc_threshold)
        sampler.counter = lambda: len(driver.completions.done_at)
        orgs = [f"bo{i:03d}" for i in range(config.throughput_orgs)]
        await workloads.setup_run_automations(driver, orgs)
        saturation = None
        sampler.begin("idle")
        await asyncio.sleep(config.idle_s)
        sampler.end("idle")
        log(f"idle: {sampler.phases['idle']}")
        if "throughput" in config.sections:
            log("throughput")
            sampler.begin("throughput")
            throughput = await workloads.throughput(
                driver,
                orgs,
                config.throughput_warmup_s,
                config.throughput_window_s,
                config.throughput_inflight,
            )
            sampler.end("throughput")
            result["throughput"] = throughput
            saturation = throughput["executions_per_s"]
            log(f"  {throughput['executions_per_s']} executions/s")
        if "latency" in config.sections:
            rates = list(config.latency_rates)
            if saturation:
                rates.append(round(saturation * config.latency_saturation_fraction, 1))
            result["latency"] = []
            for rate in rates:
                waited = await driver.quiesce(config.drain_s)
                log(f"latency at {rate}/s (after {waited} s for the backlog to clear)")
                phase = f"latency@{rate:g}/s"
                sampler.begin(phase)
                latency = await workloads.latency_at(
                    driver, orgs, rate, config.latency_duration_s, config.drain_s / 2
                )
                sampler.end(phase)
                latency["of_saturation"] = rate == rates[-1] and saturation is not None
                latency["backlog_wait_s"] = waited
                result["latency"].append(latency)
                log(f"  p50 {latency['p50_ms']} ms p99 {latency['p99_ms']} ms")
        if "matching" in config.sections:
            result["quiesced_before_matching_s"] = await driver.quiesce(config.drain_s)
            result["matching"] = []
            loaded = 0
            for size in config.matching_sizes:
                log(f"matching with {size} automations")
                load_s = await asyncio.to_thread(
                    workloads.load_index, stack.libpq_url, loaded, size, config.matching_orgs
                )
                loaded = size
                phase = f"matching@{size}"
                sampler.begin(phase)
                matching = await workloads.matching_cost(
                    driver, size, config.matching_orgs, config.matching_events
                )
                sampler.end(phase)
                matching["load_s"] = round(load_s, 2)
                result["matching"].append(matching)
                log(f"  p50 {matching['p50_ms']} ms")
            await driver.completions.drained(60)
        if "timers" in config.sections:
            result["quiesced_before_timers_s"] = await driver.quiesce(config.drain_s)
            log(f"timers: {config.timers}")
            sampler.begin("timers")
            tm = await workloads.timer_lag(
                driver, stack.libpq_url, config.timers, config.timers_spread_s, config.timers_lead_s
            )
            sampler.end("timers")
            result["timers"] = tm
            log(f"  publish lag p50 {tm['publish_lag']['p50_ms']} ms p99 {tm['publish_lag']['p99_ms']} ms")
        if "projection" in config.sections:
            log(f"projection: {config.projection_contacts} contacts")
            sampler.begin("projection")
            result["projection"] = await projection.run(
                stack.database_url,
                contacts_count=config.projection_contacts,
                automations=config.projection_condition_automations,
                events=config.projection_events,
                prefix=stack.prefix,
            )
            sampler.end("projection")
        if "schedules" in config.sections:
            log(f"schedules: {config.schedules_contacts} contacts, audience {config.schedules_audience}")
            configure_logging("bench", "WARNING")  # the scheduler logs each fire at info
            sampler.begin("schedules")
            result["schedules"] = await schedules.run(
                with_database(stack.database_url, "postgres"),
                contacts=config.schedules_contacts,
                audience=config.schedules_audience,
            )
            sampler.end("schedules")
        if "integrations" in config.sections:
            log(f"integrations: {config.integrations_executions} executions a round")
            sampler.begin("integrations")
            result["integrations"] = await integrations.run(
                with_database(stack.database_url, "postgres"),
                executions=config.integrations_executions,
                rounds=config.integrations_rounds,
            )
            sampler.end("integrations")
            log(
                f"  webhook {result['integrations']['webhook_cpu_us_per_step']} µs/step, connection "
                f"{result['integrations']['connection_cpu_us_per_step']} µs/step "
                f"(ratio {result['integrations']['ratio']})"
            )
    finally:
        for client in (nc, events_nc, announce_nc):
            await client.close()
        await sampler.stop()
        sampler.sample()
        log("stopping the stack")
        stack.close()
    groups = sorted({g for cpu in sampler.phases.values() for g in cpu})
    order = [g for g in (*stack.services, "postgres", "nats", "bench-driver", "other") if g in groups]
    result["resources"] = {
        "peak_rss_mb": {g: round(v / 2**20, 1) for g, v in sampler.peak_rss.items()},
        "cpu_s": sampler.phases,
        "wall_s": sampler.phase_wall,
        "executions_completed": sampler.completed,
        "cpu_ms_per_execution": {
            phase: {g: round(cpu[g] * 1000 / n, 1) for g in cpu}
            for phase, cpu in sampler.phases.items()
            if (n := sampler.completed.get(phase, 0)) >= 20 and not phase.startswith(("timers", "matching"))
        },
        "groups": order,
    }
    result["notes"].append(
        "The benchmark driver (publisher and subscriber) runs on the same machine and its CPU is "
        "counted under bench-driver; `other` is CPU used by processes outside the stack."
    )
    report.write(result, out)
    log(f"report written to {out}")
    return result


def main(argv: list[str] | None = None) -> None:
    config, out, profile = parse(sys.argv[1:] if argv is None else argv)
    asyncio.run(run(config, out, profile))


if __name__ == "__main__":
    main()
