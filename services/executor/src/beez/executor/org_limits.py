"""Reading and setting an organization's caps on one execution (decision 0023), for the RPCs.

Every call is scoped to the caller's organization: there is no way to name another one, so an
organization can neither see nor change another's caps. Setting them clears this process's
cached copy at once; other replicas apply them within ``org_limits_cache_s``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from beez.executor import repository
from beez.executor.engine.limits import LimitOverride, OrganizationLimits
from beez.kit.db import Database
from beez.kit.execution_limits import MAX_MESSAGES_CEILING, MAX_STEPS_CEILING
from beez.kit.grpc.errors import FieldViolation, InvalidArgument
from beez.workflow.amplification import ExecutionLimits

__all__ = ["LimitsView", "OrganizationLimitsService"]


@dataclass(frozen=True)
class LimitsView:
    """The caps in force for an organization, and those that apply when it sets none."""

    effective: ExecutionLimits
    defaults: ExecutionLimits


def _checked(max_steps: int, max_messages: int) -> LimitOverride:
    """The override a request asks for (0: the default), or INVALID_ARGUMENT naming each bad field."""
    violations = [
        FieldViolation(name, f"must be 0 (the default) or between 1 and {ceiling:,}")
        for name, value, ceiling in (
            ("max_steps_per_execution", max_steps, MAX_STEPS_CEILING),
            ("max_messages_per_execution", max_messages, MAX_MESSAGES_CEILING),
        )
        if not 0 <= value <= ceiling
    ]
    if violations:
        raise InvalidArgument("invalid limits", violations)
    return LimitOverride(max_steps or None, max_messages or None)


class OrganizationLimitsService:
    """The caps of the caller's organization, in the executor's database."""

    def __init__(self, db: Database, limits: OrganizationLimits) -> None:
        self._db = db
        self._limits = limits

    async def get(self, org_id: str) -> LimitsView:
        """The caps in force for ``org_id`` (its own row read afresh, not the engine's cache)."""
        async with self._db.sessions() as session:
            own = await repository.org_limits(session, org_id)
        return LimitsView(self._limits.resolve(org_id, own), self._limits.base(org_id))

    async def set(
        self, org_id: str, user_id: str, max_steps: int, max_messages: int, now: datetime
    ) -> LimitsView:
        """Sets ``org_id``'s own caps (0: the default) and returns those now in force."""
        own = _checked(max_steps, max_messages)
        async with self._db.transaction() as session:
            await repository.set_org_limits(session, org_id, own, now, user_id)
        self._limits.forget(org_id)
        return LimitsView(self._limits.resolve(org_id, own), self._limits.base(org_id))
