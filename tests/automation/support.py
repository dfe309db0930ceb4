"""Helpers of the automation tests: the onboarding example, an org-scoped client, the bus, the DB."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import grpc
import psycopg
from google.protobuf import json_format
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from nats.aio.msg import Msg
from nats.js import JetStreamContext, api
from nats.js.errors import NotFoundError

from beez.api.automation.v1 import automation_pb2_grpc, catalog_pb2_grpc
from beez.api.messages.v1.events_pb2 import Event
from beez.api.messages.v1.lifecycle_pb2 import AutomationChanged
from beez.api.workflow.v1.workflow_pb2 import Workflow
from beez.kit.bus.topology import Topology
from beez.workflow.model import workflow_from_json
from tests.support.inproc import InProcService
from tests.support.samples import ADA, ONBOARDING
from tests.support.servers import libpq_url

T = TypeVar("T")


# The sample event of workflow-format.md.
SAMPLE_EVENT: dict[str, Any] = {
    "id": "evt_01J",
    "type": "list.joined",
    "occurredAt": "2026-11-26T10:00:00Z",
    "contactId": "c_123",
    "data": {"list": "New Customers"},
    "contact": ADA,
}


def onboarding_json(**changes: Any) -> dict[str, Any]:
    """A fresh copy of the onboarding example, with top-level keys replaced."""
    data = copy.deepcopy(ONBOARDING)
    data.update(changes)
    return data


def onboarding(**changes: Any) -> Workflow:
    """The onboarding example as a proto (through the format's JSON reader)."""
    return workflow_from_json(onboarding_json(**changes))


def sample_event(**changes: Any) -> Event:
    data = copy.deepcopy(SAMPLE_EVENT)
    data.update(changes)
    return json_format.ParseDict(data, Event())


def new_org() -> str:
    return f"org_{uuid.uuid4().hex[:10]}"


@dataclass
class Api:
    """Stubs of the automation service and the metadata of one organization's user."""

    automations: automation_pb2_grpc.AutomationServiceAsyncStub
    catalog: catalog_pb2_grpc.CatalogServiceAsyncStub
    org: str
    user: str = "user_1"

    @classmethod
    def of(cls, svc: InProcService, org: str | None = None) -> Api:
        return cls(
            automation_pb2_grpc.AutomationServiceStub(svc.channel),  # type: ignore[arg-type]
            catalog_pb2_grpc.CatalogServiceStub(svc.channel),  # type: ignore[arg-type]
            org or new_org(),
        )

    @property
    def md(self) -> list[tuple[str, str]]:
        return [("x-org-id", self.org), ("x-user-id", self.user)]


def violations(exc: grpc.aio.AioRpcError) -> list[tuple[str, str]]:
    """The BadRequest field violations of an INVALID_ARGUMENT error, as (field, description)."""
    status = rpc_status.from_call(exc)
    assert status is not None, "no google.rpc.Status in the trailers"
    bad = error_details_pb2.BadRequest()
    assert status.details[0].Unpack(bad)
    return [(v.field, v.description) for v in bad.field_violations]


async def eventually(probe: Callable[[], Awaitable[T | None]], within: float = 10.0, what: str = "it") -> T:
    """Polls ``probe`` until it returns something truthy; fails the test after ``within`` seconds."""
    deadline = time.monotonic() + within
    while True:
        found = await probe()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {within}s")
        await asyncio.sleep(0.05)


async def changes_on_bus(
    js: JetStreamContext, topology: Topology, org: str, count: int, *, quiet: float = 0.3
) -> list[tuple[AutomationChanged, dict[str, str]]]:
    """The first ``count`` AutomationChanged of ``org`` on the AUTOMATIONS stream, with headers.

    Reads with an ephemeral consumer filtered on the organization's subject, then waits ``quiet``
    seconds more and fails if anything else arrived, so the caller sees *exactly* ``count``.
    """
    sub = await js.pull_subscribe(
        topology.automation_changed(org),
        stream=topology.stream("AUTOMATIONS"),
        config=api.ConsumerConfig(deliver_policy=api.DeliverPolicy.ALL, ack_policy=api.AckPolicy.NONE),
    )
    got: list[Msg] = []
    deadline = time.monotonic() + 10
    try:
        while len(got) < count and time.monotonic() < deadline:
            try:
                got += await sub.fetch(count - len(got), timeout=0.5)
            except TimeoutError:
                continue
        try:
            extra = await sub.fetch(1, timeout=quiet)
        except TimeoutError:
            extra = []
    finally:
        await sub.unsubscribe()
    assert len(got) == count, f"expected {count} changes, got {len(got)}"
    assert not extra, f"more changes than expected: {[m.headers for m in extra]}"
    return [(AutomationChanged.FromString(m.data), dict(m.headers or {})) for m in got]


async def delete_streams(js: JetStreamContext, prefix: str) -> None:
    """Deletes the streams a test's services declared under ``prefix``."""
    for info in await js.streams_info():
        name = info.config.name or ""
        if name.startswith(prefix.upper() + "_"):
            with contextlib.suppress(NotFoundError):
                await js.delete_stream(name)


def count_rows(database_url: str, sql: str, *params: Any) -> int:
    """A ``SELECT count(*) ...`` straight on the database, outside the service."""
    with psycopg.connect(libpq_url(database_url)) as conn:
        row = conn.execute(sql, params).fetchone()
    assert row is not None
    return int(row[0])
