"""Who may publish and subscribe to what on NATS: one user per service, rendered from the topology.

The nats-server ``authorization`` block that deploy/nats ships and the one ``beez up`` (and every
stack the tests start) gives its embedded nats-server are both :func:`render` of :data:`ROLES`,
so they cannot drift apart, nor from the subjects and consumers the code uses: a test compares
the checked-in file with the rendering, and another compares each service's durable consumers
with its role.

What each user may publish:

* its own data subjects: only the trigger and the executor publish ``jobs.>`` (the executor its
  own timer, resume and retry pointers, which only it consumes); only automation publishes
  ``automations.>``; only the executor ``executions.>``, ``platform.commands.>``,
  ``platform.requests.>`` (decision 0042: CRM requests answered by the ``platform`` user, which
  subscribes to them and may reply once to each, ``allow_responses``) and ``waits.>``;
  the ``platform`` user (internal platform callers) and the executor (an automation triggering
  another) ``events.>``;
* the JetStream API calls it makes, named down to the stream and durable: declaring the
  engine's streams (every service does at start), creating and pulling from its own durable
  consumers, acknowledging their messages (``$JS.ACK.<stream>.<durable>.>``), and dead-lettering
  them on ``dlq.<durable>``;
* the executor reads every dead letter through its ``executor-dlq`` consumer of ``dlq.>`` and
  re-drives them on their original subjects, all of which it already publishes except
  ``automations.>`` (decision 0029: those are not re-driven);
* nothing else. It may subscribe only to its own reply inboxes, ``_INBOX.<user>.>`` (the client
  creates them there: :func:`~beez.kit.bus.credentials.inbox_prefix`), so no user sees the
  PubAcks or pulled messages of another.

The ``ops`` user is for operators and test observers: the whole JetStream API (stream and
consumer info, the DLQ) and reading any subject, but publishing no data subject. It can read
everything, as the JetStream API would let it anyway: it is an administrator's credential, never
a service's.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from beez.kit.bus.credentials import inbox_prefix
from beez.kit.bus.topology import JOB_PRIORITIES, STREAMS, Topology

JS_API = "$JS.API"


@dataclass(frozen=True)
class Consumer:
    """A durable pull consumer a service runs: unprefixed stream name and durable name."""

    stream: str
    durable: str


@dataclass(frozen=True)
class Role:
    """One NATS user: what it publishes and which durable consumers it runs."""

    name: str
    publishes: tuple[str, ...] = ()
    consumers: tuple[Consumer, ...] = ()
    declares_streams: bool = True
    """Services declare every stream at start (:func:`~beez.kit.bus.topology.ensure_streams`)."""
    admin: bool = False
    """The whole JetStream API, and no data subject (``ops``)."""
    serves: tuple[str, ...] = ()
    """Core NATS request subjects it answers: it subscribes to them and may publish one reply to
    each request's reply inbox (``allow_responses``)."""


ROLES: tuple[Role, ...] = (
    Role("automation", publishes=("automations.>",)),
    Role(
        "trigger",
        publishes=("jobs.>", "overflow.events.>"),
        consumers=(
            Consumer("EVENTS", "trigger-events"),
            Consumer("OVERFLOW", "trigger-overflow"),
            Consumer("AUTOMATIONS", "trigger-automations"),
            Consumer("WAITS", "trigger-waits"),
            Consumer("EXECUTIONS", "trigger-executions"),
            Consumer("COMMANDS", "trigger-commands"),
        ),
    ),
    Role(
        "executor",
        publishes=(
            "executions.>",
            "platform.commands.>",
            "platform.requests.>",
            "waits.>",
            "jobs.>",
            "events.>",
        ),
        consumers=(
            *(Consumer("JOBS", f"executor-jobs-{p}") for p in JOB_PRIORITIES),
            Consumer("AUTOMATIONS", "executor-automations"),
            Consumer("DLQ", "executor-dlq"),
        ),
    ),
    Role("analytics", consumers=(Consumer("EXECUTIONS", "analytics-executions"),)),
    Role("beezora"),
    Role("platform", publishes=("events.>",), declares_streams=False, serves=("platform.requests.>",)),
    Role("ops", declares_streams=False, admin=True),
)
"""Every NATS user. A service's user is named as the service (``ServiceSettings.service_name``)."""

SERVICE_ROLES = ("automation", "trigger", "executor", "analytics", "beezora")
PLATFORM = "platform"
OPS = "ops"


def role(name: str) -> Role:
    """The role called ``name``; KeyError for an unknown one."""
    for candidate in ROLES:
        if candidate.name == name:
            return candidate
    raise KeyError(f"no NATS role {name!r}; known: {[r.name for r in ROLES]}")


def publish_allow(spec: Role, topology: Topology) -> list[str]:
    """The subjects ``spec``'s user may publish to, under ``topology``'s prefix."""
    if spec.admin:
        return [f"{JS_API}.>", "$JS.ACK.>"]
    allow = [topology.subject(s) for s in spec.publishes]
    if spec.declares_streams:
        for stream_spec in STREAMS:
            name = topology.stream(stream_spec.name)
            allow += [f"{JS_API}.STREAM.CREATE.{name}", f"{JS_API}.STREAM.UPDATE.{name}"]
    for consumer in spec.consumers:
        stream, durable = topology.stream(consumer.stream), consumer.durable
        allow += [
            f"{JS_API}.CONSUMER.CREATE.{stream}.{durable}",
            f"{JS_API}.CONSUMER.CREATE.{stream}.{durable}.>",
            f"{JS_API}.CONSUMER.MSG.NEXT.{stream}.{durable}",
            f"$JS.ACK.{stream}.{durable}.>",
            topology.dlq(durable),
        ]
    return allow


def subscribe_allow(spec: Role, topology: Topology | None = None) -> list[str]:
    """The subjects ``spec``'s user may subscribe to: its own reply inboxes and the request
    subjects it serves (``ops``: anything)."""
    if spec.admin:
        return [">"]
    topology = topology or Topology()
    return [f"{inbox_prefix(spec.name)}.>", *(topology.subject(s) for s in spec.serves)]


def password_variable(name: str) -> str:
    """The environment variable the deployed config reads ``name``'s password from."""
    return f"NATS_{name.upper()}_PASSWORD"


def render(prefix: str = "", passwords: Mapping[str, str] | None = None) -> str:
    """The nats-server ``authorization`` block for every role under bus prefix ``prefix``.

    With ``passwords`` (role name to password) the passwords are written in; without, each is a
    reference to an environment variable of the server (:func:`password_variable`), which is how
    the deployed config gets them from a Secret. Anonymous connections are refused.
    """
    topology = Topology(prefix)
    lines = [
        "# Generated by beez.kit.bus.permissions.render: do not edit by hand. Regenerate with",
        "# `.venv/bin/python -m beez.kit.bus.permissions > deploy/nats/permissions.conf`",
        "# (tests/kit/bus/test_bus_permissions.py fails when this file differs from the rendering).",
        "authorization {",
        "  users: [",
    ]
    for spec in ROLES:
        secret = (
            json.dumps(passwords[spec.name]) if passwords is not None else f"${password_variable(spec.name)}"
        )
        lines += [
            "    {",
            f"      user: {json.dumps(spec.name)}",
            f"      password: {secret}",
            "      permissions: {",
            f"        publish: {{ allow: {_list(publish_allow(spec, topology), 10)} }}",
            f"        subscribe: {{ allow: {_list(subscribe_allow(spec, topology), 10)} }}",
            *(["        allow_responses: true"] if spec.serves else []),
            "      }",
            "    }",
        ]
    lines += ["  ]", "}"]
    return "\n".join(lines) + "\n"


def _list(items: list[str], indent: int) -> str:
    if len(items) <= 2:
        return "[" + ", ".join(json.dumps(i) for i in items) + "]"
    pad = " " * (indent + 2)
    return "[\n" + "".join(f"{pad}{json.dumps(i)}\n" for i in items) + " " * indent + "]"


if __name__ == "__main__":
    print(render(), end="")
