"""EventServicer: proto requests in, domain calls, proto responses out. Nothing else."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from beez.api.trigger.v1 import trigger_pb2, trigger_pb2_grpc
from beez.kit.db import Database
from beez.kit.grpc.errors import FieldViolation, InvalidArgument, require
from beez.kit.grpc.identity import current_identity
from beez.kit.paging import PageLimits
from beez.trigger import service
from beez.trigger.ingest import Ingested, Ingestor


def _result(outcome: Ingested) -> trigger_pb2.PublishResult:
    return trigger_pb2.PublishResult(event_id=outcome.event_id, accepted=outcome.accepted)


class EventServicer(trigger_pb2_grpc.EventServiceServicer):  # type: ignore[misc]
    """Event ingestion and history; the organization is always the caller's."""

    def __init__(
        self, db: Database, ingestor: Ingestor, *, batch_max: int, page_size: int, page_size_max: int
    ) -> None:
        self._db = db
        self._ingestor = ingestor
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
