"""The report: machine, commit, settings and figures, as JSON and as Markdown."""

from __future__ import annotations

import json
import os
import platform
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

from bench.stack import ROOT

SECTIONS = (
    "machine",
    "settings",
    "throughput",
    "latency",
    "matching",
    "timers",
    "projection",
    "schedules",
    "integrations",
    "resources",
)
TARGETS = {
    "throughput": ">= 1,000 executions/s sustained",
    "latency": "at 100 events/s: p50 < 15 ms, p99 < 100 ms",
    "matching": "cost per event flat from 100 to 100,000 automations",
    "timers": "lag p99 < 1 s (100,000 timers due within one minute)",
    "projection": "1,000,000 contacts imported (rate, table size); a contact update evaluated against "
    "10,000 condition automations in p50 < 2 ms",
    "schedules": "1,000,000 contacts: the day's birthdays found in < 1 s, inactivity in < 2 s; a fan-out "
    ">= 2,000 enrolments/s; 09:00 local over 100,000 contacts in 24 zones with lateness p99 < 1 s",
    "integrations": "the executor's CPU per external action with the connection lookup and the "
    "per-connection rate limiter on within 10% of a plain webhook step",
}


def _git(*args: str) -> str:
    try:
        return subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def machine() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpus_logical": os.cpu_count(),
        "cpus_physical": psutil.cpu_count(logical=False),
        "cpu_model": model,
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "platform": platform.platform(),
        "commit": _git("rev-parse", "HEAD"),
        "working_tree_dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def write(report: dict[str, Any], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report, indent=2, sort_keys=False) + "\n")
    (out / "report.md").write_text(markdown(report))


def _ms(v: Any) -> str:
    return "-" if v is None else f"{v:,.1f}"


def markdown(r: dict[str, Any]) -> str:
    m, s = r["machine"], r["settings"]
    lines = [
        "# Benchmark figures",
        "",
        f"Run {m['started_at']} on commit `{m['commit'][:12]}`"
        + (" (working tree has uncommitted changes)" if m["working_tree_dirty"] else "")
        + f"; mode: {'quick' if s['config']['quick'] else 'full'}.",
        "",
        "## Machine",
        "",
        f"- {m['cpus_logical']} logical CPUs ({m['cpus_physical']} physical), {m['cpu_model']}",
        f"- {m['memory_gb']} GB memory; load average at start {m['load_average_at_start']}",
        f"- Python {m['python']}, {m['platform']}",
        f"- PostgreSQL: {s.get('postgres', '?')}; nats-server: {s.get('nats', '?')}",
        "",
        "## Settings",
        "",
        "Service environment: " + ", ".join(f"`{k}={v}`" for k, v in s["service_env"].items()),
        "",
        "Sizes: " + ", ".join(f"`{k}={v}`" for k, v in s["config"].items() if k not in ("service_env",)),
        "",
    ]
    throughput = r.get("throughput")
    lines += ["## Sustained throughput", "", f"Target: {TARGETS['throughput']}.", ""]
    if throughput:
        lines += [
            f"- **{throughput['executions_per_s']:,} completed executions/s** "
            f"over a {throughput['window_s']} s window "
            f"(after {throughput['warmup_s']} s warm-up; "
            f"at most {throughput['inflight_bound']} events outstanding; "
            f"{throughput['orgs']} organizations; {throughput['published']} events published; "
            f"{throughput['failed']} failed)",
            f"- latency while saturated: p50 {_ms(throughput['latency_under_saturation']['p50_ms'])} ms, "
            f"p99 {_ms(throughput['latency_under_saturation']['p99_ms'])} ms",
            "",
        ]
    lat = r.get("latency") or []
    lines += ["## Latency, event published → execution completed", "", f"Target: {TARGETS['latency']}.", ""]
    if lat:
        lines += [
            "| target rate /s | achieved /s | events | p50 ms | p95 ms | p99 ms | max ms | not completed |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for x in lat:
            lines.append(
                f"| {x['target_rate']:,} | {x['achieved_publish_rate']:,} | {x['events']} "
                f"| {_ms(x['p50_ms'])} | {_ms(x['p95_ms'])} | {_ms(x['p99_ms'])} "
                f"| {_ms(x['max_ms'])} | {x['lost_or_late']} |"
            )
        lines.append("")
        hops = [x for x in lat if x.get("hops_p50_ms")]
        if hops:
            lines += _hop_table(
                "Where it goes, p50 per hop in ms (from each COMPLETED event's own times; see "
                "`bench.workloads.HOPS`):",
                "hops_p50_ms",
                hops,
            )
            tails = [x for x in hops if x.get("hops_p99_ms")]
            if tails:
                lines += _hop_table(
                    "And p99 per hop, in ms (each hop's own p99: they need not add up to the total's):",
                    "hops_p99_ms",
                    tails,
                )
    mt = r.get("matching") or []
    lines += ["## Trigger matching cost per event", "", f"Target: {TARGETS['matching']}.", ""]
    if mt:
        lines += [
            "One `PublishEvent` RPC at a time, each event matching exactly one automation of its "
            "organization (ingestion: record, match, enroll, outbox job, in one transaction).",
            "",
            "| active automations | organizations | index load s | events "
            "| p50 ms | p95 ms | p99 ms | mean ms |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for x in mt:
            lines.append(
                f"| {x['active_automations']:,} | {x['orgs']:,} | {x.get('load_s', 0):.1f} | {x['count']} "
                f"| {_ms(x['p50_ms'])} | {_ms(x['p95_ms'])} | {_ms(x['p99_ms'])} | {_ms(x['mean_ms'])} |"
            )
        lines.append("")
    tm = r.get("timers")
    lines += ["## Timer firing lag", "", f"Target: {TARGETS['timers']}.", ""]
    if tm:
        lines += [
            f"{tm['timers']:,} timers due over {tm['spread_s']} s (inserted in {tm['insert_s']} s); "
            f"{tm['not_fired_in_time']} not seen in time.",
            "",
            "| lag | p50 ms | p95 ms | p99 ms | max ms |",
            "|---|---:|---:|---:|---:|",
        ]
        for key, label in (
            ("claim_lag", "claimed (job enqueued_at - due_at)"),
            ("publish_lag", "published (job received - due_at)"),
        ):
            lag = tm[key]
            lines.append(
                f"| {label} | {_ms(lag['p50_ms'])} | {_ms(lag['p95_ms'])} "
                f"| {_ms(lag['p99_ms'])} | {_ms(lag['max_ms'])} |"
            )
        lines.append("")
    pj = r.get("projection")
    if pj:
        bulk, ingest, cond = pj["bulk_import"], pj["ingestion"], pj["conditions"]
        lines += [
            "## Contact projection",
            "",
            f"Target: {TARGETS['projection']}.",
            "",
            f"Bulk import: {bulk['contacts']:,} contacts in {bulk['seconds']} s, "
            f"{bulk['contacts_per_s']:,}/s "
            f"(batches of {bulk['batch']}); contacts {bulk['contacts_table_mb']} MB with indexes, "
            f"contact_dates {bulk['contact_dates_table_mb']} MB ({bulk['contact_dates_rows']:,} rows), "
            f"{bulk['bytes_per_contact']} bytes per contact.",
            "",
            f"Ingestion, one event per transaction: p50 {_ms(ingest['with_snapshot']['p50_ms'])} ms with a "
            f"snapshot to project, {_ms(ingest['without_contact']['p50_ms'])} ms without a contact "
            f"(projection adds {_ms(ingest['projection_adds_p50_ms'])} ms).",
            "",
            f"Conditions: {cond['automations']:,} automations; an update p50 "
            f"{_ms(cond['update_with_conditions']['p50_ms'])} ms against "
            f"{_ms(cond['update_without_conditions']['p50_ms'])} ms without condition automations: "
            f"evaluation p50 {_ms(cond['evaluation_p50_ms'])} ms.",
            "",
        ]
    sc = r.get("schedules")
    if sc:
        bday, fan, nine = sc["birthday_sweep"], sc["fanout"], sc["local9"]
        lines += [
            "## Time-based triggers",
            "",
            f"Target: {TARGETS['schedules']}.",
            "",
            f"{sc['contacts']:,} contacts loaded in {sc['load_s']} s "
            f"({sc['table_mb']} MB with contact_dates); the service's own Scheduler with a simulated "
            "clock, START jobs left in the outbox.",
            "",
            f"Birthday sweep: {bday['found']:,} found in {_ms(bday['find_ms'])} ms, enrolled in "
            f"{bday['enroll_s']} s ({bday['per_s']:,}/s). Inactivity (30 days): "
            f"{sc['inactivity']['found']:,} found in {_ms(sc['inactivity']['find_ms'])} ms.",
            "",
            f"Fan-out to {sc['audience']:,} contacts: {fan['seconds']} s, {fan['per_s']:,} enrolments/s. "
            f"09:00 local in {nine['zones']} zones: lateness p50 {_ms(nine['lateness_p50_ms'])} ms, "
            f"p99 {_ms(nine['lateness_p99_ms'])} ms, max {_ms(nine['lateness_max_ms'])} ms.",
            "",
        ]
    it = r.get("integrations")
    if it:
        lines += [
            "## Integration steps",
            "",
            f"Target: {TARGETS['integrations']}.",
            "",
            f"{it['executions']:,} executions of {it['steps_per_execution']} steps per kind and round, "
            f"{it['rounds']} rounds, the engine in-process against a stand-in in another process: "
            f"webhook {it['webhook_cpu_us_per_step']:,} µs CPU per step, send_slack through a Slack "
            f"connection {it['connection_cpu_us_per_step']:,} µs (ratio {it['ratio']}, "
            f"{'within' if it['within_target'] else 'over'} the target).",
            "",
        ]
    res = r.get("resources")
    if res:
        groups = sorted(res["peak_rss_mb"])
        lines += [
            "## Resources",
            "",
            "Peak RSS (MB; postgres and nats include all their processes): "
            + ", ".join(f"{g} {res['peak_rss_mb'][g]:,.0f}" for g in groups),
            "",
            "CPU seconds per phase (`other` = CPU used on the machine by processes outside the stack, "
            "e.g. other work sharing the cores):",
            "",
            "| phase | wall s | " + " | ".join(res["groups"]) + " |",
            "|---|---:|" + "---:|" * len(res["groups"]),
        ]
        for phase, cpu in res["cpu_s"].items():
            lines.append(
                f"| {phase} | {res['wall_s'][phase]} | "
                + " | ".join(f"{cpu.get(g, 0.0):.1f}" for g in res["groups"])
                + " |"
            )
        lines.append("")
        per = res.get("cpu_ms_per_execution") or {}
        if per:
            lines += [
                "CPU milliseconds per completed execution (phase CPU / executions completed in it; "
                "robust to other load on the machine, unlike the rates):",
                "",
                "| phase | executions | " + " | ".join(res["groups"]) + " | stack total |",
                "|---|---:|" + "---:|" * (len(res["groups"]) + 1),
            ]
            for phase, cpu in per.items():
                ours = sum(v for g, v in cpu.items() if g not in ("other", "bench-driver"))
                lines.append(
                    f"| {phase} | {res['executions_completed'][phase]} | "
                    + " | ".join(f"{cpu.get(g, 0.0):.1f}" for g in res["groups"])
                    + f" | {ours:.1f} |"
                )
            lines.append("")
    if r.get("notes"):
        lines += ["## Notes", "", *[f"- {n}" for n in r["notes"]], ""]
    return "\n".join(lines)


def _hop_table(title: str, key: str, rows: list[dict[str, Any]]) -> list[str]:
    """A Markdown table of one per-hop figure (``key``) for each latency rate in ``rows``."""
    names = list(rows[0][key])
    lines = [title, "", "| target rate /s | " + " | ".join(names) + " |", "|---:|" + "---:|" * len(names)]
    for x in rows:
        lines.append(f"| {x['target_rate']:,} | " + " | ".join(_ms(x[key][n]) for n in names) + " |")
    return [*lines, ""]
