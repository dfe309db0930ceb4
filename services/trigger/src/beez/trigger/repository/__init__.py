"""Every query of the trigger service, one module per aggregate.

A :class:`Repository` works inside the caller's transaction (the connection of a session from
``Database.transaction()``) and never commits. It combines the query classes of the aggregates:
the automation index (:mod:`.automations`), the event history (:mod:`.events`), enrollments and
their keys (:mod:`.enrollments`), what lifecycle events change (:mod:`.lifecycle`), the STARTs
the sweeper watches (:mod:`.starts`), the STARTs held for credit (:mod:`.credits`), waits
(:mod:`.waits`), the outbox (:mod:`.outbox`), inbound webhooks (:mod:`.hooks`) and the fires of
time-based triggers (:mod:`.schedules`).
:meth:`Repository.ingest_lookups`, ingestion's one round trip, reads three of them at once.

:func:`transactional` runs a unit of work on a repository with
:func:`beez.kit.transactions.in_transaction`, which retries it when PostgreSQL aborted it for a
deadlock or a serialization failure, which concurrent enrollments on the same keys can cause; a
retried unit starts from scratch.

Queries are Core statements on the tables of :mod:`beez.trigger.models`, run on the session's
connection: the hot path runs a few of them per event and gains nothing from the ORM. The
statements run per enrollment are built once, with bind parameters, which halves their cost.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import datetime
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from beez.api.messages.v1.events_pb2 import Event
from beez.kit.db import Database, Statement, pipelined
from beez.kit.transactions import in_transaction
from beez.trigger.domain.projection import ContactState
from beez.trigger.domain.waits import OpenWait
from beez.trigger.repository.automations import ACTIVE_AUTOMATIONS, AutomationIndexQueries, IndexedAutomation
from beez.trigger.repository.contacts import ContactQueries, lock_statements, state_of
from beez.trigger.repository.credits import CreditQueries
from beez.trigger.repository.enrollments import EnrollmentQueries
from beez.trigger.repository.events import RECORD_EVENTS, EventQueries, record_params
from beez.trigger.repository.hooks import HookQueries
from beez.trigger.repository.lifecycle import LifecycleQueries
from beez.trigger.repository.outbox import OutboxQueries
from beez.trigger.repository.schedules import ScheduleQueries
from beez.trigger.repository.starts import StartQueries
from beez.trigger.repository.sweeps import ConditionSweepQueries
from beez.trigger.repository.waits import OPEN_WAITS, WaitQueries

__all__ = ["Repository", "transactional"]


T = TypeVar("T")


async def transactional(db: Database, work: Callable[[Repository], Awaitable[T]]) -> T:
    """Runs ``work`` on a :class:`Repository` in one transaction, retried after a deadlock."""

    async def on_session(session: AsyncSession) -> T:
        return await work(await Repository.of(session))

    return await in_transaction(db, on_session)


class Repository(
    AutomationIndexQueries,
    EventQueries,
    EnrollmentQueries,
    CreditQueries,
    ConditionSweepQueries,
    LifecycleQueries,
    StartQueries,
    WaitQueries,
    OutboxQueries,
    HookQueries,
    ContactQueries,
    ScheduleQueries,
):
    """The trigger's queries, bound to one transaction's connection."""

    @classmethod
    async def of(cls, session: AsyncSession) -> Repository:
        """The repository of ``session``'s transaction."""
        return cls(await session.connection())

    async def ingest_lookups(
        self, batches: Sequence[tuple[str, Sequence[Event], Iterable[str]]], now: datetime
    ) -> list[tuple[set[str], list[IndexedAutomation], list[OpenWait], list[ContactState]]]:
        """Records each organization's events and reads what matching them needs, in one round trip.

        ``batches``: per organization, its events and the automations they name. Returns, for
        each in order, the ids of the events not seen before (the others are left as they are),
        the active automations of the organization listening to one of its events' types or
        named, and the open, unexpired waits of its events' contacts with their execution's job
        priority. The reads cover every event given; the caller keeps what concerns the new
        ones. It also locks and reads the projected contacts of the events (creating the rows of
        new ones; :func:`~beez.trigger.repository.contacts.lock_statements`). Every
        organization's statements go in the same round trip, so a batch of many organizations'
        events costs one, not one per organization.
        """
        statements: list[Statement] = []
        locks: list[bool] = []
        for org_id, batch, automation_ids in batches:
            types = sorted({event.type for event in batch})
            contacts = sorted({event.contact_id for event in batch if event.contact_id})
            statements += [
                (RECORD_EVENTS, record_params(org_id, batch, now)),
                (
                    ACTIVE_AUTOMATIONS,
                    {"org_id": org_id, "types": types, "automation_ids": sorted(set(automation_ids))},
                ),
                (OPEN_WAITS, {"org_id": org_id, "contacts": contacts, "now": now}),
            ]
            locks.append(bool(contacts))
            if contacts:
                statements += lock_statements(org_id, contacts, now)
        rows = iter(await pipelined(self.conn, statements) if statements else [])
        found: list[tuple[set[str], list[IndexedAutomation], list[OpenWait], list[ContactState]]] = []
        for locked in locks:
            recorded, automations, waiting = next(rows), next(rows), next(rows)
            states: list[ContactState] = []
            if locked:
                next(rows)
                states = [state_of(row) for row in next(rows)]
            found.append(
                (
                    {row[0] for row in recorded},
                    [IndexedAutomation(*row) for row in automations],
                    [OpenWait(*row) for row in waiting],
                    states,
                )
            )
        return found
