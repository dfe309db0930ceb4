"""A trigger service running in-process, driven the way its neighbours drive it.

The automation service's announcements, the executor's wait registrations and lifecycle events
are published onto their streams here; jobs are read back from the outbox (exact, the moment an
RPC returns) or from the JOBS stream through a consumer (what the executor would see).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import Message
from nats.js import JetStreamContext, api
from sqlalchemy import text

from beez.api.messages.v1.events_pb2 import Event
from beez.api.messages.v1.jobs_pb2 import Job
from beez.api.messages.v1.lifecycle_pb2 import (
    AutomationChanged,
    ChangeKind,
    ExecutionEvent,
    ExecutionEventKind,
    WaitKind,
    WaitRegistration,
)
from beez.api.trigger.v1 import trigger_pb2, trigger_pb2_grpc
from beez.api.workflow.v1.workflow_pb2 import Condition, Workflow
from beez.kit.bus.publisher import Publisher
from beez.kit.bus.topology import EXECUTION_OUTCOME_SUBJECTS, Topology
from beez.kit.clock import ManualClock
from beez.workflow.context import event_from_json
from beez.workflow.model import workflow_from_json
from tests.support.inproc import InProcService


def workflow(
    trigger: Mapping[str, Any] | None = None,
    *,
    conditions: Sequence[Mapping[str, Any]] = (),
    settings: Mapping[str, Any] | None = None,
    name: str = "Onboarding",
) -> Workflow:
    """A small valid workflow; the trigger defaults to list_joined."""
    data: dict[str, Any] = {
        "name": name,
        "trigger": dict(trigger or {"type": "list_joined"}),
        "conditions": list(conditions),
        "actions": [{"id": "tag", "type": "add_tag", "config": {"tag": "Onboarded"}}],
    }
    if settings is not None:
        data["settings"] = dict(settings)
    return workflow_from_json(data)


def event(
    type_: str = "list.joined",
    *,
    id: str = "",
    contact: str = "c_1",
    data: Mapping[str, Any] | None = None,
    snapshot: Mapping[str, Any] | None = None,
) -> Event:
    """An event in the published JSON shape; ``snapshot`` adds a contact snapshot."""
    body: dict[str, Any] = {"type": type_, "data": dict(data or {})}
    if id:
        body["id"] = id
    if contact:
        body["contactId"] = contact
    if snapshot is not None:
        body["contact"] = {"id": contact, **snapshot}
    return event_from_json(body)


@dataclass(frozen=True)
class SentJob:
    subject: str
    msg_id: str
    job: Job


@dataclass
class Harness:
    """The service under test and the means to talk to it like its neighbours do.

    One service runs for the whole trigger suite; each test gets a harness with organizations
    and automation ids of its own, so tests never see each other's data.
    """

    svc: InProcService
    js: JetStreamContext
    clock: ManualClock
    org: str
    other_org: str
    _revisions: dict[str, int] = field(default_factory=dict)
    _jobs_sub: Any = None

    def id(self, name: str) -> str:
        """The automation or wait id this test uses for ``name``."""
        return f"{self.org}-{name}"

    async def close(self) -> None:
        if self._jobs_sub is not None:
            await self._jobs_sub.unsubscribe()

    @property
    def topology(self) -> Topology:
        return self.svc.runtime.topology

    @property
    def stub(self) -> trigger_pb2_grpc.EventServiceAsyncStub:
        return trigger_pb2_grpc.EventServiceStub(self.svc.channel)  # type: ignore[return-value]

    @property
    def publisher(self) -> Publisher:
        return Publisher(self.js)

    # --- the automation service ----------------------------------------------------------

    async def automation(
        self,
        name: str,
        wf: Workflow,
        *,
        org: str | None = None,
        version: int = 1,
        active: bool = True,
        deleted: bool = False,
        revision: int | None = None,
        wait: bool = True,
    ) -> int:
        """Announces automation ``id(name)`` as the automation service does; waits until indexed."""
        org = org or self.org
        automation_id = self.id(name)
        if revision is None:
            revision = self._revisions.get(automation_id, 0) + 1
        self._revisions[automation_id] = max(revision, self._revisions.get(automation_id, 0))
        change = AutomationChanged(
            kind=ChangeKind.CHANGE_KIND_DELETED if deleted else ChangeKind.CHANGE_KIND_UPSERTED,
            organization_id=org,
            automation_id=automation_id,
            version=version,
            active=active,
            workflow=wf,
            revision=revision,
        )
        ack = await self.publisher.publish(
            self.topology.automation_changed(org),
            change,
            msg_id=f"automation:{automation_id}:{revision}",
            org_id=org,
        )
        if wait:
            await self.consumed("AUTOMATIONS", "trigger-automations", ack.seq)
        return revision

    # --- producers of events -------------------------------------------------------------

    def metadata(self, org: str | None = None) -> list[tuple[str, str]]:
        return self.svc.metadata(org or self.org)

    async def publish(self, evt: Event, org: str | None = None) -> trigger_pb2.PublishResult:
        response: trigger_pb2.PublishEventResponse = await self.stub.PublishEvent(
            trigger_pb2.PublishEventRequest(event=evt), metadata=self.metadata(org)
        )
        return response.result

    async def publish_many(
        self, events: Sequence[Event], org: str | None = None
    ) -> list[trigger_pb2.PublishResult]:
        response = await self.stub.PublishEvents(
            trigger_pb2.PublishEventsRequest(events=list(events)), metadata=self.metadata(org)
        )
        return list(response.results)

    async def publish_nats(
        self,
        payload: Message | bytes,
        *,
        org: str | None = None,
        type_: str = "list.joined",
        msg_id: str,
        headers: Mapping[str, str] | None = None,
        wait: bool = True,
    ) -> int:
        """Publishes straight onto events.<org>.<type>; waits until the trigger acked it."""
        ack = await self.publisher.publish(
            self.topology.events(org or self.org, type_), payload, msg_id=msg_id, headers=headers
        )
        if wait:
            await self.consumed("EVENTS", "trigger-events", ack.seq)
        return int(ack.seq)

    # --- the executor ------------------------------------------------------------------------

    async def register_wait(
        self,
        name: str,
        kind: WaitKind,
        *,
        execution_id: str = "exec-1",
        contact: str = "c_1",
        event_type: str = "",
        filters: Mapping[str, Any] | None = None,
        conditions: Sequence[Mapping[str, Any]] = (),
        expires_at: datetime | None = None,
        cancel: bool = False,
        org: str | None = None,
    ) -> None:
        """Registers (or cancels) wait ``id(name)`` as the executor does; waits until consumed."""
        org = org or self.org
        wait_id = self.id(name)
        registration = WaitRegistration(
            id=wait_id,
            kind=kind,
            organization_id=org,
            execution_id=execution_id,
            contact_id=contact,
            event_type=event_type,
            cancel=cancel,
        )
        registration.filters.update(dict(filters or {}))
        for item in conditions:
            condition = registration.conditions.add()
            condition.CopyFrom(_condition(item))
        if expires_at is not None:
            registration.expires_at.FromDatetime(expires_at)
        ack = await self.publisher.publish(
            self.topology.waits(org, "cancel" if cancel else "register"),
            registration,
            msg_id=f"wait:{wait_id}:{'cancel' if cancel else 'register'}",
            org_id=org,
        )
        await self.consumed("WAITS", "trigger-waits", ack.seq)

    async def execution_event(
        self,
        execution_id: str,
        kind: ExecutionEventKind = ExecutionEventKind.EXECUTION_EVENT_KIND_COMPLETED,
        org: str | None = None,
    ) -> None:
        org = org or self.org
        message = ExecutionEvent(
            id=f"{execution_id}:{kind}", kind=kind, organization_id=org, execution_id=execution_id
        )
        name = ExecutionEventKind.Name(kind).removeprefix("EXECUTION_EVENT_KIND_").lower()
        ack = await self.publisher.publish(
            self.topology.executions(org, name), message, msg_id=message.id, org_id=org
        )
        if f"executions.*.{name}" in EXECUTION_OUTCOME_SUBJECTS:  # the consumer never sees step events
            await self.consumed("EXECUTIONS", "trigger-executions", ack.seq)

    async def consumed(self, stream: str, durable: str, seq: int, within: float = 10.0) -> None:
        """Waits until the durable consumer has acknowledged everything up to ``seq``."""
        deadline = time.monotonic() + within
        while True:
            try:
                info = await self.js.consumer_info(self.topology.stream(stream), durable)
                if info.ack_floor.stream_seq >= seq and not info.num_ack_pending:
                    return
            except Exception:  # the consumer is not declared yet
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"{durable} did not consume up to {seq} within {within}s")
            await asyncio.sleep(0.02)

    # --- what the trigger wrote ------------------------------------------------------------

    async def sql(self, query: str, **params: Any) -> list[Any]:
        async with self.svc.runtime.db.transaction() as session:
            return list((await session.execute(text(query), params)).all())

    async def outbox_jobs(self, org: str | None = None) -> list[SentJob]:
        """Every job the trigger has committed to its outbox for the organization, in order (not the
        automation.completed events it publishes there too)."""
        rows = await self.sql(
            "SELECT subject, msg_id, payload FROM trigger.outbox"
            " WHERE org_id = :org AND msg_id NOT LIKE 'automation.completed:%' ORDER BY id",
            org=org or self.org,
        )
        return [SentJob(row.subject, row.msg_id, Job.FromString(bytes(row.payload))) for row in rows]

    async def starts(self, org: str | None = None) -> list[Job]:
        return [sent.job for sent in await self.outbox_jobs(org) if sent.job.HasField("start")]

    async def signals(self, org: str | None = None) -> list[Job]:
        return [sent.job for sent in await self.outbox_jobs(org) if sent.job.signal_kind]

    async def stream_jobs(self, count: int, within: float = 5.0, *, term: bool = False) -> list[SentJob]:
        """Reads ``count`` jobs off the JOBS stream, as an executor would, and acks them.

        ``term``: terminates them instead, as an executor does with a job it dead-letters: the
        work-queue stream drops them without anything having been done.
        """
        if self._jobs_sub is None:
            self._jobs_sub = await self.js.pull_subscribe(
                self.topology.subject(f"jobs.*.{self.org}"),
                stream=self.topology.stream("JOBS"),
                config=api.ConsumerConfig(ack_policy=api.AckPolicy.EXPLICIT),
            )
        found: list[SentJob] = []
        deadline = time.monotonic() + within
        while len(found) < count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                messages = await self._jobs_sub.fetch(count - len(found), timeout=min(remaining, 1.0))
            except TimeoutError:
                continue
            for msg in messages:
                msg_id = (msg.headers or {}).get("Nats-Msg-Id", "")
                found.append(SentJob(msg.subject, msg_id, Job.FromString(msg.data)))
                await (msg.term() if term else msg.ack())
        return found

    async def open_wait_ids(self) -> set[str]:
        rows = await self.sql(
            "SELECT id FROM trigger.waits WHERE closed_at IS NULL AND org_id = :org", org=self.org
        )
        return {row.id for row in rows}


def _condition(item: Mapping[str, Any]) -> Condition:
    return json_format.ParseDict(dict(item), Condition())
