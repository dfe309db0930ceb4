"""The condition sweep's reads (:mod:`beez.trigger.conditions`): which condition automations
depend on time, which contacts a date range now takes in or lets go, and the contacts a rolling
window condition holds for, a page at a time."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import text

from beez.trigger.models import automation_index, condition_states, contact_dates
from beez.trigger.repository.base import Queries
from beez.trigger.repository.contacts import ConditionAutomation

_SWEPT = text(
    f"""
    SELECT org_id, automation_id, version, trigger_type, priority, run_once, max_executions, reentry,
           max_concurrent_per_contact, workflow
    FROM {automation_index.fullname}
    WHERE active AND reads IS NOT NULL AND trigger_type = ANY(CAST(:types AS text[]))
    ORDER BY automation_id
    """
)
_ENTERING = text(
    f"""
    SELECT d.contact_id FROM {contact_dates.fullname} d
    WHERE d.org_id = :org_id AND d.field = :field
      AND d.value >= CAST(:low AS date) AND d.value <= CAST(:high AS date)
      AND NOT EXISTS (
        SELECT 1 FROM {condition_states.fullname} s
        WHERE s.automation_id = :automation_id AND s.contact_id = d.contact_id AND s.matched
      )
    ORDER BY d.contact_id
    LIMIT :limit
    """
)
_LEAVING = text(
    f"""
    SELECT s.contact_id FROM {condition_states.fullname} s
    WHERE s.automation_id = :automation_id AND s.matched
      AND NOT EXISTS (
        SELECT 1 FROM {contact_dates.fullname} d
        WHERE d.org_id = s.org_id AND d.contact_id = s.contact_id AND d.field = :field
          AND d.value >= CAST(:low AS date) AND d.value <= CAST(:high AS date)
      )
    ORDER BY s.contact_id
    LIMIT :limit
    """
)
_MATCHED_PAGE = text(
    f"""
    SELECT s.contact_id FROM {condition_states.fullname} s
    WHERE s.automation_id = :automation_id AND s.matched AND s.contact_id > :after
    ORDER BY s.contact_id
    LIMIT :limit
    """
)


class ConditionSweepQueries(Queries):
    """Set-based reads of the condition sweep, each bounded by ``limit``."""

    async def swept_condition_automations(
        self, types: Sequence[str]
    ) -> list[tuple[str, ConditionAutomation]]:
        """Every active condition automation of ``types``, with its organization."""
        rows = await self.conn.execute(_SWEPT, {"types": list(types)})
        return [(row[0], ConditionAutomation(*row[1:])) for row in rows]

    async def matched_contacts(self, automation_id: str, after: str, limit: int) -> list[str]:
        """Up to ``limit`` contacts the automation's condition held for, in id order after ``after``."""
        params = {"automation_id": automation_id, "after": after, "limit": limit}
        return [row[0] for row in await self.conn.execute(_MATCHED_PAGE, params)]

    async def date_range_changes(
        self, org_id: str, automation_id: str, field: str, low: date, high: date, limit: int
    ) -> tuple[list[str], list[str]]:
        """The contacts whose ``field`` now lies in ``[low, high]`` and whose state says not, and
        those whose state says so while it no longer does; up to ``limit`` of each."""
        params = {
            "org_id": org_id,
            "automation_id": automation_id,
            "field": field,
            "low": low,
            "high": high,
            "limit": limit,
        }
        entering = [row[0] for row in await self.conn.execute(_ENTERING, params)]
        leaving = [row[0] for row in await self.conn.execute(_LEAVING, params)]
        return entering, leaving
