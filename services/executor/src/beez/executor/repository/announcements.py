"""The workflow digests announced on ``automations.<org>.changed``, per automation version."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import Integer, Text, bindparam, func, select, tuple_
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncSession

from beez.executor.models import AnnouncedWorkflow

VersionKey = tuple[str, str, int]
"""(organization, automation id, version)."""

_wanted = (
    func.unnest(
        bindparam("orgs", type_=ARRAY(Text)),
        bindparam("automations", type_=ARRAY(Text)),
        bindparam("versions", type_=ARRAY(Integer)),
    )
    .table_valued("org_id", "automation_id", "version")
    .render_derived("wanted")
)
_ANNOUNCED = select(
    AnnouncedWorkflow.org_id,
    AnnouncedWorkflow.automation_id,
    AnnouncedWorkflow.version,
    AnnouncedWorkflow.digest,
).where(
    tuple_(AnnouncedWorkflow.org_id, AnnouncedWorkflow.automation_id, AnnouncedWorkflow.version).in_(
        select(_wanted.c.org_id, _wanted.c.automation_id, _wanted.c.version)
    )
)


async def record_announced(session: AsyncSession, key: VersionKey, digest: str) -> None:
    """Records that ``digest`` was announced for the version ``key``; again changes nothing."""
    org_id, automation_id, version = key
    await session.execute(
        insert(AnnouncedWorkflow)
        .values(org_id=org_id, automation_id=automation_id, version=version, digest=digest)
        .on_conflict_do_nothing()
    )


async def announced_digests(session: AsyncSession, keys: Iterable[VersionKey]) -> dict[VersionKey, set[str]]:
    """The digests announced for each of ``keys`` (in one statement); a key never announced is absent."""
    wanted: Sequence[VersionKey] = sorted(set(keys))
    rows = await session.execute(
        _ANNOUNCED,
        {
            "orgs": [key[0] for key in wanted],
            "automations": [key[1] for key in wanted],
            "versions": [key[2] for key in wanted],
        },
    )
    found: dict[VersionKey, set[str]] = {}
    for org_id, automation_id, version, digest in rows:
        found.setdefault((org_id, automation_id, version), set()).add(digest)
    return found
