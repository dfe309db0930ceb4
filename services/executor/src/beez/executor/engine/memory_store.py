"""The unit of work in memory: the engine's logic with no database (see :mod:`.store`).

For tests of what the engine decides: every transaction works on a copy of the whole state and
replaces it when the block ends normally, so an exception rolls back everything, as PostgreSQL
would. Transactions run one at a time (one lock for the store), which is what row locks amount to
for the executions a test drives. Committed outbox messages are kept in :attr:`MemoryStore.outbox`
for the test to read or deliver.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from beez.executor.engine.limits import LimitOverride
from beez.executor.messages import Outgoing
from beez.executor.models import Execution, ExecutionStep, NewExecution, NewExecutionStep
from beez.workflow.status import CANCELLABLE, StepStatus

T = TypeVar("T")


@dataclass
class MemoryState:
    """Everything a :class:`MemoryStore` holds."""

    workflows: dict[str, bytes] = field(default_factory=dict)
    executions: dict[str, Execution] = field(default_factory=dict)
    steps: dict[str, ExecutionStep] = field(default_factory=dict)
    """Step rows by idempotency key, in the order they were written."""
    timers: dict[str, dict[str, Any]] = field(default_factory=dict)
    dead_letters: list[dict[str, Any]] = field(default_factory=list)
    provider_messages: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    scheduled_messages: dict[str, dict[str, Any]] = field(default_factory=dict)
    org_limits: dict[str, LimitOverride] = field(default_factory=dict)


class MemoryRows:
    """The step log, timers and dead letters of one execution of a :class:`MemoryState`."""

    def __init__(self, state: MemoryState, execution_id: str) -> None:
        self._state = state
        self._execution_id = execution_id

    async def add_step(self, values: dict[str, Any]) -> bool:
        key = values["idempotency_key"]
        if key in self._state.steps:
            return False
        self._state.steps[key] = NewExecutionStep(seq=len(self._state.steps) + 1, **values)
        return True

    async def latest_attempt(self, position: str) -> ExecutionStep | None:
        rows = [
            row
            for row in self._state.steps.values()
            if row.execution_id == self._execution_id and row.position == position
        ]
        return max(rows, key=lambda row: row.attempt, default=None)

    async def step_by_key(self, key: str) -> ExecutionStep | None:
        return self._state.steps.get(key)

    async def waiting_steps(self) -> list[ExecutionStep]:
        return [
            row
            for row in self._state.steps.values()
            if row.execution_id == self._execution_id and row.status == StepStatus.WAITING
        ]

    async def add_timer(self, values: dict[str, Any]) -> None:
        self._state.timers[values["id"]] = dict(values)

    async def delete_timers(self) -> None:
        for timer_id, timer in list(self._state.timers.items()):
            if timer["execution_id"] == self._execution_id:
                del self._state.timers[timer_id]

    async def add_dead_letter(self, values: dict[str, Any]) -> None:
        self._state.dead_letters.append(dict(values))


class MemoryTransaction:
    """A :class:`~.store.Transaction` on a working copy of a :class:`MemoryState`."""

    def __init__(self, state: MemoryState) -> None:
        self.state = state
        self.sent: list[Outgoing] = []

    async def save_workflows(self, definitions: Mapping[str, bytes]) -> None:
        for digest, definition in definitions.items():
            self.state.workflows.setdefault(digest, definition)

    async def load_workflow(self, digest: str) -> bytes | None:
        return self.state.workflows.get(digest)

    async def existing_executions(self, ids: Sequence[str]) -> set[str]:
        return {execution_id for execution_id in ids if execution_id in self.state.executions}

    async def insert_execution(self, values: dict[str, Any]) -> bool:
        if values["id"] in self.state.executions:
            return False
        self.create_execution(values)
        return True

    def create_execution(self, values: dict[str, Any]) -> Execution:
        if values["id"] in self.state.executions:
            raise KeyError(f"execution {values['id']} exists")  # the unique key PostgreSQL has
        execution: Execution = NewExecution(**values)
        self.state.executions[execution.id] = execution
        return execution

    async def lock_execution(self, execution_id: str) -> Execution | None:
        return self.state.executions.get(execution_id)

    async def lock_executions(self, ids: Sequence[str]) -> dict[str, Execution]:
        return {
            execution_id: self.state.executions[execution_id]
            for execution_id in sorted(ids)
            if execution_id in self.state.executions
        }

    async def lock_org_execution(self, org_id: str, execution_id: str) -> Execution | None:
        execution = self.state.executions.get(execution_id)
        return execution if execution is not None and execution.org_id == org_id else None

    async def timer_execution(self, org_id: str, timer_id: str) -> str | None:
        timer = self.state.timers.get(timer_id)
        return str(timer["execution_id"]) if timer is not None and timer["org_id"] == org_id else None

    async def pending_executions(
        self, org_id: str, contact_id: str, exclude_id: str, automation_ids: Sequence[str] | None, limit: int
    ) -> list[str]:
        found = [
            execution
            for execution in self.state.executions.values()
            if execution.org_id == org_id
            and execution.contact_id == contact_id
            and execution.id != exclude_id
            and execution.status in CANCELLABLE
            and (automation_ids is None or execution.automation_id in automation_ids)
        ]
        found.sort(key=lambda execution: (execution.created_at, execution.id))
        return [execution.id for execution in found[:limit]]

    def rows(self, execution_id: str) -> MemoryRows:
        return MemoryRows(self.state, execution_id)

    async def organization_limits(self, org_id: str) -> LimitOverride | None:
        return self.state.org_limits.get(org_id)

    async def record_provider_message(self, values: dict[str, Any]) -> None:
        self.state.provider_messages.setdefault((values["provider"], values["provider_message_id"]), values)

    async def schedule_messages(self, rows: Sequence[dict[str, Any]]) -> None:
        for row in rows:
            self.state.scheduled_messages.setdefault(row["idempotency_key"], {**row, "status": "pending"})

    async def cancel_scheduled_messages(
        self, org_id: str, contact_id: str, ids: Sequence[str], label: str, now: datetime
    ) -> list[str]:
        cancelled = []
        for row in self.state.scheduled_messages.values():
            chosen = row["id"] in ids or (label and row.get("label") == label)
            mine = row["org_id"] == org_id and row["contact_id"] == contact_id
            if chosen and mine and row["status"] == "pending":
                row["status"] = "cancelled"
                cancelled.append(row["id"])
        return cancelled

    def send(self, messages: Sequence[Outgoing]) -> None:
        self.sent.extend(messages)


class MemoryStore:
    """A :class:`~.store.Store` in memory; see the module docstring."""

    def __init__(self) -> None:
        self.state = MemoryState()
        self.outbox: list[Outgoing] = []
        """Every message committed so far, in order."""
        self._lock = asyncio.Lock()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[MemoryTransaction]:
        async with self._lock:
            tx = MemoryTransaction(copy.deepcopy(self.state))
            yield tx
            self.state = tx.state
            self.outbox.extend(tx.sent)

    async def run(self, work: Callable[[MemoryTransaction], Awaitable[T]]) -> T:
        """Runs ``work`` in one transaction (nothing here deadlocks, so it runs once)."""
        async with self.transaction() as tx:
            return await work(tx)

    # --- what tests read, and the timer loop's part -------------------------------------------

    def execution(self, execution_id: str) -> Execution:
        return self.state.executions[execution_id]

    def steps_of(self, execution_id: str) -> list[ExecutionStep]:
        """The execution's step rows in the order they were written."""
        return [row for row in self.state.steps.values() if row.execution_id == execution_id]

    def timers_of(self, execution_id: str) -> list[dict[str, Any]]:
        return [timer for timer in self.state.timers.values() if timer["execution_id"] == execution_id]

    def dead_letters_of(self, execution_id: str) -> list[dict[str, Any]]:
        return [letter for letter in self.state.dead_letters if letter["execution_id"] == execution_id]

    def claim_due_timers(self, now: datetime) -> list[dict[str, Any]]:
        """Deletes and returns the timers due at ``now``, soonest first (what the timer loop does)."""
        due = sorted(
            (timer for timer in self.state.timers.values() if timer["due_at"] <= now),
            key=lambda timer: timer["due_at"],
        )
        for timer in due:
            del self.state.timers[timer["id"]]
        return due
