"""``python -m bench.integrations``, and the ``integrations`` section of ``make bench``: the
executor's CPU per external action with the connection lookup and the per-connection rate
limiter on, against a plain webhook step (issue #14 §8, decision 0047).

The executor's own :class:`~beez.executor.engine.Engine` runs in this process as the service
builds it (``SessionStore``, the real action registry, :class:`Connections` with its
``RateLimiter`` in PostgreSQL, the send limits), on a database of its own migrated to the
executor's head. START jobs are handed to :meth:`Engine.handle` straight, so the figures are the
engine's and its actions', not NATS's; outbox rows stay unsent. The HTTP stand-in answering
both the webhook and Slack's ``chat.postMessage`` (bearer token checked) runs in a separate
process, so its CPU is not counted. Each execution runs :data:`STEPS` steps of one kind:

* ``webhook``: ``webhook`` to the stand-in (no connection: the engine binds nothing);
* ``slack_connection``: ``send_slack`` through the organization's Slack connection: each step
  binds the connection (cached rows), takes a token of its rate bucket (a PostgreSQL round trip
  of the shared limiter), and reads its credentials (decrypted by the key ring).

The rate limits are set so high that nothing waits: the figure is the cost of the checks.
Within a round the two kinds alternate every :data:`BATCH` executions, so drifts of a shared
machine weigh on both alike; the median over rounds of each kind's CPU µs per step, and their
ratio, are reported (the target: the connection's steps within 10% of the webhook's).
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import statistics
import sys
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from cryptography.fernet import Fernet

from beez.api.messages.v1 import jobs_pb2
from beez.executor.__main__ import MIGRATIONS
from beez.executor.actions.registry import build_registry
from beez.executor.actions.settings import ActionSettings
from beez.executor.connections.service import Connections
from beez.executor.connections.store import ConnectionStore
from beez.executor.engine import Engine, SessionStore
from beez.executor.engine.send_limits import SendLimits
from beez.kit.bus.topology import Topology
from beez.kit.clock import SystemClock
from beez.kit.db import Database, create_engine
from beez.kit.keyring import KeyRing
from beez.kit.logging import configure_logging
from beez.kit.migrations import upgrade
from beez.kit.ratelimit import Limit, RateLimiter
from beez.kit.stack import create_database, drop_database
from beez.workflow.context import event_from_json
from beez.workflow.model import workflow_from_json

ADMIN_URL = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
STEPS = 5
"""External steps per execution, so the per-execution costs (creating it, ending it) are shared."""
TOKEN = "xoxb-bench-token"
ORG = "org_bench_integrations"
UNLIMITED = Limit(rate=1_000_000.0, burst=1_000_000.0)
KINDS = ("webhook", "slack_connection")
BATCH = 20
"""Executions of one kind measured at a time; the kinds alternate batch by batch."""


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- the stand-in, in its own process ----------------------------------------------------------


async def _answer(request: web.Request) -> web.Response:
    body = await request.read()
    if request.path == "/slack/chat.postMessage":
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return web.json_response({"ok": False, "error": "invalid_auth"})
        sent = json.loads(body)
        if not sent.get("channel") or not sent.get("text"):
            return web.json_response({"ok": False, "error": "no_text"})
        return web.json_response({"ok": True, "channel": sent["channel"], "ts": f"{time.time():.6f}"})
    if request.path == "/hook" and request.method == "POST":
        return web.json_response({"received": True})
    return web.json_response({"error": "not found"}, status=404)


def _serve(port: int) -> None:  # pragma: no cover - runs in the child process
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", _answer)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None, handle_signals=True)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def _wait_listening(
    port: int, server: multiprocessing.process.BaseProcess, timeout: float = 60.0
) -> None:
    """Until the stand-in listens: a spawned interpreter importing aiohttp takes seconds on a busy
    machine; one that died is reported at once."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not server.is_alive():
            raise RuntimeError(f"the HTTP stand-in exited with {server.exitcode}")
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            await asyncio.sleep(0.05)
    raise RuntimeError("the HTTP stand-in did not start")


# --- the workload ----------------------------------------------------------------------------


def _workflow(kind: str, base: str) -> dict[str, Any]:
    if kind == "webhook":
        step = {
            "type": "webhook",
            "config": {"url": f"{base}/hook", "body": {"hi": "{{ contact.first_name }}"}},
        }
    else:
        step = {
            "type": "send_slack",
            "config": {
                "text": "Hi {{ contact.first_name }}",
                "channel": "#sales",
                "connection": "bench-slack",
            },
        }
    return {
        "name": kind,
        "trigger": {"type": "contact_created"},
        "actions": [dict(step) for _ in range(STEPS)],
    }


def _job(kind: str, base: str, now: datetime) -> jobs_pb2.Job:
    contact = {"id": f"c_{uuid.uuid4().hex[:8]}", "email": "ada@example.com", "firstName": "Ada"}
    event = event_from_json(
        {
            "id": f"evt_{uuid.uuid4().hex[:12]}",
            "type": "contact.created",
            "occurredAt": now.isoformat(),
            "contactId": contact["id"],
            "contact": contact,
        }
    )
    job = jobs_pb2.Job(
        execution_id=f"ex_{uuid.uuid4().hex[:16]}",
        reason=jobs_pb2.JOB_REASON_START,
        organization_id=ORG,
        start=jobs_pb2.ExecutionStart(
            automation_id=f"auto_{kind}",
            automation_version=1,
            workflow=workflow_from_json(_workflow(kind, base)),
            event=event,
            contact_id=contact["id"],
        ),
    )
    job.enqueued_at.FromDatetime(now)
    return job


async def _round(engine: Engine, kind: str, base: str, executions: int, concurrency: int) -> float:
    """CPU µs per step of ``executions`` executions of ``kind``, ``concurrency`` at a time."""
    jobs = [_job(kind, base, datetime.now(UTC)) for _ in range(executions)]
    queue = list(reversed(jobs))

    async def worker() -> None:
        while queue:
            await engine.handle(queue.pop())

    cpu = time.process_time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    used = time.process_time() - cpu
    return used * 1_000_000 / (executions * STEPS)


@asynccontextmanager
async def rig(admin_url: str = ADMIN_URL, concurrency: int = 8) -> AsyncIterator[tuple[Engine, str]]:
    """The engine as the service builds it, on a database of its own, and the stand-in's URL."""
    port = _free_port()
    server = multiprocessing.get_context("spawn").Process(target=_serve, args=(port,), daemon=True)
    server.start()
    url = await asyncio.to_thread(create_database, admin_url, "beez_bint")
    try:
        await _wait_listening(port, server)
        base = f"http://127.0.0.1:{port}"
        await asyncio.to_thread(upgrade, MIGRATIONS, url, "executor")
        db = Database(url, "executor", pool_size=concurrency + 2)
        clock = SystemClock()
        limits_engine = create_engine(
            url, "executor", pool_size=concurrency + 2, application_name="bench-limits"
        )
        limiter = RateLimiter(limits_engine, "executor", clock)
        ring = KeyRing.parse(f"k1:{Fernet.generate_key().decode()}")
        settings = ActionSettings(
            ssrf_allowlist=["127.0.0.1/32"], provider_base_urls={"slack": f"{base}/slack"}
        )
        registry = build_registry(settings)
        connections = Connections(ConnectionStore(db, ring), settings, registry.http, limiter)
        await connections.create(
            ORG,
            "u_bench",
            "slack",
            "bench-slack",
            {"bot_token": TOKEN},
            (100_000.0, 1_000_000.0),
            clock.now(),
        )
        engine = Engine(
            SessionStore(db),
            Topology("bench"),
            clock,
            registry,
            send_limits=SendLimits(limiter, UNLIMITED, {}, UNLIMITED),
            integrations=connections,
        )
        try:
            yield engine, base
        finally:
            await registry.aclose()
            await limits_engine.dispose()
            await db.engine.dispose()
    finally:
        server.terminate()
        server.join(5)
        await asyncio.to_thread(drop_database, admin_url, url)


async def run(
    admin_url: str = ADMIN_URL, *, executions: int = 200, rounds: int = 5, concurrency: int = 8
) -> dict[str, Any]:
    """The figures, on a database of its own made on ``admin_url``'s server, dropped at the end."""
    result: dict[str, Any] = {"executions": executions, "steps_per_execution": STEPS, "rounds": rounds}
    async with rig(admin_url, concurrency) as (engine, base):
        for kind in KINDS:  # warm-up: caches, pools, compiled templates
            await _round(engine, kind, base, max(10, executions // 10), concurrency)
        samples: dict[str, list[float]] = {kind: [] for kind in KINDS}
        batches = max(1, executions // BATCH)
        for number in range(rounds):
            spent = dict.fromkeys(KINDS, 0.0)
            for batch in range(batches):  # interleaved, so both kinds see the same machine
                for kind in KINDS if (number + batch) % 2 == 0 else tuple(reversed(KINDS)):
                    spent[kind] += await _round(engine, kind, base, executions // batches, concurrency)
            for kind in KINDS:
                samples[kind].append(spent[kind] / batches)
            log(f"round {number + 1}: " + ", ".join(f"{k} {samples[k][-1]:.0f} µs/step" for k in KINDS))
    webhook = statistics.median(samples["webhook"])
    slack = statistics.median(samples["slack_connection"])
    result.update(
        {
            "webhook_cpu_us_per_step": round(webhook),
            "connection_cpu_us_per_step": round(slack),
            "ratio": round(slack / webhook, 3),
            "samples_us": {kind: [round(x) for x in values] for kind, values in samples.items()},
            "within_target": slack <= webhook * 1.10,
        }
    )
    return result


def main() -> None:
    configure_logging("bench", "WARNING")
    executions = int(os.environ.get("BENCH_EXECUTIONS", "200"))
    print(json.dumps(asyncio.run(run(executions=executions)), indent=2))


if __name__ == "__main__":
    main()
