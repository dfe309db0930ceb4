"""EventServicer and HookServicer: proto requests in, domain calls, proto responses out. Nothing else."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from beez.api.trigger.v1 import hooks_pb2, hooks_pb2_grpc, trigger_pb2, trigger_pb2_grpc
from beez.kit.db import Database
from beez.kit.grpc.errors import FieldViolation, InvalidArgument, NotFound, require
from beez.kit.grpc.identity import current_identity
from beez.kit.paging import PageLimits
from beez.trigger import service
from beez.trigger.hooks import Delivery, Hooks, HookSpec, Revealed
from beez.trigger.ingest import Ingested, Ingestor
from beez.trigger.repository.hooks import StoredHook
from beez.trigger.scheduler import Scheduler


def _result(outcome: Ingested) -> trigger_pb2.PublishResult:
    return trigger_pb2.PublishResult(event_id=outcome.event_id, accepted=outcome.accepted)


class EventServicer(trigger_pb2_grpc.EventServiceServicer):  # type: ignore[misc]
    """Event ingestion and history; the organization is always the caller's."""

    def __init__(
        self,
        db: Database,
        ingestor: Ingestor,
        scheduler: Scheduler,
        *,
        batch_max: int,
        page_size: int,
        page_size_max: int,
    ) -> None:
        self._db = db
        self._ingestor = ingestor
        self._scheduler = scheduler
        self._batch_max = batch_max
        self._page_limits = PageLimits(page_size, page_size_max)

    async def PublishEvent(
        self, request: trigger_pb2.PublishEventRequest, context: Any
    ) -> trigger_pb2.PublishEventResponse:
        org_id = current_identity().org_id
        require(event=request.HasField("event"))
        events = self._ingestor.prepare(org_id, [request.event], ["event"])
        [outcome] = await self._ingestor.ingest(org_id, events)
        return trigger_pb2.PublishEventResponse(result=_result(outcome))

    async def PublishEvents(
        self, request: trigger_pb2.PublishEventsRequest, context: Any
    ) -> trigger_pb2.PublishEventsResponse:
        org_id = current_identity().org_id
        count = len(request.events)
        if count == 0:
            raise InvalidArgument("no events", [FieldViolation("events", "at least one event is required")])
        if count > self._batch_max:
            raise InvalidArgument(
                f"too many events: {count}",
                [FieldViolation("events", f"at most {self._batch_max} events per call, got {count}")],
            )
        events = self._ingestor.prepare(org_id, list(request.events), [f"events[{i}]" for i in range(count)])
        outcomes = await self._ingestor.ingest(org_id, events)
        return trigger_pb2.PublishEventsResponse(results=[_result(outcome) for outcome in outcomes])

    async def ListEvents(
        self, request: trigger_pb2.ListEventsRequest, context: Any
    ) -> trigger_pb2.ListEventsResponse:
        org_id = current_identity().org_id
        since = request.since.ToDatetime(tzinfo=UTC) if request.HasField("since") else None
        found = await service.list_events(
            self._db,
            org_id,
            type_=request.type,
            contact_id=request.contact_id,
            since=since,
            page_size=request.page_size,
            page_token=request.page_token,
            limits=self._page_limits,
        )
        response = trigger_pb2.ListEventsResponse(next_page_token=found.next_page_token)
        for entry in found.entries:
            record = response.events.add(event=entry.event, execution_ids=list(entry.execution_ids))
            record.received_at.FromDatetime(entry.received_at)
        return response

    async def ListScheduledFires(
        self, request: trigger_pb2.ListScheduledFiresRequest, context: Any
    ) -> trigger_pb2.ListScheduledFiresResponse:
        found = await service.list_fires(
            self._db,
            current_identity().org_id,
            automation_id=request.automation_id,
            page_size=request.page_size,
            page_token=request.page_token,
            limits=self._page_limits,
        )
        response = trigger_pb2.ListScheduledFiresResponse(next_page_token=found.next_page_token)
        for fire in found.fires:
            item = response.fires.add(
                id=fire.id, automation_id=fire.automation_id, contact_id=fire.contact_id or "", kind=fire.kind
            )
            item.due_at.FromDatetime(fire.due_at)
        return response

    async def CancelScheduledFire(
        self, request: trigger_pb2.CancelScheduledFireRequest, context: Any
    ) -> trigger_pb2.CancelScheduledFireResponse:
        require(id=request.id)
        if not await self._scheduler.cancel(current_identity().org_id, request.id):
            raise NotFound(f"scheduled fire {request.id} not found")
        return trigger_pb2.CancelScheduledFireResponse()


def _hook(hook: StoredHook) -> hooks_pb2.Hook:
    message = hooks_pb2.Hook(
        id=hook.id,
        name=hook.name,
        event_type=hook.event_type,
        contact_id_path=hook.contact_id_path,
        require_signature=hook.require_signature,
        token_prefix=hook.token_prefix,
    )
    message.create_time.FromDatetime(hook.created_at)
    if hook.rotated_at is not None:
        message.rotate_time.FromDatetime(hook.rotated_at)
    return message


def _credentials(revealed: Revealed) -> hooks_pb2.HookCredentials:
    return hooks_pb2.HookCredentials(token=revealed.token, url=revealed.url, secret=revealed.secret)


class HookServicer(hooks_pb2_grpc.HookServiceServicer):  # type: ignore[misc]
    """Inbound webhooks of the caller's organization, and their deliveries."""

    def __init__(self, hooks: Hooks) -> None:
        self._hooks = hooks

    async def CreateHook(
        self, request: hooks_pb2.CreateHookRequest, context: Any
    ) -> hooks_pb2.CreateHookResponse:
        spec = HookSpec(request.name, request.event_type, request.contact_id_path, request.require_signature)
        revealed = await self._hooks.create(current_identity().org_id, spec)
        return hooks_pb2.CreateHookResponse(hook=_hook(revealed.hook), credentials=_credentials(revealed))

    async def ListHooks(
        self, request: hooks_pb2.ListHooksRequest, context: Any
    ) -> hooks_pb2.ListHooksResponse:
        page = await self._hooks.list(current_identity().org_id, request.page_size, request.page_token)
        return hooks_pb2.ListHooksResponse(
            hooks=[_hook(hook) for hook in page.hooks], next_page_token=page.next_page_token
        )

    async def GetHook(self, request: hooks_pb2.GetHookRequest, context: Any) -> hooks_pb2.GetHookResponse:
        require(id=request.id)
        return hooks_pb2.GetHookResponse(
            hook=_hook(await self._hooks.get(current_identity().org_id, request.id))
        )

    async def RotateHook(
        self, request: hooks_pb2.RotateHookRequest, context: Any
    ) -> hooks_pb2.RotateHookResponse:
        require(id=request.id)
        revealed = await self._hooks.rotate(current_identity().org_id, request.id)
        return hooks_pb2.RotateHookResponse(hook=_hook(revealed.hook), credentials=_credentials(revealed))

    async def DeleteHook(
        self, request: hooks_pb2.DeleteHookRequest, context: Any
    ) -> hooks_pb2.DeleteHookResponse:
        require(id=request.id)
        await self._hooks.delete(current_identity().org_id, request.id)
        return hooks_pb2.DeleteHookResponse()

    async def DeliverHook(
        self, request: hooks_pb2.DeliverHookRequest, context: Any
    ) -> hooks_pb2.DeliverHookResponse:
        delivery = Delivery(
            request.token, request.body, request.content_type, request.signature, request.idempotency_key
        )
        delivered = await self._hooks.deliver(current_identity().org_id, delivery)
        return hooks_pb2.DeliverHookResponse(
            event_id=delivered.outcome.event_id,
            hook_id=delivered.hook_id,
            accepted=delivered.outcome.accepted,
        )
