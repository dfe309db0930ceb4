"""Every query of the automation service, scoped by organization, on the caller's session.

Nothing here commits: the service's unit of work (``Database.transaction()``) does, so a change,
its new version and its outbox message land together or not at all. Deleted automations are
invisible to every read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from google.protobuf.message import Message
from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from beez.automation.models import Automation, AutomationVersion, outbox
from beez.kit.bus.outbox import enqueue


@dataclass(frozen=True)
class ListFilter:
    """What ListAutomations narrows by; empty/None means no filter."""

    active: bool | None = None
    trigger_type: str = ""
    name: str = ""


class AutomationRepository:
    """Queries over ``automations``, ``automation_versions`` and the outbox."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    @staticmethod
    def _live(org_id: str) -> Select[Automation]:
        return select(Automation).where(Automation.org_id == org_id, Automation.deleted_at.is_(None))

    async def add(self, automation: Automation, version: AutomationVersion) -> None:
        """Inserts a new automation with its first version."""
        self._session.add(automation)
        await self._session.flush()
        await self.add_version(version)

    async def add_version(self, version: AutomationVersion) -> None:
        self._session.add(version)
        await self._session.flush()

    async def get(self, org_id: str, automation_id: str, *, for_update: bool = False) -> Automation | None:
        """The organization's live automation, locked for the transaction when ``for_update``."""
        query = self._live(org_id).where(Automation.id == automation_id)
        if for_update:
            query = query.with_for_update()
        return (await self._session.scalars(query)).one_or_none()

    async def workflow(self, org_id: str, automation_id: str, version: int) -> dict[str, Any] | None:
        """The workflow JSON of one version, or None when there is no such version."""
        query = select(AutomationVersion.workflow).where(
            AutomationVersion.org_id == org_id,
            AutomationVersion.automation_id == automation_id,
            AutomationVersion.version == version,
        )
        return (await self._session.scalars(query)).one_or_none()

    async def list_page(
        self, org_id: str, where: ListFilter, *, before_id: str | None, limit: int
    ) -> list[tuple[Automation, dict[str, Any]]]:
        """Up to ``limit`` live automations with their current workflow, newest first.

        Keyset pagination on ``id`` (UUIDv7, so creation order): a page starts after the last
        id of the previous one, which an update or toggle cannot move, so paging never skips
        or repeats an automation.
        """
        query = (
            _with_current_workflow()
            .where(Automation.org_id == org_id, Automation.deleted_at.is_(None))
            .order_by(Automation.id.desc())
            .limit(limit)
        )
        if where.active is not None:
            query = query.where(Automation.active == where.active)
        if where.trigger_type:
            query = query.where(Automation.trigger_type == where.trigger_type)
        if where.name:
            query = query.where(Automation.name.icontains(where.name, autoescape=True))
        if before_id is not None:
            query = query.where(Automation.id < before_id)
        rows = (await self._session.execute(query)).all()
        return [(row[0], row[1]) for row in rows]

    async def page_after(
        self, org_id: str | None, after_id: str, limit: int, *, deleted: bool
    ) -> list[tuple[Automation, dict[str, Any]]]:
        """Up to ``limit`` automations of ``org_id`` (None: of every organization), deleted ones
        only when ``deleted``, with their current workflow, in id order after ``after_id`` (for
        announcing them again: at start, or a resync)."""
        query = _with_current_workflow().where(Automation.id > after_id)
        if org_id is not None:
            query = query.where(Automation.org_id == org_id)
        if not deleted:
            query = query.where(Automation.deleted_at.is_(None))
        rows = (await self._session.execute(query.order_by(Automation.id).limit(limit))).all()
        return [(row[0], row[1]) for row in rows]

    async def flush(self) -> None:
        """Writes pending changes of loaded rows (e.g. a bumped revision) now."""
        await self._session.flush()

    async def announce(self, subject: str, message: Message, *, msg_id: str, org_id: str) -> None:
        """Adds ``message`` to the outbox, in this transaction."""
        await enqueue(self._session, outbox, subject, message, msg_id=msg_id, org_id=org_id)


def _with_current_workflow() -> Select[tuple[Automation, dict[str, Any]]]:
    """Automations joined with the workflow of their current version."""
    return select(Automation, AutomationVersion.workflow).join(
        AutomationVersion,
        (AutomationVersion.automation_id == Automation.id)
        & (AutomationVersion.version == Automation.version),
    )
