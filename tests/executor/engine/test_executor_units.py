"""The executor's pure parts: settings, concurrency split, job decoding, plugins, JSON snapshots."""

from __future__ import annotations

import asyncio
import datetime
import decimal
import enum
import json
import re
from dataclasses import dataclass
from typing import Any, cast

import pytest

from beez.api.messages.v1 import jobs_pb2
from beez.executor.config import ExecutorSettings
from beez.executor.consumers import JobConsumers, decode_job, job_org, split_concurrency
from beez.executor.engine import Engine, json_safe
from beez.executor.plugins import load_plugin, plugin_actions
from beez.kit.bus.topology import Topology
from beez.kit.bus.worker import PermanentError
from beez.workflow.model import plain

SAMPLE_ACTIONS = {"sample": object()}
NOT_ACTIONS = ["sample"]


def test_settings_read_nested_action_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BEEZ_ACTIONS__SMTP_PORT", "2525")
    monkeypatch.setenv("BEEZ_JOB_CONCURRENCY", "20")
    monkeypatch.setenv("BEEZ_ACTION_PLUGINS", '["tests.executor.engine.fakes:plugin"]')
    settings = ExecutorSettings()
    assert settings.actions.smtp_port == 2525
    assert settings.job_concurrency == 20
    assert settings.action_plugins == ["tests.executor.engine.fakes:plugin"]
    assert (settings.job_timeout_s, settings.grpc_port) == (300.0, 50053)


def test_concurrency_is_shared_by_priority_so_critical_has_the_most_slots() -> None:
    assert split_concurrency(10) == {"critical": 4, "high": 3, "normal": 2, "low": 1}
    assert split_concurrency(20) == {"critical": 8, "high": 6, "normal": 4, "low": 2}
    assert split_concurrency(1) == {"critical": 1, "high": 1, "normal": 1, "low": 1}


@dataclass
class FakeMsg:
    data: bytes
    subject: str = "t.jobs.normal.o"
    headers: dict[str, str] | None = None


def test_a_message_that_is_not_a_usable_job_is_dead_lettered_at_once() -> None:
    with pytest.raises(PermanentError):
        decode_job(cast(Any, FakeMsg(b"\xff\xff\xff")))
    with pytest.raises(PermanentError):
        decode_job(cast(Any, FakeMsg(jobs_pb2.Job(execution_id="e").SerializeToString())))
    start_without_start = jobs_pb2.Job(
        execution_id="e", organization_id="o", reason=jobs_pb2.JOB_REASON_START
    )
    with pytest.raises(PermanentError):
        decode_job(cast(Any, FakeMsg(start_without_start.SerializeToString())))


@pytest.mark.parametrize(
    ("subject", "body_org", "headers", "refusal"),
    [
        ("t.jobs.normal.o", "o", None, None),
        ("t.jobs.normal.o", "o", {"Beez-Org-Id": "o"}, None),
        ("t.jobs.normal.other", "o", None, "job of organization 'o' published under 'other'"),
        ("t.jobs.normal.o", "o", {"Beez-Org-Id": "other"}, "header Beez-Org-Id"),
        ("t.jobs.normal.o.x", "o", None, "is not jobs.normal.<org>"),
        ("t.jobs.high.o", "o", None, "is not under"),
        ("t.jobs.normal.o", "", None, "names no organization"),
    ],
)
def test_a_job_names_the_organization_of_its_subject(
    subject: str, body_org: str, headers: dict[str, str] | None, refusal: str | None
) -> None:
    job = jobs_pb2.Job(execution_id="e", organization_id=body_org)
    msg = cast(Any, FakeMsg(b"", subject, headers))
    if refusal is None:
        assert job_org(Topology("t"), "normal", msg, job) == "o"
        return
    with pytest.raises(PermanentError, match=re.escape(refusal)):
        job_org(Topology("t"), "normal", msg, job)


class SlowEngine:
    async def wake_batch(self, jobs: list[jobs_pb2.Job]) -> None:
        await asyncio.sleep(10)


async def test_a_job_running_past_its_timeout_fails_the_attempt() -> None:
    consumers = JobConsumers(
        cast(Any, None), Topology("t"), cast(Engine, SlowEngine()), cast(Any, None), job_timeout=0.05
    )
    job = jobs_pb2.Job(execution_id="e", organization_id="o", reason=jobs_pb2.JOB_REASON_TIMER, token="x")
    with pytest.raises(TimeoutError):
        await consumers.handle("normal", cast(Any, FakeMsg(job.SerializeToString())))
    assert sorted(w.durable for w in consumers.workers) == [
        "executor-jobs-critical",
        "executor-jobs-high",
        "executor-jobs-low",
        "executor-jobs-normal",
    ]


def test_plugins_add_actions_and_bad_specs_are_refused() -> None:
    settings = ExecutorSettings(action_plugins=["tests.executor.engine.fakes:plugin"])
    assert {"test_record", "test_flaky", "send_email"} <= set(plugin_actions(settings))
    assert load_plugin("tests.executor.engine.test_executor_units:SAMPLE_ACTIONS", settings) == SAMPLE_ACTIONS
    with pytest.raises(ValueError, match=r"package\.module:name"):
        load_plugin("no_colon", settings)
    with pytest.raises(ValueError, match="not a mapping"):
        load_plugin("tests.executor.engine.test_executor_units:NOT_ACTIONS", settings)


class _Level(enum.IntEnum):
    HIGH = 3


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        7,
        2.0,
        2.5,
        2.0**60,
        float("inf"),
        "text",
        [1, (2, 3.0), None],
        {"a": {"b": [None, 2.5, {"c": 4.0}]}},
        {2: "a number key", None: "none", True: "bool", 1.5: "float"},
        _Level.HIGH,
        datetime.datetime(2026, 11, 26, 12, 0),
        {"when": datetime.date(2026, 11, 26), "amount": decimal.Decimal("9.90"), "tags": {"vip"}},
        b"raw",
    ],
)
def test_json_safe_is_the_json_round_trip(value: Any) -> None:
    expected = plain(json.loads(json.dumps(value, default=str)))
    got = json_safe(value)
    assert json.dumps(got) == json.dumps(expected)
    assert type(got) is type(expected)
