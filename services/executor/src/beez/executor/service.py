"""What the execution RPCs do: queries, cancel, retry and scheduled work. No gRPC, no SQL.

Every operation is scoped by the caller's organization: another organization's execution or
timer is reported as not found. Lists are newest first (scheduled work: soonest first) and
paginated with opaque cursors.

``CancelScheduled`` deletes the timer and cancels the execution it belongs to: without its
timer the execution would wait forever, and a half-run execution resumed early is rarely what
the person cancelling wants.
"""

from __future__ import annotations

from dataclasses import dataclass

from beez.executor import repository
from beez.executor.engine import CANCELLABLE, Engine
from beez.executor.models import Execution, ExecutionStep
from beez.kit.db import Database
from beez.kit.grpc.errors import FailedPrecondition, FieldViolation, InvalidArgument, NotFound
from beez.kit.paging import MomentKey, PageRequest, cut_page, decode_moment_key, read_page

Page = PageRequest[MomentKey]
"""A page request of an execution list: its size, and the (time, id) cursor after which it starts."""

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


@dataclass(frozen=True)
class ExecutionPage:
    executions: list[Execution]
    next_token: str


@dataclass(frozen=True)
class ScheduledPage:
    scheduled: list[repository.ScheduledRow]
    next_token: str


@dataclass(frozen=True)
class ExecutionDetail:
    execution: Execution
    steps: list[ExecutionStep]


def page_of(page_size: int, page_token: str) -> Page:
    """The page a list request asks for: 0 means the default size, sizes are capped."""
    return read_page(
        page_size, page_token, default=DEFAULT_PAGE_SIZE, maximum=MAX_PAGE_SIZE, decode=decode_moment_key
    )


def require(**fields: str) -> None:
    """Raises INVALID_ARGUMENT naming every empty field among ``fields``."""
    missing = [FieldViolation(name, "is required") for name, value in fields.items() if not value]
    if missing:
        raise InvalidArgument("missing required fields", missing)


class ExecutionService:
    """The logic behind ExecutionService's RPCs."""

    def __init__(self, db: Database, engine: Engine) -> None:
        self._db = db
        self._engine = engine

    async def find(self, where: repository.ExecutionFilter, page: Page) -> ExecutionPage:
        async with self._db.transaction() as session:
            rows = await repository.find_executions(session, where, page.after, page.size + 1)
        served, token = cut_page(rows, page.size, lambda ex: (ex.created_at, ex.id))
        return ExecutionPage(served, token)

    async def get(self, org_id: str, execution_id: str, automation_id: str = "") -> ExecutionDetail:
        async with self._db.snapshot() as session:  # the row and its steps as of one moment
            ex = await repository.get_execution(session, org_id, execution_id)
            if ex is None or (automation_id and ex.automation_id != automation_id):
                raise NotFound(f"execution {execution_id} not found")
            steps = await repository.steps_of(session, ex.id)
        return ExecutionDetail(ex, steps)

    async def cancel(self, org_id: str, execution_id: str, reason: str) -> Execution:
        async with self._db.transaction() as session:
            ex = await repository.lock_org_execution(session, org_id, execution_id)
            if ex is None:
                raise NotFound(f"execution {execution_id} not found")
            if ex.status not in CANCELLABLE:
                raise FailedPrecondition(f"execution {execution_id} is {ex.status}; it cannot be cancelled")
            await self._engine.cancel(session, ex, reason)
        return ex

    async def retry(self, org_id: str, execution_id: str) -> Execution:
        async with self._db.transaction() as session:
            ex = await repository.lock_org_execution(session, org_id, execution_id)
            if ex is None:
                raise NotFound(f"execution {execution_id} not found")
            if ex.status != "failed" or ex.position is None:
                raise FailedPrecondition(
                    f"execution {execution_id} is {ex.status}; only a failed one is retried"
                )
            await self._engine.requeue(session, ex)
        return ex

    async def scheduled(self, org_id: str, automation_id: str, page: Page) -> ScheduledPage:
        async with self._db.transaction() as session:
            rows = await repository.find_timers(
                session, org_id, automation_id or None, page.after, page.size + 1
            )
        served, token = cut_page(rows, page.size, lambda row: (row.timer.due_at, row.timer.id))
        return ScheduledPage(served, token)

    async def cancel_scheduled(self, org_id: str, timer_id: str) -> None:
        async with self._db.transaction() as session:
            timer = await repository.get_timer(session, org_id, timer_id)
            if timer is None:
                raise NotFound(f"scheduled work {timer_id} not found")
            ex = await repository.lock_org_execution(session, org_id, timer.execution_id)
            if ex is not None and ex.status in CANCELLABLE:
                await self._engine.cancel(session, ex, "scheduled work cancelled")
            else:
                await repository.delete_timers(session, timer.execution_id)
