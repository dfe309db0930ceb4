"""The communication actions of issue #14 §2 (decision 0046) through a running executor: real
PostgreSQL and NATS, aiosmtpd for email, an FCM stand-in (:mod:`tests.support.standins.fcm`) that
verifies the service account's JWT assertion and FCM's request shape.

Per action: success, a transient failure that is retried, a permanent one that fails the step
with the provider's message, and a crash between the call and the settle (the same key reaches
the provider twice; FCM and SMTP have no key of their own: the duplicate carries the same key
and Message-ID, the window the actions' docstrings document).
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import grpc
import pytest
from aiosmtpd.controller import Controller
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.protobuf import json_format
from sqlalchemy import select

from beez.api.executor.v1 import actions_pb2 as apb
from beez.api.executor.v1 import actions_pb2_grpc, connections_pb2_grpc, executor_pb2
from beez.api.executor.v1 import connections_pb2 as cpb
from beez.api.messages.v1 import commands_pb2, events_pb2
from beez.api.workflow.v1 import workflow_pb2
from beez.executor.actions.base import Action, ActionContext, ActionResult
from beez.executor.actions.registry import build_registry
from beez.executor.config import ExecutorSettings
from beez.executor.models import ScheduledMessage
from beez.executor.repository import scheduled_messages
from beez.executor.scheduled import ScheduledSender
from beez.kit.embedded import free_port
from beez.kit.tracking import CLICK, TrackingKeys
from tests.executor.engine.conftest import Executor, Flow, start_executor
from tests.executor.engine.fakes import SimulatedCrash
from tests.executor.samples import ADA
from tests.support.providers import serving
from tests.support.standins.fcm import FcmStandIn, fcm_error

PROJECT = "beez-push-test"
CLIENT_EMAIL = "push@beez-push-test.iam.gserviceaccount.com"
TRACKING_BASE = "https://t.beez.example"
TRACKING_RING = "k1:comms-test-tracking-key-0123456789abcdef"
PUSH_CONTACT = {
    **ADA,
    "consent": {"email": True, "sms": False, "whatsapp": True, "push": True},
    "fields": {"plan": "pro", "push_tokens": ["device-a", "device-b"]},
}
CRASHED: set[tuple[str, str]] = set()


class CrashOnce:
    """A real action that, for steps whose id starts with ``crash``, dies right after its call
    the first time per execution (the process dying between the call and the settle)."""

    def __init__(self, action: Action) -> None:
        self.type = action.type
        self.action = action

    async def run(self, ctx: ActionContext) -> ActionResult:
        result = await self.action.run(ctx)
        if ctx.step_id.startswith("crash") and (ctx.execution_id, ctx.step_id) not in CRASHED:
            CRASHED.add((ctx.execution_id, ctx.step_id))
            raise SimulatedCrash()
        return result


def plugin(settings: ExecutorSettings) -> dict[str, Action]:
    """The real actions of this module's types, each able to crash once (``crash*`` steps)."""
    keys = TrackingKeys.load(settings.tracking_keys_file) if settings.tracking_keys_file else None
    registry = build_registry(settings.actions, tracking_keys=keys)
    types = ("send_push", "send_survey", "send_personalized_video", "forward_email_to_team", "schedule_email")
    return {name: CrashOnce(registry[name]) for name in types}


@dataclass
class ScriptedSmtp:
    """An SMTP server that answers DATA from a script (``451 ...``, ``550 ...``), then 250."""

    messages: list[EmailMessage] = field(default_factory=list)
    script: list[str] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        import email
        import email.policy

        if self.script:
            return self.script.pop(0)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        message["X-Rcpt"] = ", ".join(envelope.rcpt_tos)
        self.messages.append(message)
        return "250 OK"

    def keyed(self, key_part: str) -> list[EmailMessage]:
        return [m for m in self.messages if key_part in "".join(str(m["X-Beez-Idempotency-Key"]).split())]

    async def wait_keyed(self, key_part: str, count: int = 1, timeout: float = 10.0) -> list[EmailMessage]:
        deadline = asyncio.get_running_loop().time() + timeout
        while len(self.keyed(key_part)) < count:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(
                    f"expected {count} emails keyed {key_part}, got {len(self.keyed(key_part))}"
                )
            await asyncio.sleep(0.05)
        return self.keyed(key_part)


@asynccontextmanager
async def scripted_smtp() -> AsyncIterator[tuple[ScriptedSmtp, int]]:
    sink, port = ScriptedSmtp(), free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()


@dataclass
class Rig:
    executor: Executor
    fcm: FcmStandIn
    smtp: ScriptedSmtp
    account_json: str
    connections: Any


@pytest.fixture(scope="module")
async def rig(admin_url: str, nats_url: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Rig]:
    folder: Path = tmp_path_factory.mktemp("comms")
    (folder / "ring").write_text(f"k1:{Fernet.generate_key().decode()}\n")
    (folder / "tracking").write_text(TRACKING_RING + "\n")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    account = {
        "type": "service_account",
        "project_id": PROJECT,
        "private_key_id": "kid-1",
        "private_key": pem,
        "client_email": CLIENT_EMAIL,
        "token_uri": "https://oauth2.googleapis.com/token",
    }
    fcm = FcmStandIn(key.public_key(), CLIENT_EMAIL, PROJECT)
    async with serving(fcm.handle, fcm.port), scripted_smtp() as (smtp, smtp_port):
        settings = {
            "action_plugins": ["tests.executor.engine.test_comms:plugin"],
            "job_ack_wait_s": 1.0,
            "signing_keys_file": str(folder / "ring"),
            "tracking_keys_file": str(folder / "tracking"),
            "connections_cache_s": 0,
            "scheduled_poll_interval_s": 0.05,
            "actions": {
                "ssrf_allowlist": ["127.0.0.1/32"],
                "provider_base_urls": {"fcm": fcm.url},
                "fcm_token_url": f"{fcm.url}/token",
                "smtp_host": "127.0.0.1",
                "smtp_port": smtp_port,
                "default_from": "team@beez.example",
                "tracking_base_url": TRACKING_BASE,
            },
        }
        async with start_executor(admin_url, nats_url, **settings) as executor:
            stub = connections_pb2_grpc.ConnectionServiceStub(executor.svc.channel)
            yield Rig(executor, fcm, smtp, json.dumps(account), stub)


def new_flow(rig: Rig) -> Flow:
    return Flow(rig.executor, f"org_{uuid.uuid4().hex[:10]}")


async def fcm_connection(rig: Rig, flow: Flow) -> None:
    await rig.connections.CreateConnection(
        cpb.CreateConnectionRequest(
            provider="fcm", name="app", credentials={"service_account_json": rig.account_json}
        ),
        metadata=[*flow.metadata, ("x-roles", "admin"), ("x-user-id", "u_admin")],
    )


def result_of(step: executor_pb2.StepLog) -> dict[str, Any]:
    return json_format.MessageToDict(step.result)


def key_of(execution: executor_pb2.Execution, step_id: str) -> str:
    return next(s.idempotency_key for s in execution.steps if s.step_id == step_id)


# --- send_push -------------------------------------------------------------------------------

PUSH = {"title": "Hi {{ contact.first_name }}", "body": "Your order shipped", "data": {"order": "42"}}


@pytest.mark.parametrize(
    ("case", "script", "status", "category", "sends"),
    [
        ("success", [], "completed", "", 2),
        (
            "transient",
            [
                (
                    503,
                    fcm_error(503, "UNAVAILABLE", "The service is currently unavailable."),
                    {"Retry-After": "1"},
                )
            ],
            "completed",
            "",
            2,
        ),
        (
            "quota",
            [(429, fcm_error(429, "QUOTA_EXCEEDED", "Quota exceeded."), {"Retry-After": "1"})],
            "completed",
            "",
            2,
        ),
        (
            "permanent",
            [(403, fcm_error(403, "SENDER_ID_MISMATCH", "SenderId mismatch"), {})],
            "failed",
            "fcm_sender_id_mismatch",
            0,
        ),
    ],
)
async def test_send_push(
    rig: Rig, case: str, script: list[Any], status: str, category: str, sends: int
) -> None:
    flow = new_flow(rig)
    await fcm_connection(rig, flow)
    rig.fcm.script[:] = list(script)
    config = {**PUSH, "retry": {"attempts": 3, "backoff": [0]}}
    execution_id = await flow.start(
        {"actions": [{"id": "push", "type": "send_push", "config": config}]}, contact=PUSH_CONTACT
    )
    if case in ("transient", "quota"):
        await flow.until(
            execution_id,
            lambda ex: len(ex.steps) >= 1 and ex.steps[0].status == executor_pb2.STEP_STATUS_FAILED,
        )
        await flow.advance(seconds=3)
    done = await flow.settled(execution_id, status, timeout=10)
    sent = [
        s
        for s in rig.fcm.sends
        if s["headers"].get("X-Beez-Idempotency-Key", "").startswith(f"exec:{execution_id}:")
    ]
    assert len(sent) == sends
    if status == "completed":
        assert [s["body"]["message"]["token"] for s in sent] == ["device-a", "device-b"]
        assert sent[0]["body"]["message"]["notification"] == {"title": "Hi Ada", "body": "Your order shipped"}
        assert sent[0]["body"]["message"]["data"] == {"order": "42"}
        assert sent[0]["headers"]["Authorization"].startswith("Bearer ya29.stand-in-")
        last = done.steps[-1]
        assert last.status == executor_pb2.STEP_STATUS_SUCCEEDED
        assert {s["headers"]["X-Beez-Idempotency-Key"] for s in sent} == {last.idempotency_key}
        if case != "success":
            assert [s.attempt for s in done.steps] == [1, 2]
            assert "fcm" in done.steps[0].error
    else:
        assert done.steps[-1].error_category == category and "SenderId mismatch" in done.steps[-1].error
        assert len(done.steps) == 1  # permanent: not retried


async def test_push_drops_unregistered_tokens_and_fails_only_when_none_took_it(rig: Rig) -> None:
    flow = new_flow(rig)
    await fcm_connection(rig, flow)
    gone: tuple[int, dict[str, Any], dict[str, str]] = (
        404,
        fcm_error(404, "UNREGISTERED", "Requested entity was not found."),
        {},
    )
    rig.fcm.script[:] = [gone]
    partial = await flow.start(
        {"actions": [{"id": "push", "type": "send_push", "config": PUSH}]}, contact=PUSH_CONTACT
    )
    done = await flow.settled(partial, "completed", timeout=10)
    output = result_of(done.steps[0])
    assert output["sent"] == 1 and output["unregistered"] == ["device-a"]

    rig.fcm.script[:] = [gone]
    one = {**PUSH, "device_tokens": ["device-z"]}
    failed = await flow.start(
        {"actions": [{"id": "push", "type": "send_push", "config": one}]}, contact=PUSH_CONTACT
    )
    step = (await flow.settled(failed, "failed", timeout=10)).steps[0]
    assert step.error_category == "fcm_unregistered" and "Requested entity was not found" in step.error


async def test_push_token_is_fetched_once_per_connection_with_a_valid_assertion(rig: Rig) -> None:
    flow = new_flow(rig)
    await fcm_connection(rig, flow)
    before = len(rig.fcm.grants)
    steps = [{"id": f"p{i}", "type": "send_push", "config": PUSH} for i in range(3)]
    done = await flow.settled(
        await flow.start({"actions": steps}, contact=PUSH_CONTACT), "completed", timeout=10
    )
    assert len(done.steps) == 3
    assert len(rig.fcm.grants) == before + 1  # three steps, one JWT grant
    assert rig.fcm.grants[-1]["iss"] == CLIENT_EMAIL

    admin = [*flow.metadata, ("x-roles", "admin"), ("x-user-id", "u_admin")]
    [connection] = (
        await rig.connections.ListConnections(cpb.ListConnectionsRequest(), metadata=admin)
    ).connections
    tested = await rig.connections.TestConnection(cpb.TestConnectionRequest(id=connection.id), metadata=admin)
    assert tested.ok and "refreshed" in tested.detail and len(rig.fcm.grants) == before + 2
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    wrong = json.loads(rig.account_json)
    wrong["private_key"] = other.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    await rig.connections.RotateConnection(
        cpb.RotateConnectionRequest(
            id=connection.id, credentials={"service_account_json": json.dumps(wrong)}
        ),
        metadata=admin,
    )
    refused = await rig.connections.TestConnection(
        cpb.TestConnectionRequest(id=connection.id), metadata=admin
    )
    assert not refused.ok and "invalid_grant" in refused.detail
    assert "PRIVATE KEY" not in refused.detail


async def test_push_without_consent_or_connection(rig: Rig) -> None:
    flow = new_flow(rig)
    no_consent = await flow.start({"actions": [{"id": "push", "type": "send_push", "config": PUSH}]})
    step = (await flow.settled(no_consent, "completed")).steps[0]
    assert step.status == executor_pb2.STEP_STATUS_SKIPPED
    no_connection = await flow.start(
        {"actions": [{"id": "push", "type": "send_push", "config": PUSH}]}, contact=PUSH_CONTACT
    )
    step = (await flow.settled(no_connection, "failed")).steps[0]
    assert step.error_category == "not_configured"


# --- crashes between the call and the settle -------------------------------------------------

SURVEY = {
    "survey_url": "https://survey.example/s/{{ contact.id }}",
    "message": "Tell us: [[link]]",
    "subject": "Quick survey",
}


@pytest.mark.parametrize(
    ("type_", "config", "data", "event_type"),
    [
        ("send_push", PUSH, None, None),
        ("send_survey", SURVEY, None, None),
        (
            "forward_email_to_team",
            {"to": ["ops@beez.example"]},
            {"from": "ada@example.com", "subject": "Help", "text": "Where is my order?", "channel": "email"},
            "message.received",
        ),
    ],
)
async def test_a_crash_after_the_call_reaches_the_provider_twice_under_one_key(
    rig: Rig, type_: str, config: dict[str, Any], data: dict[str, Any] | None, event_type: str | None
) -> None:
    flow = new_flow(rig)
    await fcm_connection(rig, flow)
    job = flow.start_job(
        {"actions": [{"id": "crash_step", "type": type_, "config": config}]}, contact=PUSH_CONTACT, data=data
    )
    if event_type:
        job.start.event.type = event_type
    await flow.publish(job, f"start:{job.execution_id}")
    done = await flow.settled(job.execution_id, "completed", timeout=15)
    [step] = done.steps
    assert (step.attempt, step.status) == (1, executor_pb2.STEP_STATUS_SUCCEEDED)
    key = step.idempotency_key
    if type_ == "send_push":
        keys = [
            s["headers"]["X-Beez-Idempotency-Key"]
            for s in rig.fcm.sends
            if s["headers"].get("X-Beez-Idempotency-Key") == key
        ]
        assert len(keys) == 4  # two devices, sent twice: FCM has no key (the documented window)
    else:
        twice = await rig.smtp.wait_keyed(key, 2)
        assert len({m["Message-ID"] for m in twice}) == 1  # the same message, recognisable as one


# --- tracked links -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("type_", "url_field", "script", "status", "category"),
    [
        ("send_survey", "survey_url", [], "completed", ""),
        ("send_personalized_video", "video_url", [], "completed", ""),
        ("send_survey", "survey_url", ["451 4.3.0 Try again later"], "completed", ""),
        ("send_personalized_video", "video_url", ["550 5.1.1 Mailbox unavailable"], "failed", "smtp_5xx"),
    ],
)
async def test_tracked_links(
    rig: Rig, type_: str, url_field: str, script: list[str], status: str, category: str
) -> None:
    flow = new_flow(rig)
    rig.smtp.script[:] = list(script)
    config = {
        url_field: "https://media.example/{{ contact.id }}?name={{ contact.first_name }}",
        "message": "Hello {{ contact.first_name }}, here it is: [[link]] Enjoy.",
        "subject": "For you",
        "campaign_id": "spring",
        "retry": {"attempts": 2, "backoff": [0]},
    }
    execution_id = await flow.start({"actions": [{"id": "link", "type": type_, "config": config}]})
    done = await flow.settled(execution_id, status, timeout=10)
    if status == "failed":
        assert done.steps[-1].error_category == category and "Mailbox unavailable" in done.steps[-1].error
        return
    [message] = await rig.smtp.wait_keyed(done.steps[-1].idempotency_key)
    body = message.get_content()
    found = re.search(rf"{re.escape(TRACKING_BASE)}/t/c/(\S+)", body)
    assert (
        found is not None and body.startswith("Hello Ada, here it is: ") and body.rstrip().endswith("Enjoy.")
    )
    claims = TrackingKeys.parse(TRACKING_RING).verify(found.group(1), CLICK)
    assert claims is not None
    assert (claims.org_id, claims.execution_id, claims.step_id, claims.template, claims.campaign) == (
        flow.org,
        execution_id,
        "link",
        type_,
        "spring",
    )
    assert claims.url == "https://media.example/c_ada?name=Ada"
    assert len(done.steps) == (2 if script else 1)


# --- create_email_draft, forward_email_to_team ---------------------------------------------


async def test_create_email_draft_sends_the_inbox_a_typed_command(rig: Rig) -> None:
    flow = new_flow(rig)
    config = {
        "subject": "Re: {{ event.data.list }}",
        "body": "Hi {{ contact.first_name }}",
        "assignee": "u_7",
    }
    execution_id = await flow.start(
        {"actions": [{"id": "draft", "type": "create_email_draft", "config": config}]}
    )
    done = await flow.settled(execution_id, "completed")
    [(subject, _, payload)] = await flow.outbox(".create_email_draft")
    command = commands_pb2.PlatformCommand.FromString(payload)
    assert subject.endswith(f".{flow.org}.create_email_draft")
    assert command.idempotency_key == done.steps[0].idempotency_key and command.contact_id == "c_ada"
    draft = command.create_email_draft
    assert (draft.to, draft.subject, draft.body, draft.assignee) == (
        "ada@example.com",
        "Re: New Customers",
        "Hi Ada",
        "u_7",
    )


async def test_forward_email_to_team_forwards_only_the_minimized_original(rig: Rig) -> None:
    flow = new_flow(rig)
    data = {
        "from": "ada@example.com",
        "subject": "Broken kettle",
        "text": "It leaks.",
        "received_at": "2026-01-05T11:00:00Z",
        "attachments": [{"name": "photo.jpg"}],
        "headers": {"X-Secret": "internal"},
    }
    config = {"to": ["ops@beez.example", "lead@beez.example"], "note": "From {{ contact.first_name }}"}
    job = flow.start_job(
        {"actions": [{"id": "fwd", "type": "forward_email_to_team", "config": config}]}, data=data
    )
    job.start.event.type = "email.received"
    await flow.publish(job, f"start:{job.execution_id}")
    done = await flow.settled(job.execution_id, "completed")
    [message] = await rig.smtp.wait_keyed(done.steps[0].idempotency_key)
    assert message["Subject"] == "Fwd: Broken kettle" and message["Reply-To"] == "ada@example.com"
    assert message["X-Rcpt"] == "ops@beez.example, lead@beez.example"
    body = message.get_content()
    assert body.startswith("From Ada") and "It leaks." in body and "2026-01-05T11:00:00Z" in body
    assert "photo.jpg" not in body and "internal" not in message.as_string()

    wrong = await flow.start({"actions": [{"id": "fwd", "type": "forward_email_to_team", "config": config}]})
    step = (await flow.settled(wrong, "failed")).steps[0]
    assert step.error_category == "not_an_email"


# --- schedule_email, cancel_scheduled_message ----------------------------------------------


async def message_row(rig: Rig, message_id: str) -> ScheduledMessage:
    async with rig.executor.svc.runtime.db.sessions() as session:
        row = (
            await session.execute(select(ScheduledMessage).where(ScheduledMessage.id == message_id))
        ).scalar_one()
        session.expunge(row)
        return row


SCHEDULED = {
    "at": "09:00",
    "subject": "Good morning {{ contact.first_name }}",
    "body": "Coffee?",
    "label": "nudge",
}


async def test_schedule_email_goes_on_lists_the_message_and_sends_it_at_the_local_time(rig: Rig) -> None:
    flow = new_flow(rig)
    workflow = {
        "actions": [
            {"id": "later", "type": "schedule_email", "config": SCHEDULED},
            {"id": "after", "type": "add_tag", "config": {"tag": "scheduled"}},
        ]
    }
    execution_id = await flow.start(workflow)
    done = await flow.settled(execution_id, "completed")  # not held by the scheduled email
    output = result_of(done.steps[0])
    now = rig.executor.clock.now()
    lagos_nine = datetime.combine(
        (now + timedelta(hours=1)).date(), datetime.min.time(), tzinfo=UTC
    ) + timedelta(hours=8)
    if lagos_nine < now:
        lagos_nine += timedelta(days=1)
    assert output["timezone"] == "Africa/Lagos" and output["due_at"] == lagos_nine.isoformat()
    message_id = output["scheduled_message_id"]
    [listed] = [w for w in await flow.scheduled() if w.id == message_id]
    assert (listed.kind, listed.execution_id, listed.step_id) == ("scheduled_email", execution_id, "later")
    assert listed.due_at.ToDatetime(tzinfo=UTC) == lagos_nine

    # re-settling the same step (a redelivered job) adds no second message
    async with rig.executor.svc.runtime.db.transaction() as session:
        row = await message_row(rig, message_id)
        again = {c.name: getattr(row, c.name) for c in ScheduledMessage.__table__.columns}
        again["id"] = "smsg_other"
        assert not await scheduled_messages.add_scheduled_message(session, again)

    await flow.advance(seconds=(lagos_nine - now).total_seconds() + 1)
    [sent] = await rig.smtp.wait_keyed(f"{key_of(done, 'later')}:send")
    assert sent["Subject"] == "Good morning Ada" and sent["To"] == "ada@example.com"
    await asyncio.sleep(0.2)
    assert (await message_row(rig, message_id)).status == "sent"
    assert not [w for w in await flow.scheduled() if w.id == message_id]


async def test_scheduled_messages_are_cancelled_by_label_by_id_and_through_cancel_scheduled(rig: Rig) -> None:
    flow = new_flow(rig)
    first = await flow.start(
        {
            "actions": [
                {"id": "a", "type": "schedule_email", "config": {**SCHEDULED, "date": "2027-03-01"}},
                {
                    "id": "b",
                    "type": "schedule_email",
                    "config": {**SCHEDULED, "date": "2027-03-02", "label": "other"},
                },
                {
                    "id": "c",
                    "type": "schedule_email",
                    "config": {**SCHEDULED, "date": "2027-03-03", "label": "rpc"},
                },
            ]
        }
    )
    done = await flow.settled(first, "completed")
    ids = [result_of(s)["scheduled_message_id"] for s in done.steps]
    assert len(await flow.scheduled()) == 3

    second = await flow.start(
        {
            "actions": [
                {"id": "by_label", "type": "cancel_scheduled_message", "config": {"label": "nudge"}},
                {"id": "by_id", "type": "cancel_scheduled_message", "config": {"message_id": ids[1]}},
            ]
        }
    )
    cancelled = await flow.settled(second, "completed")
    assert [result_of(s)["cancelled"] for s in cancelled.steps] == [[ids[0]], [ids[1]]]

    other = new_flow(rig)  # another organization sees NOT_FOUND
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await other.stub.CancelScheduled(
            executor_pb2.CancelScheduledRequest(id=ids[2]), metadata=other.metadata
        )
    assert refused.value.code() == grpc.StatusCode.NOT_FOUND
    await flow.stub.CancelScheduled(executor_pb2.CancelScheduledRequest(id=ids[2]), metadata=flow.metadata)
    assert [(await message_row(rig, i)).status for i in ids] == ["cancelled"] * 3
    assert not await flow.scheduled()
    assert (await flow.get(first)).status == executor_pb2.EXECUTION_STATUS_COMPLETED


async def test_a_scheduled_send_retries_transient_failures_and_survives_a_crashed_sender(rig: Rig) -> None:
    flow = new_flow(rig)
    config = {**SCHEDULED, "date": "2026-06-01", "at": "10:00", "timezone": "UTC"}
    done = await flow.settled(
        await flow.start({"actions": [{"id": "s", "type": "schedule_email", "config": config}]}), "completed"
    )
    message_id = result_of(done.steps[0])["scheduled_message_id"]
    due = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)

    # a sender claims it (at its due time), sends it, and dies before recording the outcome
    settings = rig.executor.svc.runtime.settings
    assert isinstance(settings, ExecutorSettings)
    registry = build_registry(settings.actions)
    try:
        async with rig.executor.svc.runtime.db.transaction() as session:
            [claimed] = [
                row
                for row in await scheduled_messages.claim_due_messages(
                    session, due, timedelta(seconds=120), 500
                )
                if row.id == message_id
            ]
            session.expunge(claimed)
        crashed = ScheduledSender(rig.executor.svc.runtime.db, rig.executor.clock, registry["send_email"])
        assert (await crashed.send(claimed, due))["status"] == "sent"  # never settled
    finally:
        await registry.aclose()
    key = f"{key_of(done, 's')}:send"
    await rig.smtp.wait_keyed(key, 1)

    # the lease runs out: the running sender sends it again; a 451 on its 2nd attempt is retried
    # 5 minutes later (BACKOFF_S)
    rig.smtp.script[:] = ["451 4.3.0 Try again later"]
    await flow.advance(seconds=(due - rig.executor.clock.now()).total_seconds() + 121)
    for _ in range(100):
        row = await message_row(rig, message_id)
        if row.status == "pending" and row.attempts == 2:
            break
        await asyncio.sleep(0.05)
    assert (row.status, row.attempts) == ("pending", 2) and "451" in row.error
    await flow.advance(seconds=301)
    twice = await rig.smtp.wait_keyed(key, 2)
    assert len({m["Message-ID"] for m in twice}) == 1
    for _ in range(100):
        row = await message_row(rig, message_id)
        if row.status == "sent":
            break
        await asyncio.sleep(0.05)
    assert (row.status, row.attempts) == ("sent", 3)


async def test_a_scheduled_send_refused_for_good_is_failed(rig: Rig) -> None:
    flow = new_flow(rig)
    config = {**SCHEDULED, "date": "2026-07-01", "at": "10:00", "timezone": "UTC"}
    done = await flow.settled(
        await flow.start({"actions": [{"id": "s", "type": "schedule_email", "config": config}]}), "completed"
    )
    message_id = result_of(done.steps[0])["scheduled_message_id"]
    rig.smtp.script[:] = ["550 5.1.1 Mailbox unavailable"]
    await flow.advance(
        seconds=(datetime(2026, 7, 1, 10, tzinfo=UTC) - rig.executor.clock.now()).total_seconds() + 1
    )
    for _ in range(100):
        row = await message_row(rig, message_id)
        if row.status == "failed":
            break
        await asyncio.sleep(0.05)
    assert row.status == "failed" and "Mailbox unavailable" in row.error


async def test_schedule_email_in_the_past_or_without_consent(rig: Rig) -> None:
    flow = new_flow(rig)
    past = {**SCHEDULED, "date": "2020-01-01"}
    step = (
        await flow.settled(
            await flow.start({"actions": [{"id": "s", "type": "schedule_email", "config": past}]}), "failed"
        )
    ).steps[0]
    assert step.error_category == "in_the_past"
    no_consent = {**ADA, "consent": {"email": False}}
    skipped = await flow.start(
        {"actions": [{"id": "s", "type": "schedule_email", "config": SCHEDULED}]}, contact=no_consent
    )
    assert (await flow.settled(skipped, "completed")).steps[0].status == executor_pb2.STEP_STATUS_SKIPPED


# --- safe mode: ActionService.TestAction ---------------------------------------------------

FORWARD_EVENT = {
    "type": "email.received",
    "contactId": "c_ada",
    "data": {"from": "ada@example.com", "subject": "Hi", "text": "Help"},
}


@pytest.mark.parametrize(
    ("type_", "config", "event", "expect"),
    [
        ("send_push", PUSH, None, ("http", "/v1/projects/{project_id}/messages:send", "device-a")),
        (
            "schedule_email",
            {**SCHEDULED, "date": "2027-01-01"},
            None,
            ("smtp", "smtp://127.0.0.1", "Coffee?"),
        ),
        ("send_survey", SURVEY, None, ("smtp", "smtp://127.0.0.1", f"{TRACKING_BASE}/t/c/")),
        (
            "forward_email_to_team",
            {"to": ["ops@beez.example"]},
            FORWARD_EVENT,
            ("smtp", "smtp://127.0.0.1", "Help"),
        ),
        ("create_email_draft", {"subject": "S", "body": "B"}, None, ("command", "create_email_draft", "")),
        ("cancel_scheduled_message", {"label": "nudge"}, None, ("none", "", "")),
    ],
)
async def test_every_action_has_a_safe_mode_preview(
    rig: Rig, type_: str, config: dict[str, Any], event: dict[str, Any] | None, expect: tuple[str, str, str]
) -> None:
    flow = new_flow(rig)
    action = workflow_pb2.Action(id="step", type=type_)
    action.config.update(config)
    request = apb.TestActionRequest(
        action=action, contact=json_format.ParseDict(PUSH_CONTACT, events_pb2.Contact())
    )
    if event is not None:
        request.event.CopyFrom(json_format.ParseDict(event, events_pb2.Event()))
    stub = actions_pb2_grpc.ActionServiceStub(rig.executor.svc.channel)
    shown = await stub.TestAction(request, metadata=flow.metadata)
    kind, where, content = expect
    if kind == "command":
        [command] = shown.commands
        assert (
            command.subject.endswith(f".{flow.org}.{where}")
            and command.command.create_email_draft.to == "ada@example.com"
        )
    elif kind == "none":
        assert not shown.HasField("request") and not shown.commands and not shown.skipped_reason
    else:
        assert (shown.request.kind, where in shown.request.url, content in shown.request.body) == (
            kind,
            True,
            True,
        )
        if type_ == "send_push":
            assert shown.request.headers["Authorization"] == "Bearer [redacted]"
        if type_ == "schedule_email":
            assert json_format.MessageToDict(shown.request.details)["due_at"] == "2027-01-01T08:00:00+00:00"
    assert not [s for s in rig.fcm.sends if "exec_preview" in s["headers"].get("X-Beez-Idempotency-Key", "")]
