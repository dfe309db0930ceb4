"""The unit of work on PostgreSQL: what the executor runs (see :mod:`.store` for the interface).

Every statement is in :mod:`beez.executor.repository`; this module decides which to send.

Fast paths, which the interface hides from the logic:

* an execution created by the transaction (:meth:`SessionTransaction.create_execution`, the
  START batches) is invisible to everything else until the commit, and has no step rows, timers
  or dead letters in the database yet. So its row and everything written for it stay in memory
  (plain row objects, dicts) until the transaction ends, and are then written with one COPY per
  table, or, for a few, with multi-row INSERTs sent in one round trip with the outbox rows;
* the transaction's outbox messages are written in one statement (and one NOTIFY) just before
  it commits, after those rows.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from beez.executor import repository
from beez.executor.engine.limits import LimitOverride
from beez.executor.messages import Outgoing
from beez.executor.models import Execution, ExecutionStep, NewExecution, NewExecutionStep
from beez.executor.repository import scheduled_messages
from beez.kit.db import Database
from beez.kit.transactions import in_transaction
from beez.workflow.status import StepStatus

T = TypeVar("T")


class SessionRows:
    """The rows of an execution the database holds: a statement per change."""

    __slots__ = ("_execution_id", "_session")

    def __init__(self, session: AsyncSession, execution_id: str) -> None:
        self._session = session
        self._execution_id = execution_id

    async def add_step(self, values: dict[str, Any]) -> bool:
        return await repository.add_step(self._session, values)

    async def latest_attempt(self, position: str) -> ExecutionStep | None:
        return await repository.latest_attempt(self._session, self._execution_id, position)

    async def step_by_key(self, key: str) -> ExecutionStep | None:
        return await repository.step_by_key(self._session, key)

    async def waiting_steps(self) -> list[ExecutionStep]:
        return await repository.waiting_steps(self._session, self._execution_id)

    async def add_timer(self, values: dict[str, Any]) -> None:
        await repository.add_timer(self._session, values)

    async def delete_timers(self) -> None:
        await repository.delete_timers(self._session, self._execution_id)

    async def add_dead_letter(self, values: dict[str, Any]) -> None:
        await repository.add_dead_letter(self._session, values)


class FreshRows:
    """The rows of an execution this transaction created: kept in memory, written at its end."""

    __slots__ = ("dead_letters", "execution", "steps", "timers")

    def __init__(self, execution: Execution) -> None:
        self.execution = execution
        self.steps: dict[str, ExecutionStep] = {}
        self.timers: list[dict[str, Any]] = []
        self.dead_letters: list[dict[str, Any]] = []

    async def add_step(self, values: dict[str, Any]) -> bool:
        key = values["idempotency_key"]
        if key in self.steps:
            return False
        self.steps[key] = NewExecutionStep(**values)
        return True

    async def latest_attempt(self, position: str) -> ExecutionStep | None:
        rows = [row for row in self.steps.values() if row.position == position]
        return max(rows, key=lambda row: row.attempt, default=None)

    async def step_by_key(self, key: str) -> ExecutionStep | None:
        return self.steps.get(key)

    async def waiting_steps(self) -> list[ExecutionStep]:
        return [row for row in self.steps.values() if row.status == StepStatus.WAITING]

    async def add_timer(self, values: dict[str, Any]) -> None:
        self.timers.append(values)

    async def delete_timers(self) -> None:
        self.timers.clear()

    async def add_dead_letter(self, values: dict[str, Any]) -> None:
        self.dead_letters.append(values)


class SessionTransaction:
    """A :class:`~.store.Transaction` on one SQLAlchemy session."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._fresh: dict[str, FreshRows] = {}
        self._outgoing: list[Outgoing] = []

    async def save_workflows(self, definitions: Mapping[str, bytes]) -> None:
        await repository.save_workflows(self.session, definitions)

    async def load_workflow(self, digest: str) -> bytes | None:
        return await repository.load_workflow(self.session, digest)

    async def existing_executions(self, ids: Sequence[str]) -> set[str]:
        return await repository.existing_executions(self.session, ids)

    async def insert_execution(self, values: dict[str, Any]) -> bool:
        return await repository.insert_execution(self.session, values)

    def create_execution(self, values: dict[str, Any]) -> Execution:
        execution: Execution = NewExecution(**values)
        self._fresh[execution.id] = FreshRows(execution)
        return execution

    async def lock_execution(self, execution_id: str) -> Execution | None:
        return await repository.lock_execution(self.session, execution_id)

    async def lock_executions(self, ids: Sequence[str]) -> dict[str, Execution]:
        return await repository.lock_executions(self.session, ids)

    async def lock_org_execution(self, org_id: str, execution_id: str) -> Execution | None:
        return await repository.lock_org_execution(self.session, org_id, execution_id)

    async def timer_execution(self, org_id: str, timer_id: str) -> str | None:
        timer = await repository.get_timer(self.session, org_id, timer_id)
        return timer.execution_id if timer is not None else None

    async def pending_executions(
        self, org_id: str, contact_id: str, exclude_id: str, automation_ids: Sequence[str] | None, limit: int
    ) -> list[str]:
        return await repository.pending_executions(
            self.session, org_id, contact_id, exclude_id, automation_ids, limit
        )

    def rows(self, execution_id: str) -> SessionRows | FreshRows:
        fresh = self._fresh.get(execution_id)
        return fresh if fresh is not None else SessionRows(self.session, execution_id)

    async def organization_limits(self, org_id: str) -> LimitOverride | None:
        return await repository.org_limits(self.session, org_id)

    async def record_provider_message(self, values: dict[str, Any]) -> None:
        await repository.record_provider_message(self.session, values)

    async def schedule_messages(self, rows: Sequence[dict[str, Any]]) -> None:
        for row in rows:
            await scheduled_messages.add_scheduled_message(self.session, row)

    async def cancel_scheduled_messages(
        self, org_id: str, contact_id: str, ids: Sequence[str], label: str, now: datetime
    ) -> list[str]:
        return await scheduled_messages.cancel_scheduled_messages(
            self.session, org_id, now, contact_id=contact_id, ids=list(ids), label=label
        )

    def send(self, messages: Sequence[Outgoing]) -> None:
        self._outgoing.extend(messages)

    async def flush(self) -> None:
        """Writes the executions the transaction created, with their rows, then its messages.

        One COPY per table for many new executions, then the outbox: one write and one NOTIFY.
        A few new executions' rows go with the outbox rows, in one round trip when they are
        published directly.
        """
        fresh = list(self._fresh.values())
        self._fresh.clear()
        before = []
        if fresh:
            before = await repository.write_new_executions(
                self.session,
                [rows.execution for rows in fresh],
                [step for rows in fresh for step in rows.steps.values()],
                [timer for rows in fresh for timer in rows.timers],
                [letter for rows in fresh for letter in rows.dead_letters],
            )
        outgoing, self._outgoing = self._outgoing, []
        await repository.enqueue_all(self.session, outgoing, before=before)


class SessionStore:
    """A :class:`~.store.Store` on the executor's PostgreSQL database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SessionTransaction]:
        async with self.db.transaction() as session:
            tx = SessionTransaction(session)
            yield tx
            await tx.flush()

    async def run(self, work: Callable[[SessionTransaction], Awaitable[T]]) -> T:
        """Runs ``work`` in a transaction, again after a deadlock or serialization failure."""

        async def attempt(session: AsyncSession) -> T:
            tx = SessionTransaction(session)
            result = await work(tx)
            await tx.flush()
            return result

        return await in_transaction(self.db, attempt)
