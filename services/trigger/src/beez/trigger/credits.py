"""Start credits: one organization's backlog never stands in front of another's executions.

The executor takes START jobs from a FIFO stream. Without a bound, an organization that enrols
faster than the executors start (a flood, a schedule fanning out to a large audience) fills the
stream, and every other organization's START waits behind the whole backlog. With credits an
organization has at most ``credit`` STARTs in flight (sent, not yet reported started by the
executor); the rest stay in PostgreSQL, in their enrollment rows, and go out oldest first as
the executor reports earlier ones started. Another organization's START then waits behind at
most ``credit`` of the flooding one's, whatever the size of its backlog. Nothing is dropped and
nothing is reordered within an organization. See docs/decisions/0039-start-credits.md.

Credit comes back in three places, all idempotent (a release dispatches rows it flips from held
to dispatched, under ``SKIP LOCKED``): the ingestion that holds (what fits goes at once, oldest
first), the lifecycle batch that learns of starts and ends, and the start sweeper (so a lost
lifecycle event or a raised credit never leaves held STARTs behind).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from beez.kit.bus.outbox import OutboxMessage
from beez.kit.bus.topology import Topology
from beez.kit.logging import get_logger
from beez.trigger.domain.jobs import stored_start_job
from beez.trigger.repository import Repository

log = get_logger(__name__)


class StartCredits:
    """Holds an organization's STARTs over its credit and dispatches them as credit comes back."""

    def __init__(self, topology: Topology, credit: int) -> None:
        """``credit`` 0 turns credits off: every START goes out at once."""
        if credit < 0:
            raise ValueError("credit must not be negative")
        self._topology = topology
        self.credit = credit

    @property
    def enabled(self) -> bool:
        return self.credit > 0

    async def admit(
        self, repo: Repository, enrolled: Sequence[tuple[str, str]], now: datetime
    ) -> tuple[set[str], list[OutboxMessage]]:
        """Decides which of the batch's new enrollments (``(org, execution id)``, in order) go out.

        Returns the ids the caller must not send itself, and the START jobs to send instead:
        those of the organizations over their credit (or already holding some back, so an
        organization's STARTs stay in order) are held, then each such organization's oldest held
        STARTs are dispatched up to its free credit.
        """
        if not self.enabled or not enrolled:
            return set(), []
        by_org: dict[str, list[str]] = defaultdict(list)
        for org_id, execution_id in enrolled:
            by_org[org_id].append(execution_id)
        standing = await repo.credit_standing(list(by_org))
        over = sorted(
            org for org, (in_flight, holding) in standing.items() if holding or in_flight > self.credit
        )
        if not over:
            return set(), []
        held = [execution_id for org in over for execution_id in by_org[org]]
        await repo.hold_starts(held, now)
        jobs = await self.release(repo, over, now)
        log.info("STARTs held for their organization's credit", orgs=over, held=len(held), sent=len(jobs))
        return set(held), jobs

    async def release(self, repo: Repository, orgs: Sequence[str], now: datetime) -> list[OutboxMessage]:
        """The START jobs of ``orgs``' oldest held enrollments that their free credit allows."""
        if not self.enabled or not orgs:
            return []
        pending = await repo.release_held(sorted(set(orgs)), self.credit, now)
        jobs = (
            stored_start_job(self._topology, p.org_id, p.execution_id, p.start, p.priority, now)
            for p in pending
        )
        return [job for job in jobs if job is not None]

    async def sweep(self, repo: Repository, now: datetime, limit: int) -> list[OutboxMessage]:
        """Releases what credit allows for up to ``limit`` organizations holding STARTs back."""
        if not self.enabled:
            return []
        return await self.release(repo, await repo.orgs_holding(limit), now)
