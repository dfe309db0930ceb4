"""The automation index: the projection of ``AutomationChanged`` announcements that matching reads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Text, and_, any_, bindparam, or_, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert

from beez.trigger.domain.index import IndexEntry
from beez.trigger.models import automation_index
from beez.trigger.repository.base import Queries, param


@dataclass(frozen=True, slots=True)
class IndexedAutomation:
    """An active automation as matching needs it."""

    automation_id: str
    version: int
    event_type: str | None
    priority: str
    run_once: bool
    max_executions: int
    reentry: str
    max_concurrent_per_contact: int
    workflow: bytes


ACTIVE_AUTOMATIONS = (
    select(
        automation_index.c.automation_id,
        automation_index.c.version,
        automation_index.c.event_type,
        automation_index.c.priority,
        automation_index.c.run_once,
        automation_index.c.max_executions,
        automation_index.c.reentry,
        automation_index.c.max_concurrent_per_contact,
        automation_index.c.workflow,
    )
    .where(
        automation_index.c.org_id == param("org_id"),
        automation_index.c.active,
        or_(
            automation_index.c.event_type == any_(bindparam("types", type_=ARRAY(Text))),
            automation_index.c.automation_id == any_(bindparam("automation_ids", type_=ARRAY(Text))),
        ),
    )
    .order_by(automation_index.c.automation_id)
)
"""The active automations of an organization listening to one of ``types`` or named in
``automation_ids``; run by :meth:`~beez.trigger.repository.Repository.ingest_lookups`."""


class AutomationIndexQueries(Queries):
    """Writes of the automation index (its reads go with ingestion's, in one round trip)."""

    async def index_is_empty(self) -> bool:
        """True when the index has no row at all, not even a deleted automation's tombstone."""
        return (await self.conn.execute(select(automation_index.c.automation_id).limit(1))).first() is None

    async def orgs_listening(self, orgs: set[str], event_type: str) -> set[str]:
        """Those of ``orgs`` with an active automation listening to ``event_type``."""
        rows = await self.conn.execute(
            select(automation_index.c.org_id)
            .where(
                automation_index.c.org_id == any_(bindparam("orgs", type_=ARRAY(Text))),
                automation_index.c.event_type == event_type,
                automation_index.c.active,
            )
            .distinct(),
            {"orgs": sorted(orgs)},
        )
        return {row[0] for row in rows}

    async def upsert_automation(self, entry: IndexEntry, now: datetime) -> bool:
        """Stores ``entry`` unless the row already has this revision or a newer one."""
        values = {
            "automation_id": entry.automation_id,
            "org_id": entry.org_id,
            "revision": entry.revision,
            "version": entry.version,
            "active": entry.active,
            "deleted": entry.deleted,
            "trigger_type": entry.trigger_type,
            "event_type": entry.event_type,
            "priority": entry.priority,
            "run_once": entry.run_once,
            "max_executions": entry.max_executions,
            "reentry": entry.reentry,
            "max_concurrent_per_contact": entry.max_concurrent_per_contact,
            "workflow": entry.workflow,
            "updated_at": now,
            "reads": entry.reads,
        }
        stmt = pg_insert(automation_index).values(values)
        update_values = {key: stmt.excluded[key] for key in values if key != "automation_id"}
        upsert = stmt.on_conflict_do_update(
            index_elements=[automation_index.c.automation_id],
            set_=update_values,
            where=and_(
                automation_index.c.revision < stmt.excluded.revision,
                automation_index.c.org_id == stmt.excluded.org_id,
            ),
        ).returning(automation_index.c.automation_id)
        return (await self.conn.execute(upsert)).first() is not None
