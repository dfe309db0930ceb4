"""The engine and the dry run are one interpreter of the workflow: the golden parity test.

Every workflow in ``workflows/`` runs through the real executor (in this process, on real
PostgreSQL and NATS, with the real actions sending to a local SMTP server and a local HTTP
server) and through the automation service's dry run, on the same sample (``cases.py``). Both
must take the same path, render the same messages, make the same contact changes and skip the
same steps for the same reasons (:mod:`.traces`), and both must match the workflow's golden
file in ``golden/``, so a change to either interpreter alone fails here.

Waits end as the sample says: a SIGNAL job for what arrives, the test clock moved past the
due time otherwise; nothing sleeps. ``BEEZ_PARITY_UPDATE=1`` rewrites the golden files from the
engine's runs (review the diff: it is the behaviour change).
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

import nats
import pytest
from cryptography.fernet import Fernet
from nats.aio.client import Client as NATS
from sqlalchemy import select

from beez.api.executor.v1 import executor_pb2
from beez.api.messages.v1 import commands_pb2, jobs_pb2, lifecycle_pb2
from beez.automation.domain.dryrun import dry_run
from beez.executor.models import Execution as ExecutionRow
from beez.workflow import catalog
from beez.workflow.branches import ARRIVED, WAIT_KINDS
from beez.workflow.context import contact_to_dict
from beez.workflow.model import assign_ids, struct_to_dict
from beez.workflow.navigation import positions
from tests.executor.engine.conftest import Executor, Flow, start_executor
from tests.executor.samples import event_json
from tests.parity import providers, traces
from tests.parity.cases import AUTOMATION_ID, DEFAULT_DATA, Sample, sample
from tests.support.providers import HttpStandIn, SmtpSink, http_server, smtp_server
from tests.support.standins.crm import crm_standin

HERE = Path(__file__).parent
WORKFLOWS = sorted(path.stem for path in (HERE / "workflows").glob("*.json"))
UPDATE = os.environ.get("BEEZ_PARITY_UPDATE") == "1"
SETTLED = {
    executor_pb2.EXECUTION_STATUS_WAITING,
    executor_pb2.EXECUTION_STATUS_COMPLETED,
    executor_pb2.EXECUTION_STATUS_FAILED,
}
ENDED = {executor_pb2.EXECUTION_STATUS_COMPLETED, executor_pb2.EXECUTION_STATUS_FAILED}
REGISTRATION_KINDS = {"event": lifecycle_pb2.WAIT_KIND_EVENT, "until": lifecycle_pb2.WAIT_KIND_UNTIL}


@dataclass
class Rig:
    """The executor every workflow runs on, and the servers its messages go to."""

    executor: Executor
    smtp: SmtpSink
    http: HttpStandIn
    standins_url: str
    """The provider actions' stand-ins (:mod:`.providers`)."""


@pytest.fixture(scope="module")
async def rig(admin_url: str, nats_url: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Rig]:
    """One executor with the real actions (no test plugins) for every workflow, and its servers."""
    ring_file = tmp_path_factory.mktemp("ring") / "keys"
    ring_file.write_text(f"k1:{Fernet.generate_key().decode()}\n")
    async with (
        smtp_server() as (sink, smtp_port),
        http_server() as http,
        providers.provider_standins() as (standins_url, provider_base_urls),
    ):
        actions = {
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp_port,
            "default_from": "Beez <automations@beez.example>",
            "whatsapp_base_url": f"{http.url}/wa/v21.0",
            "whatsapp_token": "wa-token",
            "whatsapp_phone_number_id": "1055",
            "sms_base_url": f"{http.url}/twilio/2010-04-01",
            "sms_account_sid": "AC123",
            "sms_auth_token": "tw-secret",
            "sms_from": "+15005550006",
            "slack_default_webhook_url": f"{http.url}/slack/T000/B000/XXX",
            "ssrf_allowlist": ["127.0.0.1/32"],
            "provider_base_urls": provider_base_urls,
        }
        async with (
            start_executor(
                admin_url,
                nats_url,
                action_plugins=[],
                actions=actions,
                timer_poll_interval_s=0.02,
                signing_keys_file=str(ring_file),
            ) as executor,
            connected(nats_url) as nc,
            crm_standin(nc, executor.topology, "*"),  # answers create_contact and export_contact_data
        ):
            yield Rig(executor, sink, http, standins_url)


@asynccontextmanager
async def connected(nats_url: str) -> AsyncIterator[NATS]:
    nc = await nats.connect(nats_url)
    try:
        yield nc
    finally:
        await nc.drain()


def load(name: str) -> dict[str, Any]:
    workflow: dict[str, Any] = json.loads((HERE / "workflows" / f"{name}.json").read_text())
    return workflow


def signature(execution: executor_pb2.Execution) -> tuple[Any, ...]:
    return execution.status, tuple((s.step_id, s.status, s.attempt) for s in execution.steps)


async def drive(flow: Flow, execution_id: str, outcomes: dict[str, str], configs: dict[str, Any]) -> Any:
    """Runs the execution to its end: each wait ends as ``outcomes`` say, by a signal or the clock."""
    seen: tuple[Any, ...] | None = None

    def moved(execution: executor_pb2.Execution) -> bool:
        return execution.status in SETTLED and signature(execution) != seen

    for _ in range(100):
        execution = await flow.until(execution_id, moved, "progress", timeout=10)
        if execution.status in ENDED:
            return execution
        seen = signature(execution)
        waiting = [s for s in execution.steps if s.status == executor_pb2.STEP_STATUS_WAITING]
        step = waiting[-1] if waiting else None
        kind = WAIT_KINDS.get(step.type) if step is not None else None
        if step is not None and kind is not None and outcomes.get(step.step_id) == ARRIVED[kind]:
            registration = await flow.registration(execution_id, REGISTRATION_KINDS[kind])
            event_type = str(configs[step.step_id].get("event") or "contact.updated")
            await flow.signal(
                execution_id, registration.id, jobs_pb2.JOB_SIGNAL_EVENT, event_json(event_type)
            )
            continue
        due = min(w.due_at.ToDatetime(tzinfo=UTC) for w in await flow.scheduled(execution_id))
        flow.clock.advance(max(due - flow.clock.now(), timedelta(0)))
    raise AssertionError(f"execution {execution_id} did not end")


async def engine_run(rig: Rig, name: str, smp: Sample) -> tuple[traces.Trace, Any]:
    """Runs the workflow on the executor; its trace and the START job (the dry run's input)."""
    flow = Flow(rig.executor, f"org_parity_{uuid.uuid4().hex[:10]}")
    started = rig.executor.clock.now()
    data = {**DEFAULT_DATA, **smp.data, "base_url": rig.http.url}
    if smp.connections:  # the provider actions' workflow
        data["standins_url"] = rig.standins_url
        await providers.connect(rig.executor, flow.org, rig.standins_url, smp.connections)
    job = flow.start_job(load(name), contact=smp.person(), data=data, automation_id=AUTOMATION_ID)
    mails, requests = len(rig.smtp.messages), len(rig.http.requests)
    await flow.publish(job, f"start:{job.execution_id}")
    configs = {
        action.id: struct_to_dict(action.config) for _, action in positions(assign_ids(job.start.workflow))
    }
    execution = await drive(flow, job.execution_id, dict(smp.outcomes), configs)
    messages = {
        traces.idempotency_key(dict(m.items())): traces.email_message(m) for m in rig.smtp.messages[mails:]
    }
    messages.update(
        {traces.idempotency_key(r.headers): traces.http_message(r) for r in rig.http.requests[requests:]}
    )
    for _, _, payload in await flow.outbox(".commands."):
        found = traces.command_message(commands_pb2.PlatformCommand.FromString(payload), started)
        if found is not None:
            messages[found[0]] = found[1]
    async with rig.executor.svc.runtime.db.transaction() as session:
        after = (
            await session.execute(select(ExecutionRow.contact).where(ExecutionRow.id == job.execution_id))
        ).scalar_one()
    return traces.engine_trace(execution, messages, before(job), after), job


def before(job: Any) -> dict[str, Any]:
    """The contact snapshot both interpreters start from."""
    contact = contact_to_dict(job.start.event.contact)
    contact["id"] = contact["id"] or job.start.contact_id
    return contact


def test_the_workflows_cover_every_type_and_branch() -> None:
    """Every control and action type of the catalog, and every fixed branch, is in some workflow."""
    types: set[str] = set()
    branches: set[tuple[str, str]] = set()
    for name in WORKFLOWS:
        golden = json.loads((HERE / "golden" / f"{name}.json").read_text())
        for step in golden["steps"]:
            types.add(step["type"])
            if "branch" in step:
                branches.add((step["type"], step["branch"]))
    assert len(WORKFLOWS) >= 30
    assert types >= {entry.type for entry in catalog.action_types()}
    for entry in catalog.action_types():
        for branch in entry.branches:
            if entry.type != "loop":
                assert (entry.type, branch) in branches, f"no workflow takes {entry.type} → {branch}"
    assert {("switch", "default"), ("random_split", "a"), ("random_split", "b")} <= branches
    assert any(t == "switch" and b not in ("default",) for t, b in branches)


@pytest.mark.parametrize("name", WORKFLOWS)
async def test_the_engine_and_the_dry_run_agree(rig: Rig, name: str) -> None:
    smp = sample(name)
    started = rig.executor.clock.now()
    engine, job = await engine_run(rig, name, smp)
    run = dry_run(AUTOMATION_ID, assign_ids(job.start.workflow), job.start.event, smp.outcomes, started)
    dry = traces.dry_trace(run, before(job), started)

    golden_path = HERE / "golden" / f"{name}.json"
    if UPDATE:
        golden_path.write_text(json.dumps(engine, indent=2, ensure_ascii=False) + "\n")
    golden = json.loads(golden_path.read_text())

    assert dry == engine, f"{name}: the dry run and the engine disagree"
    assert engine == golden, f"{name}: both interpreters changed from the golden file"
