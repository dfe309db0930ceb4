"""What the execution RPCs do: queries, cancel, retry and scheduled work. No gRPC, no SQL.

Every operation is scoped by the caller's organization: another organization's execution or
timer is reported as not found. Lists are newest first (scheduled work: soonest first) and
paginated with opaque cursors.

``CancelScheduled`` deletes the timer and cancels the execution it belongs to: without its
timer the execution would wait forever, and a half-run execution resumed early is rarely what
the person cancelling wants.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from beez.executor import repository
from beez.executor.engine import CANCELLABLE, Engine
from beez.executor.models import Execution, ExecutionStep
from beez.kit.db import Database
from beez.kit.grpc.errors import FailedPrecondition, FieldViolation, InvalidArgument, NotFound

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


@dataclass(frozen=True)
class Page:
    """A page request: how many, and after which cursor."""

    size: int
    after: tuple[datetime, str] | None


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


def encode_cursor(moment: datetime, key: str) -> str:
    raw = json.dumps({"t": moment.isoformat(), "k": key}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(token: str) -> tuple[datetime, str]:
    """The cursor in a page token; raises ValueError for one this service did not make."""
    try:
        padded = token + "=" * (-len(token) % 4)
        data: Any = json.loads(base64.urlsafe_b64decode(padded.encode()))
        return datetime.fromisoformat(data["t"]), str(data["k"])
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise ValueError("not a page token of this list") from exc


def page_of(page_size: int, page_token: str) -> Page:
    """Checks the paging fields of a request; a size of 0 means the default, sizes are capped."""
    violations = []
    if page_size < 0:
        violations.append(FieldViolation("page_size", "must not be negative"))
    after = None
    if page_token:
        try:
            after = decode_cursor(page_token)
        except ValueError as exc:
            violations.append(FieldViolation("page_token", str(exc)))
    if violations:
        raise InvalidArgument("invalid paging", violations)
    size = min(page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    return Page(size, after)


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
        token = ""
        if len(rows) > page.size:
            rows = rows[: page.size]
            token = encode_cursor(rows[-1].created_at, rows[-1].id)
        return ExecutionPage(rows, token)

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
        token = ""
        if len(rows) > page.size:
            rows = rows[: page.size]
            token = encode_cursor(rows[-1].timer.due_at, rows[-1].timer.id)
        return ScheduledPage(rows, token)

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
