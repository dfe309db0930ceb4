"""A canary secret never leaves the executor: not in a log line, a span, an error, a step log,
a dead letter, an outbox row or a message on any stream.

The canary is every provider credential at once (the SMS auth token, the WhatsApp token, the
SMTP password, the Slack webhook URL's secret path), read from ``<NAME>_FILE`` files as a
Kubernetes Secret would give them; the organization's webhook signing secret is searched for
too. The providers are real HTTP and SMTP servers on 127.0.0.1 that refuse, and echo the
credential back in their errors, as careless providers do.
"""

from __future__ import annotations

import io
import json
import logging
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from google.protobuf.json_format import MessageToJson
from nats.js.errors import NotFoundError
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy import text

from beez.api.executor.v1 import executor_pb2
from beez.kit import telemetry
from beez.kit.bus.topology import STREAMS
from beez.kit.embedded import free_port
from beez.kit.logging import configure_logging
from beez.kit.settings import load_settings
from tests.executor.actions.test_email_tls import serve as smtp_without_starttls
from tests.executor.engine.conftest import Executor, Flow, start_executor
from tests.executor.samples import ADA
from tests.support.providers import serving

CANARY = f"canary-{uuid.uuid4().hex}"

spans = InMemorySpanExporter()
telemetry.configure_tracing("test", exporter=spans)
_provider = trace.get_tracer_provider()
if not isinstance(_provider, TracerProvider):  # pragma: no cover - another test configured it first
    raise RuntimeError("tracing was configured without an exporter")
_provider.add_span_processor(SimpleSpanProcessor(spans))


class EchoingProvider:
    """Refuses every call, quoting back the credential it got (token, Basic auth, URL path)."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.calls.append(request.path)
        if request.path.startswith("/hook"):
            return web.json_response({"ok": True})
        told = f"{request.headers.get('Authorization', '')} {request.path}"
        return web.json_response({"error": {"message": f"invalid credentials: {told}"}}, status=401)


@dataclass
class Rig:
    executor: Executor
    provider: EchoingProvider
    base: str
    smtp_attempts: list[tuple[str, bool]]


@pytest.fixture
def logs() -> Iterator[io.StringIO]:
    """Every log line of the process, as the executor writes them (JSON), PII unmasked."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    configure_logging("executor", "DEBUG", mask=False)
    captured = io.StringIO()
    for handler in root.handlers:
        assert isinstance(handler, logging.StreamHandler)
        handler.setStream(captured)
    try:
        yield captured
    finally:
        root.handlers[:], root.level = handlers, level


@pytest.fixture
async def rig(
    admin_url: str, nats_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, logs: io.StringIO
) -> AsyncIterator[Rig]:
    provider = EchoingProvider()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    files = {
        "SMS_AUTH_TOKEN": CANARY,
        "WHATSAPP_TOKEN": CANARY,
        "SMTP_PASSWORD": CANARY,
        "SLACK_DEFAULT_WEBHOOK_URL": f"{base}/slack/T000/B000/{CANARY}",
    }
    for name, value in files.items():
        (tmp_path / name).write_text(value + "\n")
        monkeypatch.setenv(f"BEEZ_ACTIONS__{name}_FILE", str(tmp_path / name))
    controller, _, gatekeeper, smtp_port = smtp_without_starttls(None)
    from beez.executor.config import ExecutorSettings

    actions = load_settings(ExecutorSettings).actions.model_copy(
        update={
            "sms_base_url": f"{base}/twilio/2010-04-01",
            "sms_account_sid": "AC123",
            "sms_from": "+15005550006",
            "whatsapp_base_url": f"{base}/wa/v21.0",
            "whatsapp_phone_number_id": "1055",
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp_port,
            "smtp_username": "beez",
            "default_from": "hello@beez.example",
            "ssrf_allowlist": ["127.0.0.1/32"],
        }
    )
    assert actions.sms_auth_token.get_secret_value() == CANARY  # the files were read
    try:
        async with (
            serving(provider.handle, port),
            start_executor(admin_url, nats_url, action_plugins=[], actions=actions.model_dump()) as executor,
        ):
            yield Rig(executor, provider, base, gatekeeper.attempts)
    finally:
        controller.stop()


async def everything_on_the_streams(executor: Executor) -> list[str]:
    """Every message (data and headers) on every stream of the executor's bus prefix."""
    found: list[str] = []
    for spec in STREAMS:
        name = executor.topology.stream(spec.name)
        try:
            info = await executor.js.stream_info(name)
        except NotFoundError:
            continue
        if not info.state.messages:
            continue
        for seq in range(max(info.state.first_seq, 1), info.state.last_seq + 1):
            try:
                msg = await executor.js.get_msg(name, seq)
            except NotFoundError:
                continue
            found.append(f"{msg.subject} {msg.headers} {(msg.data or b'').decode(errors='replace')}")
    return found


async def everything_in_the_database(executor: Executor) -> list[str]:
    """Every row of every table of the executor's schema, bytes decoded."""
    found: list[str] = []
    async with executor.svc.runtime.db.sessions() as session:
        tables = await session.scalars(text("SELECT tablename FROM pg_tables WHERE schemaname = 'executor'"))
        for table in list(tables):
            rows = await session.execute(text(f'SELECT * FROM executor."{table}"'))
            for row in rows:
                found.append(
                    " ".join(v.decode(errors="replace") if isinstance(v, bytes) else str(v) for v in row)
                )
    return found


def span_text(span: ReadableSpan) -> str:
    parts = [span.name, str(dict(span.attributes or {})), str(span.status.description or "")]
    parts += [f"{event.name} {dict(event.attributes or {})}" for event in span.events]
    return " ".join(parts)


async def test_the_canary_never_leaves_the_executor(rig: Rig, logs: io.StringIO) -> None:
    flow = Flow(rig.executor, "org_canary")
    rotated = await rig.executor.stub.RotateWebhookSigningSecret(
        executor_pb2.RotateWebhookSigningSecretRequest(), metadata=flow.metadata
    )
    signing_secret = rotated.secret
    contact = {**ADA, "consent": {"email": True, "sms": True, "whatsapp": True}}
    workflows: dict[str, dict[str, Any]] = {
        "sms": {"actions": [{"id": "sms", "type": "send_sms", "config": {"body": "Hi"}}]},
        "whatsapp": {"actions": [{"id": "wa", "type": "send_whatsapp", "config": {"body": "Hi"}}]},
        "slack": {"actions": [{"id": "slack", "type": "send_slack", "config": {"text": "Hi"}}]},
        "email": {"actions": [{"id": "mail", "type": "send_email", "config": {"subject": "s", "body": "b"}}]},
        "webhook": {
            "actions": [{"id": "hook", "type": "webhook", "config": {"url": f"{rig.base}/hook", "body": {}}}]
        },
    }
    executions = {name: await flow.start(workflow, contact=contact) for name, workflow in workflows.items()}
    ended = {
        name: await flow.settled(ex, "completed", "failed", timeout=15) for name, ex in executions.items()
    }

    for name in ("sms", "whatsapp", "slack", "email"):  # each provider was really called and refused
        assert ended[name].status == executor_pb2.EXECUTION_STATUS_FAILED, name
    assert ended["webhook"].status == executor_pb2.EXECUTION_STATUS_COMPLETED
    assert {p.split("/")[1] for p in rig.provider.calls} >= {"twilio", "wa", "slack", "hook"}
    assert rig.smtp_attempts == []  # no STARTTLS: the SMTP password never went out
    sms_error = next(s.error for s in ended["sms"].steps if s.step_id == "sms")
    assert "invalid credentials" in sms_error and "[redacted]" in sms_error  # the echo, without the token

    places: dict[str, list[str]] = {
        "log lines": logs.getvalue().splitlines(),
        "spans": [span_text(span) for span in spans.get_finished_spans()],
        "executions, step errors and results": [MessageToJson(e) for e in ended.values()],
        "database rows (step log, dead letters, outbox)": await everything_in_the_database(rig.executor),
        "stream messages (lifecycle events, dead-letter queue)": await everything_on_the_streams(
            rig.executor
        ),
    }
    assert places["log lines"] and places["spans"]
    async with rig.executor.svc.runtime.db.sessions() as session:
        dead = await session.scalar(
            text("SELECT count(*) FROM executor.dead_letters WHERE org_id = 'org_canary'")
        )
    assert dead == 4  # the four refused steps are dead letters, searched with every other row
    for secret in (CANARY, signing_secret):
        leaks = {where: [line for line in lines if secret in line] for where, lines in places.items()}
        assert not any(leaks.values()), json.dumps(leaks, indent=1)[:3000]
