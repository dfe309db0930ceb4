"""Which workflows the automation service announced: a START runs only a workflow announced for its version.

A START job carries the workflow it runs, so whoever can publish on ``jobs.>`` could make the
executor run any workflow. The automation service announces every version it stores on
``automations.<org>.changed`` with the version's digest (:mod:`beez.workflow.digest`); the
``executor-automations`` consumer records them in ``executor.announced_workflows`` and
:meth:`AnnouncedWorkflows.verify` checks each START against them before anything runs
(docs/decisions/0018):

* digest announced for (organization, automation, version): the START runs;
* other digests announced for that version: the workflow was changed on the way, and the job
  is refused (:class:`~beez.kit.bus.worker.PermanentError`, dead-lettered with the reason);
* nothing announced for that version yet: :class:`NotAnnounced`, an ordinary failure the job
  consumer retries with its backoff; the announcement normally arrives first, since the
  trigger enrolls only after it consumed it. After ``job_max_deliver`` tries the job is
  dead-lettered with that reason, and can be re-driven once the version is announced.

The hot path stays in memory: a replica keeps the digests it has seen per version (bounded),
and looks up the versions it does not know in one statement per batch of STARTs.
"""

from __future__ import annotations

from collections.abc import Sequence

from beez.api.messages.v1 import jobs_pb2
from beez.api.messages.v1.lifecycle_pb2 import AutomationChanged, ChangeKind
from beez.executor.repository.announcements import VersionKey, announced_digests, record_announced
from beez.kit.batching import Batcher
from beez.kit.bus.worker import PermanentError
from beez.kit.db import Database
from beez.kit.logging import get_logger
from beez.workflow.digest import workflow_digest

log = get_logger(__name__)

VERSIONS_CACHED = 100_000
"""Automation versions whose announced digests a replica keeps in memory (oldest dropped first)."""

LOOKUP_BATCH = 256


class NotAnnounced(Exception):
    """No digest was announced for the START's automation version yet: retried, then dead-lettered."""


class AnnouncedWorkflows:
    """The digests announced per automation version: recorded by the consumer, checked per START."""

    def __init__(self, db: Database, *, cached: int = VERSIONS_CACHED) -> None:
        self._db = db
        self._cached = cached
        self._known: dict[VersionKey, frozenset[str]] = {}
        self._lookups: Batcher[str, VersionKey, frozenset[str]] = Batcher(
            self._lookup, max_batch=LOOKUP_BATCH, name="announced workflows"
        )

    async def verify(self, job: jobs_pb2.Job) -> None:
        """Returns when the START's workflow is one announced for its version; raises otherwise."""
        start = job.start
        key = (job.organization_id, start.automation_id, start.automation_version)
        digest = workflow_digest(start.workflow)
        known = self._known.get(key)
        if known is not None and digest in known:
            return
        known = await self._lookups.submit("", key)  # what other replicas recorded, or a new digest
        if known:
            self._remember(key, known)
        if digest in known:
            return
        what = (
            f"automation {start.automation_id!r} version {start.automation_version} "
            f"of {job.organization_id!r}"
        )
        if known:
            raise PermanentError(
                f"the workflow of START {job.execution_id} (digest {digest}) is not the one announced "
                f"for {what} ({', '.join(sorted(known))})"
            )
        raise NotAnnounced(f"no workflow was announced for {what} (START {job.execution_id})")

    async def record(self, change: AutomationChanged, org_id: str) -> bool:
        """Records the digest ``change`` announces for its version; False for a deletion (nothing to record).

        The digest is computed from the announced workflow; the announcement's own
        ``workflow_digest``, when set, must agree (an announcement from before the field existed
        has none). Recording one again changes nothing.
        """
        if change.kind == ChangeKind.CHANGE_KIND_DELETED:
            return False
        if not change.automation_id or change.version < 1:
            raise PermanentError("an automation change needs automation_id and version")
        if not change.HasField("workflow"):
            raise PermanentError(f"the change of automation {change.automation_id!r} carries no workflow")
        digest = workflow_digest(change.workflow)
        if change.workflow_digest and change.workflow_digest != digest:
            raise PermanentError(
                f"automation {change.automation_id!r} version {change.version} announces digest "
                f"{change.workflow_digest} but its workflow's is {digest}"
            )
        key = (org_id, change.automation_id, change.version)
        async with self._db.transaction() as session:
            await record_announced(session, key, digest)
        known = self._known.get(key)
        if known is not None:
            self._remember(key, known | {digest})
        return True

    def _remember(self, key: VersionKey, digests: frozenset[str]) -> None:
        if key not in self._known and len(self._known) >= self._cached:
            self._known.pop(next(iter(self._known)))
        self._known[key] = digests

    async def _lookup(self, _: str, keys: Sequence[VersionKey]) -> list[frozenset[str]]:
        async with self._db.transaction() as session:
            found = await announced_digests(session, keys)
        return [frozenset(found.get(key, ())) for key in keys]
