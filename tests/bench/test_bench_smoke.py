"""The benchmark's pieces at a tiny scale: the report has every section. Never asserts on speed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bench.__main__ import run
from bench.config import BenchConfig
from bench.report import SECTIONS
from tests.support.servers import pg_data_root


@pytest.mark.timeout(420)
async def test_a_tiny_benchmark_run_writes_every_section(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In production mode, as `make bench` runs (the suite's local mode once hid a driver that
    could not start there)."""
    monkeypatch.delenv("BEEZ_LOCAL_MODE", raising=False)
    config = BenchConfig.quick_run()
    config.throughput_warmup_s, config.throughput_window_s, config.throughput_inflight = 0.5, 1.0, 30
    config.throughput_orgs = 2
    config.latency_rates, config.latency_duration_s = (20.0,), 1.0
    config.matching_sizes, config.matching_orgs, config.matching_events = (2, 6), 3, 3
    config.timers, config.timers_spread_s, config.timers_lead_s = 40, 1.0, 2.0
    config.drain_s = 90.0
    config.projection_contacts, config.projection_condition_automations, config.projection_events = (
        300,
        50,
        20,
    )
    config.schedules_contacts, config.schedules_audience = 400, 100
    config.integrations_executions, config.integrations_rounds = 10, 1
    state = pg_data_root()
    try:
        result = await run(config, tmp_path / "out", state=state / "bench")
    finally:
        shutil.rmtree(state, ignore_errors=True)

    written = json.loads((tmp_path / "out" / "report.json").read_text())
    assert set(SECTIONS) <= set(written)
    assert written["throughput"] == result["throughput"]
    assert [x["active_automations"] for x in written["matching"]] == [2, 6]
    assert (
        written["latency"][0]["target_rate"] == 20.0
    )  # then half the saturation rate, when one was measured
    assert written["timers"]["timers"] == 40
    assert written["projection"]["bulk_import"]["contacts"] == 300
    assert written["schedules"]["contacts"] == 400
    assert written["schedules"]["fanout"]["enrolled"] == 100
    assert written["schedules"]["local9"]["enrolled"] == 100
    assert written["integrations"]["executions"] == 10 and written["integrations"]["ratio"] > 0
    assert {"executor", "trigger", "postgres", "nats"} <= set(written["resources"]["peak_rss_mb"])
    assert written["machine"]["cpus_logical"] and written["machine"]["commit"]
    markdown = (tmp_path / "out" / "report.md").read_text()
    headings = (
        "Machine",
        "Settings",
        "Sustained throughput",
        "Latency",
        "Trigger matching",
        "Timer firing lag",
        "Contact projection",
        "Time-based triggers",
        "Integration steps",
    )
    for heading in (*headings, "Resources"):
        assert f"## {heading}" in markdown
