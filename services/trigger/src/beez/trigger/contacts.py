"""The contact projection's use cases outside ingestion: the bulk import, reading a projected
contact, and the fields conditions can name (ImportContacts, GetContact, ListFields)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from beez.api.messages.v1.events_pb2 import Contact
from beez.kit.clock import Clock
from beez.kit.db import Database
from beez.kit.grpc.errors import FieldViolation, InvalidArgument, NotFound
from beez.trigger.domain.projection import STANDARD_FIELDS, SYSTEM_FIELDS, ContactState
from beez.trigger.projection import Projector
from beez.trigger.repository import Repository, transactional

MAX_CONTACT_ID = 200
"""The longest contact id the projection takes."""


def check_import(contacts: Sequence[Contact], batch_max: int) -> None:
    """Raises InvalidArgument naming every bad contact of an import batch."""
    violations: list[FieldViolation] = []
    if not contacts:
        violations.append(FieldViolation("contacts", "at least one contact is required"))
    elif len(contacts) > batch_max:
        violations.append(
            FieldViolation("contacts", f"at most {batch_max} contacts per call, got {len(contacts)}")
        )
    seen: set[str] = set()
    for index, contact in enumerate(contacts):
        path = f"contacts[{index}].id"
        if not contact.id:
            violations.append(FieldViolation(path, "is required"))
        elif len(contact.id) > MAX_CONTACT_ID:
            violations.append(FieldViolation(path, f"must be at most {MAX_CONTACT_ID} characters"))
        elif contact.id in seen:
            violations.append(FieldViolation(path, f"repeats contact {contact.id!r} of this batch"))
        seen.add(contact.id)
    if violations:
        raise InvalidArgument(f"{len(violations)} invalid field(s) in the import", violations)


async def import_contacts(
    db: Database,
    clock: Clock,
    projector: Projector,
    org_id: str,
    contacts: Sequence[Contact],
    observed_at: datetime | None,
    batch_max: int,
) -> tuple[int, int]:
    """Imports one batch of complete snapshots in one transaction; (imported, unchanged)."""
    check_import(contacts, batch_max)
    now = clock.now()
    moment = observed_at or now

    async def work(repo: Repository) -> tuple[int, int]:
        return await projector.import_snapshots(repo, org_id, contacts, moment, now)

    return await transactional(db, work)


@dataclass(frozen=True, slots=True)
class FoundContact:
    """A projected contact with its date rows and when it was last written."""

    state: ContactState
    dates: dict[str, date]
    updated_at: datetime


async def get_contact(db: Database, org_id: str, contact_id: str) -> FoundContact:
    """The organization's projected contact; NOT_FOUND when it has none by that id."""
    if not contact_id:
        raise InvalidArgument("no contact id", [FieldViolation("contact_id", "is required")])
    async with db.transaction() as session:
        repo = await Repository.of(session)
        found = await repo.get_contact(org_id, contact_id)
        if found is None:
            raise NotFound(f"contact {contact_id!r} not found")
        dates = await repo.contact_dates_of(org_id, contact_id)
    state, updated_at = found
    return FoundContact(state, dates, updated_at)


@dataclass(frozen=True, slots=True)
class FieldEntry:
    name: str
    type: str
    kind: str
    """contact, system or custom"""


async def list_fields(db: Database, org_id: str) -> list[FieldEntry]:
    """The standard contact fields, the system fields, then the organization's custom fields."""
    async with db.transaction() as session:
        custom = await (await Repository.of(session)).custom_fields(org_id)
    return [
        *(FieldEntry(name, kind, "contact") for name, kind in STANDARD_FIELDS.items()),
        *(FieldEntry(name, kind, "system") for name, kind in SYSTEM_FIELDS.items()),
        *(FieldEntry(name, kind, "custom") for name, kind in custom if name not in STANDARD_FIELDS),
    ]
