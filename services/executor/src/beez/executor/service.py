"""What the execution RPCs do: queries, cancel, retry and scheduled work. No gRPC, no SQL.

Every operation is scoped by the caller's organization: another organization's execution or
timer is reported as not found. Lists are newest first (scheduled work: soonest first) and
paginated with opaque cursors.

``CancelScheduled`` deletes the timer and cancels the execution it belongs to: without its
timer the execution would wait forever, and a half-run execution resumed early is rarely what
the person cancelling wants. A scheduled email (``smsg_`` ids, decision 0046) is cancelled alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from beez.executor import repository
from beez.executor.domain import ExecutionFilter, ExecutionView, ScheduledWork, StepView
from beez.executor.engine import Engine
from beez.executor.models import Execution, ExecutionStep, ScheduledMessage
from beez.executor.repository import scheduled_messages
from beez.executor.trigger_fires import TriggerFires, is_timer_id
from beez.kit.db import Database
from beez.kit.grpc.errors import FailedPrecondition, NotFound
from beez.kit.paging import MomentKey, PageRequest, cut_page, decode_moment_key, encode_token, read_page
from beez.workflow.status import CANCELLABLE, ExecutionStatus, StepStatus

Page = PageRequest[MomentKey]
"""A page request of an execution list: its size, and the (time, id) cursor after which it starts."""


@dataclass(frozen=True)
class ExecutionPage:
    executions: list[ExecutionView]
    next_token: str


@dataclass(frozen=True)
class ScheduledPage:
    scheduled: list[ScheduledWork]
    next_token: str


def step_view(step: ExecutionStep) -> StepView:
    return StepView(
        step_id=step.step_id,
        type=step.type,
        path=step.path,
        status=StepStatus(step.status),
        attempt=step.attempt,
        started_at=step.started_at,
        finished_at=step.finished_at,
        duration_ms=step.duration_ms or 0,
        result=step.result or {},
        error=step.error or "",
        error_category=step.error_category or "",
        idempotency_key=step.idempotency_key,
    )


def execution_view(execution: Execution, steps: list[ExecutionStep] | None = None) -> ExecutionView:
    return ExecutionView(
        id=execution.id,
        automation_id=execution.automation_id,
        automation_version=execution.automation_version,
        contact_id=execution.contact_id,
        status=ExecutionStatus(execution.status),
        trigger_event_id=execution.trigger_event_id,
        created_at=execution.created_at,
        started_at=execution.started_at,
        finished_at=execution.finished_at,
        current_step=execution.position or "",
        error=execution.error or "",
        queue_wait_ms=execution.queue_wait_ms or 0,
        converted=execution.converted,
        steps=[step_view(step) for step in steps or []],
        steps_run=execution.steps_run,
        messages_sent=execution.messages_sent,
    )


def scheduled_work(row: repository.ScheduledRow) -> ScheduledWork:
    timer = row.timer
    return ScheduledWork(
        id=timer.id,
        execution_id=timer.execution_id,
        automation_id=row.automation_id,
        contact_id=row.contact_id,
        kind=timer.kind,
        due_at=timer.due_at,
        step_id=timer.step_id,
    )


SCHEDULED_MESSAGE_PREFIX = "smsg_"


def scheduled_message_work(message: ScheduledMessage) -> ScheduledWork:
    """A scheduled email as ListScheduled shows it (kind ``scheduled_email``); cancelling it
    cancels the message only: its execution has gone on without it (decision 0046)."""
    return ScheduledWork(
        id=message.id,
        execution_id=message.execution_id,
        automation_id=message.automation_id,
        contact_id=message.contact_id,
        kind=f"scheduled_{message.kind}",
        due_at=message.due_at,
        step_id=message.step_id,
    )


def page_of(page_size: int, page_token: str) -> Page:
    """The page a list request asks for: 0 means the default size, sizes are capped."""
    return read_page(page_size, page_token, decode=decode_moment_key)


class ExecutionService:
    """The logic behind ExecutionService's RPCs."""

    def __init__(self, db: Database, engine: Engine, fires: TriggerFires | None = None) -> None:
        self._db = db
        self._engine = engine
        self._fires = fires

    async def find(self, where: ExecutionFilter, page: Page) -> ExecutionPage:
        async with self._db.transaction() as session:
            rows = await repository.find_executions(session, where, page.after, page.size + 1)
        served, token = cut_page(rows, page.size, lambda row: (row.created_at, row.id))
        return ExecutionPage([execution_view(row) for row in served], token)

    async def get(self, org_id: str, execution_id: str, automation_id: str = "") -> ExecutionView:
        """The execution with its step log."""
        async with self._db.snapshot() as session:  # the row and its steps as of one moment
            execution = await repository.get_execution(session, org_id, execution_id)
            if execution is None or (automation_id and execution.automation_id != automation_id):
                raise NotFound(f"execution {execution_id} not found")
            steps = await repository.steps_of(session, execution.id)
        return execution_view(execution, steps)

    async def cancel(self, org_id: str, execution_id: str, reason: str) -> ExecutionView:
        async with self._engine.execution(org_id, execution_id) as unit:
            if unit is None:
                raise NotFound(f"execution {execution_id} not found")
            status = unit.execution.status
            if status not in CANCELLABLE:
                raise FailedPrecondition(f"execution {execution_id} is {status}; it cannot be cancelled")
            await self._engine.cancel(unit, reason)
        return execution_view(unit.execution)

    async def retry(self, org_id: str, execution_id: str) -> ExecutionView:
        async with self._engine.execution(org_id, execution_id) as unit:
            if unit is None:
                raise NotFound(f"execution {execution_id} not found")
            status = unit.execution.status
            if status != ExecutionStatus.FAILED or unit.execution.position is None:
                raise FailedPrecondition(
                    f"execution {execution_id} is {status}; only a failed one is retried"
                )
            await self._engine.requeue(unit)
        return execution_view(unit.execution)

    async def scheduled(self, org_id: str, automation_id: str, page: Page) -> ScheduledPage:
        """Timers of running executions and, when a trigger is configured, the upcoming fires of
        time-based triggers, merged soonest first by ``(due_at, id)`` (one cursor for both)."""
        async with self._db.transaction() as session:
            rows = await repository.find_timers(
                session, org_id, automation_id or None, page.after, page.size + 1
            )
            messages = await scheduled_messages.find_scheduled_messages(
                session, org_id, automation_id or None, page.after, page.size + 1
            )
        work = [scheduled_work(row) for row in rows] + [scheduled_message_work(m) for m in messages]
        work.sort(key=lambda item: (item.due_at, item.id))
        if self._fires is not None:
            token = encode_token(page.after) if page.after is not None else ""
            fires = await self._fires.upcoming(org_id, automation_id, token, page.size + 1)
            work = sorted([*work, *(fires or [])], key=lambda item: (item.due_at, item.id))
        served, next_token = cut_page(work, page.size, lambda item: (item.due_at, item.id))
        return ScheduledPage(served, next_token)

    async def cancel_scheduled(self, org_id: str, work_id: str) -> None:
        """Cancels one item ListScheduled shows: a timer (``tmr_`` ids) here, any other id (a
        time-based trigger's fire) in the trigger, through its CancelScheduledFire."""
        if work_id.startswith(SCHEDULED_MESSAGE_PREFIX):
            async with self._db.transaction() as session:
                cancelled = bool(
                    await scheduled_messages.cancel_scheduled_messages(
                        session, org_id, self._engine.clock.now(), ids=[work_id]
                    )
                )
        elif is_timer_id(work_id):
            cancelled = await self._engine.cancel_scheduled(org_id, work_id)
        else:
            cancelled = self._fires is not None and await self._fires.cancel(org_id, work_id)
        if not cancelled:
            raise NotFound(f"scheduled work {work_id} not found")
