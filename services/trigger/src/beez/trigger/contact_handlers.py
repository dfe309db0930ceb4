"""ContactServicer: proto requests in, calls into :mod:`beez.trigger.contacts`, proto responses out.

Kept beside :mod:`beez.trigger.handlers` (the EventServicer) so each servicer file stays one
service's mapping and nothing else.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from beez.api.trigger.v1 import contacts_pb2, contacts_pb2_grpc
from beez.kit.clock import Clock
from beez.kit.db import Database
from beez.kit.grpc.identity import current_identity
from beez.trigger import contacts
from beez.trigger.projection import Projector, contact_proto

_KINDS = {
    "contact": contacts_pb2.FIELD_KIND_CONTACT,
    "system": contacts_pb2.FIELD_KIND_SYSTEM,
    "custom": contacts_pb2.FIELD_KIND_CUSTOM,
}


class ContactServicer(contacts_pb2_grpc.ContactServiceServicer):  # type: ignore[misc]
    """The contact projection's RPCs; the organization is always the caller's."""

    def __init__(self, db: Database, clock: Clock, projector: Projector, *, import_batch_max: int) -> None:
        self._db = db
        self._clock = clock
        self._projector = projector
        self._batch_max = import_batch_max

    async def ImportContacts(
        self, request: contacts_pb2.ImportContactsRequest, context: Any
    ) -> contacts_pb2.ImportContactsResponse:
        org_id = current_identity().org_id
        observed = request.observed_at.ToDatetime(tzinfo=UTC) if request.HasField("observed_at") else None
        imported, unchanged = await contacts.import_contacts(
            self._db, self._clock, self._projector, org_id, list(request.contacts), observed, self._batch_max
        )
        return contacts_pb2.ImportContactsResponse(imported=imported, unchanged=unchanged)

    async def GetContact(
        self, request: contacts_pb2.GetContactRequest, context: Any
    ) -> contacts_pb2.GetContactResponse:
        org_id = current_identity().org_id
        found = await contacts.get_contact(self._db, org_id, request.contact_id)
        state = found.state
        projected = contacts_pb2.ProjectedContact(
            contact=contact_proto(state),
            country=state.country or "",
            lifecycle_stage=state.lifecycle_stage or "",
            purchase_count=state.purchase_count,
            monetary=state.monetary,
            device=str(state.signals.get("device") or ""),
            dates={name: day.isoformat() for name, day in found.dates.items()},
            deleted=state.deleted,
        )
        projected.counters.update(state.counters)
        sentiment = state.signals.get("sentiment")
        if isinstance(sentiment, int | float):
            projected.sentiment = float(sentiment)
        for name, moment in (
            ("created_at", state.created_at),
            ("last_activity_at", state.last_activity_at),
            ("last_purchase_at", state.last_purchase_at),
            ("observed_at", state.observed_at),
            ("updated_at", found.updated_at),
        ):
            if moment is not None:
                getattr(projected, name).FromDatetime(moment)
        return contacts_pb2.GetContactResponse(contact=projected)

    async def ListFields(
        self, request: contacts_pb2.ListFieldsRequest, context: Any
    ) -> contacts_pb2.ListFieldsResponse:
        org_id = current_identity().org_id
        fields = await contacts.list_fields(self._db, org_id)
        return contacts_pb2.ListFieldsResponse(
            fields=[contacts_pb2.FieldInfo(name=f.name, type=f.type, kind=_KINDS[f.kind]) for f in fields]
        )
