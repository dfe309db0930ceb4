"""The seed's onboarding automation, run through the real services as processes.

Real PostgreSQL and NATS, an SMTP server (aiosmtpd) and an HTTP server standing in for the
WhatsApp Cloud API. Time is moved through ``BEEZ_CLOCK_OFFSET_FILE``, so the 1-hour, 24-hour
and 48-hour waits take seconds of wall time.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import nats
import pytest
from google.protobuf import json_format
from nats.aio.msg import Msg
from nats.js import JetStreamContext

from beez.api.automation.v1 import automation_pb2, automation_pb2_grpc
from beez.api.executor.v1 import executor_pb2, executor_pb2_grpc
from beez.api.messages.v1 import commands_pb2, events_pb2
from beez.api.trigger.v1 import trigger_pb2, trigger_pb2_grpc
from beez.api.workflow.v1 import workflow_pb2
from beez.kit.bus.topology import Topology
from beez.kit.stack import Dependencies, ServiceProcess, migrate_all
from beez.kit.stack import Stack as Processes
from tests.support.providers import HttpStandIn, SmtpSink, http_server, smtp_server
from tests.support.servers import unique_prefix

ROOT = Path(__file__).resolve().parents[2]
ORG = "org_onboarding"
TEMPLATES = {
    "welcome": {"subject": "Welcome!", "body": "Hi {{ contact.first_name }}, welcome aboard."},
    "reminder": {
        "subject": "Your onboarding is waiting",
        "body": "Hi {{ contact.first_name }}, one click to start.",
    },
}


@dataclass
class Stack:
    """The running services, the provider stand-ins, and the clock offset they all read."""

    procs: dict[str, ServiceProcess]
    smtp: SmtpSink
    whatsapp: HttpStandIn
    offset_file: Path
    js: JetStreamContext
    topology: Topology
    commands: list[commands_pb2.PlatformCommand] = field(default_factory=list)
    offset_s: float = 0.0

    def advance(self, seconds: float) -> None:
        self.offset_s += seconds
        self.offset_file.write_text(str(self.offset_s))

    def channel(self, name: str) -> grpc.aio.Channel:
        return grpc.aio.insecure_channel(self.procs[name].address)

    async def indexed(self) -> None:
        """Waits until the trigger service has applied every automation change published so far.

        The trigger's index is a projection fed by the AUTOMATIONS stream, so an automation
        starts matching events a few milliseconds after it is created.
        """
        stream = self.topology.stream("AUTOMATIONS")
        for _ in range(200):
            info = await self.js.consumer_info(stream, "trigger-automations")
            if info.num_pending == 0 and info.num_ack_pending == 0 and info.delivered.stream_seq > 0:
                stream_info = await self.js.stream_info(stream)
                if info.delivered.stream_seq >= stream_info.state.last_seq:
                    return
            await asyncio.sleep(0.05)
        raise AssertionError("the trigger service never indexed the automation")


@pytest.fixture(scope="module")
async def stack(
    admin_url: str, nats_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Stack]:
    logs = tmp_path_factory.mktemp("e2e")
    deps = Dependencies.start(logs, admin_url=admin_url, nats_url=nats_url)
    migrate_all(deps.database_url)
    offset_file = logs / "clock-offset"
    offset_file.write_text("0")
    async with smtp_server() as (sink, smtp_port), http_server() as whatsapp:
        processes = Processes.plan(
            deps,
            logs,
            names=("automation", "trigger", "executor", "analytics"),
            prefix=unique_prefix(),
            env={"BEEZ_CLOCK_OFFSET_FILE": str(offset_file)},
            service_env={
                "executor": {
                    "BEEZ_ACTIONS__SMTP_HOST": "127.0.0.1",
                    "BEEZ_ACTIONS__SMTP_PORT": str(smtp_port),
                    "BEEZ_ACTIONS__DEFAULT_FROM": "hello@beez.test",
                    "BEEZ_ACTIONS__EMAIL_TEMPLATES": json.dumps(TEMPLATES),
                    "BEEZ_ACTIONS__WHATSAPP_BASE_URL": whatsapp.url,
                    "BEEZ_ACTIONS__WHATSAPP_TOKEN": "wa-token",
                    "BEEZ_ACTIONS__WHATSAPP_PHONE_NUMBER_ID": "pn1",
                    "BEEZ_ACTIONS__SSRF_ALLOWLIST": '["127.0.0.1/32"]',
                }
            },
        ).start()
        nc = await nats.connect(nats_url)
        topology = Topology(processes.prefix)
        stack = Stack(processes.services, sink, whatsapp, offset_file, nc.jetstream(), topology)

        async def on_command(msg: Msg) -> None:
            stack.commands.append(commands_pb2.PlatformCommand.FromString(msg.data))

        try:
            await processes.serving(timeout=60)
            sub = await nc.jetstream().subscribe(
                topology.subject("platform.commands.>"), ordered_consumer=True, cb=on_command
            )
            yield stack
            await sub.unsubscribe()
        finally:
            await nc.close()
            processes.stop()


def meta() -> list[tuple[str, str]]:
    return [("x-org-id", ORG), ("x-user-id", "u_e2e")]


@pytest.fixture
async def onboarding(stack: Stack) -> AsyncIterator[str]:
    """The onboarding automation, active for one test and switched off afterwards."""
    automation_id = await create_onboarding(stack)
    yield automation_id
    async with stack.channel("automation") as ch:
        await automation_pb2_grpc.AutomationServiceStub(ch).ToggleAutomation(
            automation_pb2.ToggleAutomationRequest(id=automation_id, active=False), metadata=meta()
        )
    await stack.indexed()


async def create_onboarding(stack: Stack) -> str:
    doc = json.loads((ROOT / "examples" / "onboarding.json").read_text())
    workflow = json_format.ParseDict(doc, workflow_pb2.Workflow())
    async with stack.channel("automation") as ch:
        resp = await automation_pb2_grpc.AutomationServiceStub(ch).CreateAutomation(
            automation_pb2.CreateAutomationRequest(automation=workflow, active=True), metadata=meta()
        )
    await stack.indexed()
    return str(resp.automation.id)


async def publish(stack: Stack, doc: dict[str, Any]) -> trigger_pb2.PublishEventResponse:
    event = json_format.ParseDict(doc, events_pb2.Event())
    async with stack.channel("trigger") as ch:
        resp: trigger_pb2.PublishEventResponse = await trigger_pb2_grpc.EventServiceStub(ch).PublishEvent(
            trigger_pb2.PublishEventRequest(event=event), metadata=meta()
        )
    return resp


def contact(contact_id: str, first_name: str, email: str) -> dict[str, Any]:
    return {
        "id": contact_id,
        "email": email,
        "phone": "+2348012345678",
        "firstName": first_name,
        "tags": ["lead"],
        "lists": ["New Customers"],
        "timezone": "Africa/Lagos",
        "consent": {"email": True, "sms": False, "whatsapp": True},
    }


async def execution_of(stack: Stack, contact_id: str) -> executor_pb2.Execution:
    async with stack.channel("executor") as ch:
        stub = executor_pb2_grpc.ExecutionServiceStub(ch)
        for _ in range(200):
            history = await stub.GetContactHistory(
                executor_pb2.GetContactHistoryRequest(contact_id=contact_id), metadata=meta()
            )
            if history.executions:
                got = await stub.GetExecution(
                    executor_pb2.GetExecutionRequest(execution_id=history.executions[0].id), metadata=meta()
                )
                return got.execution  # type: ignore[no-any-return]
            await asyncio.sleep(0.05)
    raise AssertionError(f"no execution for {contact_id}")


async def wait_until(
    stack: Stack, contact_id: str, check: Callable[[executor_pb2.Execution], bool], timeout: float = 20.0
) -> executor_pb2.Execution:
    deadline = asyncio.get_running_loop().time() + timeout
    execution = await execution_of(stack, contact_id)
    while not check(execution):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"execution never reached the expected state: {execution}")
        await asyncio.sleep(0.1)
        execution = await execution_of(stack, contact_id)
    return execution


def status(name: str) -> Callable[[executor_pb2.Execution], bool]:
    want = executor_pb2.ExecutionStatus.Value(f"EXECUTION_STATUS_{name.upper()}")
    return lambda e: e.status == want


def waiting_after(step_type: str) -> Callable[[executor_pb2.Execution], bool]:
    def check(e: executor_pb2.Execution) -> bool:
        done = [s.type for s in e.steps if s.status == executor_pb2.STEP_STATUS_SUCCEEDED]
        return e.status == executor_pb2.EXECUTION_STATUS_WAITING and bool(done) and done[-1] == step_type

    return check


def commands_for(stack: Stack, contact_id: str) -> list[commands_pb2.PlatformCommand]:
    return [c for c in stack.commands if c.contact_id == contact_id]


async def test_onboarding_event_branch_runs_end_to_end(stack: Stack, onboarding: str) -> None:
    automation_id = onboarding
    joined = {
        "id": "evt_ada_joined",
        "type": "list.joined",
        "contactId": "c_ada",
        "data": {"list": "New Customers"},
        "contact": contact("c_ada", "Ada", "ada@example.com"),
    }
    assert (await publish(stack, joined)).result.accepted

    emails = await stack.smtp.wait_for(1)
    assert emails[0]["To"] == "ada@example.com"
    assert emails[0]["Subject"] == "Welcome Ada!"
    await wait_until(stack, "c_ada", waiting_after("send_email"))
    assert stack.whatsapp.requests == []

    stack.advance(3600 + 1)
    (sent,) = await stack.whatsapp.wait_for(1)
    assert sent.path == "/pn1/messages"
    assert sent.headers["Authorization"] == "Bearer wa-token"
    body = sent.json()
    assert body["messaging_product"] == "whatsapp"
    assert body["to"].endswith("5678")
    assert body["text"]["body"] == "Your onboarding starts here: https://app.example.com/start?c=c_ada"
    await wait_until(stack, "c_ada", waiting_after("send_whatsapp"))

    clicked = {
        "id": "evt_ada_click",
        "type": "link.clicked",
        "contactId": "c_ada",
        "data": {"link": "onboarding"},
        "contact": contact("c_ada", "Ada", "ada@example.com"),
    }
    assert (await publish(stack, clicked)).result.accepted
    execution = await wait_until(stack, "c_ada", status("completed"))

    assert execution.automation_id == automation_id
    assert [s.type for s in execution.steps if s.status == executor_pb2.STEP_STATUS_SUCCEEDED] == [
        "send_email",
        "wait",
        "send_whatsapp",
        "wait_for_event",
        "add_tag",
        "assign_user",
    ]
    assert all(s.idempotency_key.startswith(f"exec:{execution.id}:step:") for s in execution.steps)
    for _ in range(100):
        if len(commands_for(stack, "c_ada")) >= 2:
            break
        await asyncio.sleep(0.05)
    kinds = {c.WhichOneof("command"): c for c in commands_for(stack, "c_ada")}
    assert kinds["add_tag"].add_tag.tag == "Engaged"
    assert kinds["assign_user"].assign_user.team == "Success Team"
    assert len(stack.smtp.messages) == 1  # the reminder belongs to the other branch


async def test_onboarding_timeout_branch_runs_end_to_end(stack: Stack, onboarding: str) -> None:
    automation_id = onboarding
    joined = {
        "id": "evt_bob_joined",
        "type": "list.joined",
        "contactId": "c_bob",
        "data": {"list": "New Customers"},
        "contact": contact("c_bob", "Bob", "bob@example.com"),
    }
    assert (await publish(stack, joined)).result.accepted
    before = len(stack.smtp.messages)
    await wait_until(stack, "c_bob", waiting_after("send_email"))

    stack.advance(3600 + 1)
    await wait_until(stack, "c_bob", waiting_after("send_whatsapp"))
    stack.advance(24 * 3600 + 1)
    await wait_until(stack, "c_bob", waiting_after("send_email"))
    reminder = [m for m in stack.smtp.messages[before:] if m["To"] == "bob@example.com"][-1]
    assert reminder["Subject"] == "Your onboarding is waiting"
    assert "Hi Bob" in reminder.get_content()

    stack.advance(48 * 3600 + 1)
    execution = await wait_until(stack, "c_bob", status("completed"))
    assert execution.automation_id == automation_id
    steps = [s.type for s in execution.steps if s.status == executor_pb2.STEP_STATUS_SUCCEEDED]
    assert steps == [
        "send_email",
        "wait",
        "send_whatsapp",
        "wait_for_event",
        "send_email",
        "wait",
        "create_task",
    ]
    for _ in range(100):
        if commands_for(stack, "c_bob"):
            break
        await asyncio.sleep(0.05)
    assert [c.WhichOneof("command") for c in commands_for(stack, "c_bob")] == ["create_task"]
    (task,) = commands_for(stack, "c_bob")
    assert task.create_task.title == "Follow up with Bob"
    bob_whatsapp = [r for r in stack.whatsapp.requests if r.json()["text"]["body"].endswith("c=c_bob")]
    assert len(bob_whatsapp) == 1


async def test_automation_stats_count_the_finished_runs(stack: Stack, onboarding: str) -> None:
    automation_id = onboarding
    joined = {
        "id": "evt_cy_joined",
        "type": "list.joined",
        "contactId": "c_cy",
        "data": {"list": "New Customers"},
        "contact": contact("c_cy", "Cy", "cy@example.com"),
    }
    await publish(stack, joined)
    await wait_until(stack, "c_cy", waiting_after("send_email"))
    async with stack.channel("executor") as ch:
        execution = await execution_of(stack, "c_cy")
        await executor_pb2_grpc.ExecutionServiceStub(ch).CancelExecution(
            executor_pb2.CancelExecutionRequest(execution_id=execution.id), metadata=meta()
        )
    async with stack.channel("automation") as ch:
        stub = automation_pb2_grpc.AutomationServiceStub(ch)
        for _ in range(100):
            got = await stub.GetAutomation(
                automation_pb2.GetAutomationRequest(id=automation_id), metadata=meta()
            )
            if got.automation.stats.cancelled == 1:
                break
            await asyncio.sleep(0.1)
    assert got.automation.stats.total == 1
    assert got.automation.stats.cancelled == 1
