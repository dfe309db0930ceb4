"""NATS permissions: one user per service, enforced by a real nats-server.

The deployed configuration is the rendering of the code's roles (so it cannot drift), the roles
name the durable consumers the services really run, each user may publish its own subjects and
the server refuses it every other, and every consumer runs (create, pull, ack, dead-letter) with
no more than its user's permissions.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, cast

import pytest
from nats.aio.msg import Msg
from nats.js import JetStreamContext

from beez.analytics.consumers import ExecutionEventsConsumer
from beez.executor.consumers import AutomationsConsumer as ExecutorAutomations
from beez.executor.consumers import JobConsumers
from beez.executor.dlq.consumer import DeadLetterConsumer
from beez.executor.dlq.domain import redrivable
from beez.kit.bus import permissions
from beez.kit.bus.headers import MSG_ID
from beez.kit.bus.topology import Topology, ensure_streams
from beez.kit.bus.worker import PermanentError, PullWorker
from beez.trigger.config import TriggerSettings
from beez.trigger.consumers import worker_factories
from tests.kit.bus.bus_support import wait_until
from tests.kit.bus.nats_auth import Refusals, auth_nats

REPO = Path(__file__).resolve().parents[3]
PREFIX = "tp"

SUBJECTS = {
    "events": "events.o1.signup",
    "jobs": "jobs.normal.o1",
    "executions": "executions.o1.completed",
    "automations": "automations.o1.changed",
    "platform.commands": "platform.commands.o1.tag",
    "waits": "waits.o1.register",
    "dlq": "dlq.trigger-events",
}
"""One subject of each kind (unprefixed)."""

MAY_PUBLISH = {
    "automation": {"automations"},
    "trigger": {"jobs", "dlq"},
    "executor": {"executions", "platform.commands", "waits", "jobs", "events"},
    "analytics": set(),
    "beezora": set(),
    "platform": {"events"},
    "ops": set(),
}
"""What the issue asks for, written out: who may publish which kind of subject."""


def service_workers(topology: Topology) -> list[tuple[str, PullWorker]]:
    """Every durable consumer the services run, built by the services' own code, by service."""
    none = cast(Any, None)  # the handlers' dependencies: never called here
    trigger = [
        ("trigger", worker)
        for build in worker_factories(topology, TriggerSettings(), none, none, none).values()
        for worker in build(none)
    ]
    executor = [
        *(("executor", w) for w in JobConsumers(none, topology, none, none, concurrency=40).workers),
        *(("executor", w) for w in ExecutorAutomations(topology, none).workers(none)),
        *(("executor", w) for w in DeadLetterConsumer(topology, none).workers(none)),
    ]
    analytics = [
        ("analytics", w)
        for w in ExecutionEventsConsumer(topology, none, concurrency=4, max_batch=10).workers(none)
    ]
    return [*trigger, *executor, *analytics]


def test_the_deployed_permissions_are_the_rendering_of_the_roles() -> None:
    deployed = (REPO / "deploy" / "nats" / "permissions.conf").read_text()
    assert deployed == permissions.render(), (
        "deploy/nats/permissions.conf is stale: "
        "run `.venv/bin/python -m beez.kit.bus.permissions > deploy/nats/permissions.conf`"
    )
    assert "$NATS_TRIGGER_PASSWORD" in deployed  # passwords come from the server's environment


def test_the_roles_name_exactly_the_consumers_the_services_run() -> None:
    topology = Topology()
    running = {(service, w.stream, w.durable) for service, w in service_workers(topology)}
    declared = {(r.name, c.stream, c.durable) for r in permissions.ROLES for c in r.consumers}
    assert running == declared


def test_the_roles_give_what_the_issue_asks() -> None:
    topology = Topology()
    for spec in permissions.ROLES:
        allowed = permissions.publish_allow(spec, topology)
        kinds = {kind for kind, subject in SUBJECTS.items() if _matches_any(allowed, subject)}
        assert kinds == MAY_PUBLISH[spec.name], spec.name


def test_the_executor_may_publish_every_subject_it_re_drives_and_only_those() -> None:
    topology = Topology(PREFIX)
    allowed = permissions.publish_allow(permissions.role("executor"), topology)
    for kind, raw in SUBJECTS.items():
        subject = topology.subject(raw)
        if kind != "dlq":
            assert redrivable(topology, subject) == _matches_any(allowed, subject), kind
    assert not redrivable(topology, topology.automation_changed("o1"))
    assert not redrivable(topology, Topology("other").jobs("normal", "o1"))


async def test_each_user_publishes_its_own_subjects_and_is_refused_the_others(tmp_path: Path) -> None:
    async with auth_nats(tmp_path / "nats", PREFIX) as server:
        topology = Topology(PREFIX)
        setup = await server.client("automation")
        await ensure_streams(setup.jetstream(), topology)  # a service may declare the streams
        await setup.close()
        for spec in permissions.ROLES:
            refusals = Refusals()
            nc = await server.client(spec.name, refusals)
            js = nc.jetstream()
            refused = []
            for kind, raw in SUBJECTS.items():
                subject = topology.subject(raw)
                if kind in MAY_PUBLISH[spec.name]:
                    ack = await js.publish(subject, b"ok", headers={MSG_ID: f"{spec.name}:{kind}"})
                    assert ack.seq > 0, (spec.name, subject)
                else:
                    await nc.publish(subject, b"not yours")
                    refused.append(subject)
            await nc.flush()
            violations = await refusals.wait_for(len(refused))
            for subject in refused:
                assert any(f'publish to "{subject}"' in v for v in violations), (
                    spec.name,
                    subject,
                    violations,
                )
            await nc.close()


async def test_a_user_may_not_read_data_subjects_nor_another_users_replies(tmp_path: Path) -> None:
    async with auth_nats(tmp_path / "nats", PREFIX) as server:
        refusals = Refusals()
        nc = await server.client("trigger", refusals)
        await nc.subscribe(Topology(PREFIX).subject("events.>"))
        await nc.subscribe("_INBOX.executor.>")
        await nc.subscribe(">")
        await nc.flush()
        violations = await refusals.wait_for(3)
        assert all("subscription" in v.lower() for v in violations), violations
        await nc.close()


async def test_a_platform_caller_cannot_publish_jobs_and_trigger_cannot_announce_automations(
    tmp_path: Path,
) -> None:
    """The issue's examples, on the wire: refused by the server, stored nowhere."""
    async with auth_nats(tmp_path / "nats", PREFIX) as server:
        topology = Topology(PREFIX)
        ops = await server.client("ops")
        await ensure_streams(ops.jetstream(), topology)
        for role, raw in (("platform", "jobs.critical.o1"), ("trigger", "automations.o1.changed")):
            refusals = Refusals()
            nc = await server.client(role, refusals)
            with pytest.raises(Exception, match="timeout"):
                await nc.jetstream().publish(topology.subject(raw), b"forged", timeout=0.5)
            assert refusals.violations(), role
            await nc.close()
        for stream in ("JOBS", "AUTOMATIONS"):
            assert (await ops.jetstream().stream_info(topology.stream(stream))).state.messages == 0
        await ops.close()


async def test_every_service_consumer_runs_with_its_users_permissions(tmp_path: Path) -> None:
    """Create-or-update, pull, ack and dead-letter, for each durable the services run, as its user."""
    async with auth_nats(tmp_path / "nats", PREFIX) as server:
        topology = Topology(PREFIX)
        ops = await server.client("ops")
        ops_js = ops.jetstream()
        for service, real in service_workers(topology):
            refusals = Refusals()
            nc = await server.client(service, refusals)
            js = nc.jetstream()
            await ensure_streams(js, topology)
            filters = _filters(real)
            raw_filters = [f.removeprefix(f"{PREFIX}.") for f in filters]
            subject = raw_filters[0].replace("*", "o1").replace(">", "x")
            if subject == "dlq.x":  # the DLQ consumer reads what the others dead-letter
                subject = "dlq.trigger-events"
            publisher = await server.client(_publisher_of(subject))
            for name in ("good", "poison"):
                await publisher.jetstream().publish(
                    topology.subject(subject), name.encode(), headers={MSG_ID: f"{real.durable}:{name}"}
                )
            await publisher.close()
            handled: list[bytes] = []

            async def handle(
                msg: Msg, seen: list[bytes] = handled, poison: str = f"{real.durable}:poison"
            ) -> None:
                seen.append(msg.data)
                if (msg.headers or {}).get(MSG_ID) == poison:  # not its copies in the DLQ
                    raise PermanentError("poison")

            worker = PullWorker(
                js,
                topology,
                stream=real.stream.removeprefix(f"{PREFIX.upper()}_"),
                durable=real.durable,
                subjects=raw_filters,
                handler=handle,
                fetch_timeout=0.5,
            )
            task = asyncio.create_task(worker.run())
            await wait_until(
                lambda w=worker: w.stats.processed >= 1 and w.stats.dead_lettered >= 1,  # type: ignore[misc]
                10,
                f"{real.durable} to ack one message and dead-letter another",
            )
            await _drained(ops_js, real)
            await worker.stop()
            await task
            info = await ops_js.consumer_info(real.stream, real.durable)
            assert info.num_ack_pending == 0 and info.num_pending == 0, real.durable
            letter = await ops_js.get_last_msg(topology.stream("DLQ"), topology.dlq(real.durable))
            assert letter.data == b"poison"
            assert not refusals.violations(), (real.durable, refusals.violations())
            await nc.close()
        await ops.close()


def _filters(worker: PullWorker) -> list[str]:
    config = worker.consumer_config()
    return list(config.filter_subjects or [config.filter_subject or ""])


async def _drained(js: JetStreamContext, worker: PullWorker, timeout: float = 10.0) -> None:
    """Waits until ``worker``'s consumer has nothing pending (the DLQ consumer also reads the dead
    letter it just wrote)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        info = await js.consumer_info(worker.stream, worker.durable)
        if info.num_pending == 0 and info.num_ack_pending == 0:
            return
        await asyncio.sleep(0.05)


def _publisher_of(raw: str) -> str:
    """The first user allowed to publish ``raw``."""
    topology = Topology()
    return next(
        spec.name
        for spec in permissions.ROLES
        if not spec.admin and _matches_any(permissions.publish_allow(spec, topology), raw)
    )


def _matches_any(patterns: list[str], subject: str) -> bool:
    return any(_matches(p, subject) for p in patterns)


def _matches(pattern: str, subject: str) -> bool:
    """NATS subject matching: ``*`` one token, ``>`` one or more at the end."""
    want, have = pattern.split("."), subject.split(".")
    for index, token in enumerate(want):
        if token == ">":
            return len(have) > index
        if index >= len(have) or (token != "*" and token != have[index]):
            return False
    return len(want) == len(have)
