"""The unit of work: what the engine's logic asks of storage, whatever keeps the rows.

The engine reads and changes executions only through a :class:`Transaction` of a
:class:`Store`: everything done inside ``async with store.transaction() as tx`` commits
together, or (on an exception) not at all. Two stores implement it:

* :class:`~beez.executor.engine.sql_store.SessionStore`, PostgreSQL, what the service runs:
  row locks (``SELECT ... FOR UPDATE``) serialize jobs, timers and RPCs touching one execution,
  executions created by the transaction are written by COPY or multi-row INSERT when it ends,
  and its outbox messages in one statement just before it commits;
* :class:`~beez.executor.engine.memory_store.MemoryStore`, plain Python objects, which lets
  tests drive the engine's logic in milliseconds with no PostgreSQL and no NATS.

Row objects are the models' (:class:`~beez.executor.models.Execution`,
:class:`~beez.executor.models.ExecutionStep`) or plain stand-ins with the same attributes: the
logic sets attributes on them and the store persists what it holds when the transaction ends.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

from beez.api.workflow.v1 import workflow_pb2
from beez.executor.engine.events import Outbox
from beez.executor.engine.limits import LimitOverride
from beez.executor.messages import Outgoing
from beez.executor.models import Execution, ExecutionStep
from beez.kit.bus.topology import Topology

T = TypeVar("T")


class ExecutionRows(Protocol):
    """The rows one locked execution owns besides its own: step log, timers, dead letters."""

    async def add_step(self, values: dict[str, Any]) -> bool:
        """Adds a step row unless its idempotency key exists; True when this call created it."""

    async def latest_attempt(self, position: str) -> ExecutionStep | None:
        """The newest attempt row of the step at ``position``."""

    async def step_by_key(self, key: str) -> ExecutionStep | None:
        """The attempt row with idempotency key ``key``."""

    async def waiting_steps(self) -> list[ExecutionStep]:
        """The step rows still ``waiting`` (a wait step, or a wait for an event)."""

    async def add_timer(self, values: dict[str, Any]) -> None:
        """Adds a timer row (``id, org_id, execution_id, kind, due_at, token, step_id, priority``)."""

    async def delete_timers(self) -> None:
        """Deletes every timer of the execution."""

    async def add_dead_letter(self, values: dict[str, Any]) -> None:
        """Records the step that failed the execution for good."""


class Transaction(Protocol):
    """One transaction of a :class:`Store`: reads, locks and writes that commit together."""

    async def save_workflows(self, definitions: Mapping[str, bytes]) -> None:
        """Stores workflow versions (digest → definition) once; the same content again changes nothing."""

    async def load_workflow(self, digest: str) -> bytes | None:
        """The serialized workflow version with ``digest``."""

    async def existing_executions(self, ids: Sequence[str]) -> set[str]:
        """Which of ``ids`` name executions that exist (committed, or created by this transaction)."""

    async def insert_execution(self, values: dict[str, Any]) -> bool:
        """Inserts an execution unless one with its id exists; True when this call created it."""

    def create_execution(self, values: dict[str, Any]) -> Execution:
        """A new execution nothing else can see yet, written with its rows when the transaction ends.

        The caller has made sure (:meth:`existing_executions`, under a lock order) that its id
        is free; should another transaction commit the same id first, the commit fails on the
        unique key and the whole transaction is retried by its caller.
        """

    async def lock_execution(self, execution_id: str) -> Execution | None:
        """The execution, locked for the rest of the transaction."""

    async def lock_executions(self, ids: Sequence[str]) -> dict[str, Execution]:
        """The executions named, locked in id order (missing ones absent)."""

    async def lock_org_execution(self, org_id: str, execution_id: str) -> Execution | None:
        """The organization's execution, locked; None when missing or another organization's."""

    async def timer_execution(self, org_id: str, timer_id: str) -> str | None:
        """The execution id of the organization's timer ``timer_id``, if it exists."""

    async def pending_executions(
        self, org_id: str, contact_id: str, exclude_id: str, automation_ids: Sequence[str] | None, limit: int
    ) -> list[str]:
        """Ids of the contact's executions that have not ended (unlocked; see the repository)."""

    def rows(self, execution_id: str) -> ExecutionRows:
        """The step log, timers and dead letters of a locked (or created) execution."""

    async def organization_limits(self, org_id: str) -> LimitOverride | None:
        """The organization's own caps on one execution (``org_limits``), None when it set none."""

    async def record_provider_message(self, values: dict[str, Any]) -> None:
        """Records which step sent a provider's message (``provider_messages``, decision 0041)."""

    async def schedule_messages(self, rows: Sequence[dict[str, Any]]) -> None:
        """Adds scheduled messages (``scheduled_messages``, decision 0046), one per idempotency key."""

    async def cancel_scheduled_messages(
        self, org_id: str, contact_id: str, ids: Sequence[str], label: str, now: datetime
    ) -> list[str]:
        """Cancels the contact's pending scheduled messages named by ``ids`` or ``label``; their ids."""

    def send(self, messages: Sequence[Outgoing]) -> None:
        """Queues messages for the outbox; they are written, in order, just before the commit."""


class Store(Protocol):
    """Where executions live; see the module docstring."""

    def transaction(self) -> AbstractAsyncContextManager[Transaction]:
        """A transaction: committed when the block ends normally, rolled back on an exception."""

    async def run(self, work: Callable[[Transaction], Awaitable[T]]) -> T:
        """Runs ``work`` in a transaction, committed when it returns, and returns what it returned.

        When the database aborts the transaction for a deadlock or a serialization failure,
        ``work`` runs again from scratch in a new one (:mod:`beez.kit.transactions`). So it must
        be repeatable: read and lock inside the transaction whatever it changes, keep its
        results in what it returns (nothing it set aside survives an aborted attempt), and call
        nothing outside this database.
        """


@dataclass
class Unit:
    """One transaction's view of one locked execution: its row, its other rows, the moment.

    ``outbox`` is the transaction's (shared by every unit of it): what the steps emit.
    """

    tx: Transaction
    outbox: Outbox
    execution: Execution
    rows: ExecutionRows
    now: datetime
    workflow: workflow_pb2.Workflow | None = None


async def run_unit_of_work(
    store: Store, topology: Topology, work: Callable[[Transaction, Outbox], Awaitable[T]]
) -> T:
    """Runs ``work`` in a transaction of ``store`` with a fresh :class:`Outbox` each attempt,
    whose messages commit with it; retried as :meth:`Store.run` says."""

    async def attempt(tx: Transaction) -> T:
        outbox = Outbox(topology)
        result = await work(tx, outbox)
        tx.send(outbox.close())
        return result

    return await store.run(attempt)


@asynccontextmanager
async def unit_of_work(store: Store, topology: Topology) -> AsyncIterator[tuple[Transaction, Outbox]]:
    """A transaction of ``store`` and its :class:`Outbox`, whose messages commit with it.

    Only a block that ends normally (a ``return`` included) hands the messages over; an exception
    rolls the state and its messages back together. Nothing retries the block: the job paths use
    :func:`run_unit_of_work`; this one is for the RPCs, whose caller runs code inside it.
    """
    async with store.transaction() as tx:
        outbox = Outbox(topology)
        yield tx, outbox
        tx.send(outbox.close())
