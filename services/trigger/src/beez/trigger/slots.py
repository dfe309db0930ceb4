"""Frees concurrency slots whose execution ended without the trigger hearing of it.

A contact's slot is freed when the trigger consumes the execution's end
(``executions.<org>.completed|failed|cancelled``). When that message never arrives (dead-lettered
during an outage, lost with a stream, published while the consumer was misconfigured), the slot
stays taken for good and the contact's next events queue behind an execution that is long over.

:class:`SlotReconciler` makes the execution's end state, not the message, decide: every
``interval`` it takes the slots held longer than ``held_after`` (in ``(acquired_at, execution
id)`` order, resuming where the last round stopped, so slots of long but live executions never
hide the ones behind them), asks the executor for each execution's state
(``ExecutionService.GetExecution`` acting for the slot's organization) and, for the ended ones,
applies exactly what the lifecycle message would have (:func:`beez.trigger.service.apply_lifecycle`:
enrollment ended, waits closed, slots freed), which is idempotent. An execution the executor does
not know (its START not consumed yet) or cannot answer for now keeps its slot.
See docs/decisions/0028-outage-safe-consumers.md.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Protocol

import grpc

from beez.api.executor.v1 import executor_pb2, executor_pb2_grpc
from beez.api.permissions import Role
from beez.kit.clock import Clock
from beez.kit.db import Database
from beez.kit.grpc.identity import Identity, identity_metadata
from beez.kit.logging import get_logger
from beez.kit.loops import repeat_rounds
from beez.kit.telemetry import grpc_client_interceptors
from beez.kit.tls import TlsFiles, channel
from beez.trigger import service
from beez.trigger.repository import transactional
from beez.trigger.repository.lifecycle import HeldSlot

log = get_logger(__name__)

OUTCOMES: dict[int, str] = {
    executor_pb2.EXECUTION_STATUS_COMPLETED: "completed",
    executor_pb2.EXECUTION_STATUS_FAILED: "failed",
    executor_pb2.EXECUTION_STATUS_CANCELLED: "cancelled",
}
"""The outcome the trigger records for each end state the executor reports."""

RECONNECT_OPTIONS = [("grpc.initial_reconnect_backoff_ms", 200), ("grpc.max_reconnect_backoff_ms", 5000)]
ASK_AT_ONCE = 8
"""GetExecution calls one round keeps in flight."""


class ExecutionStates(Protocol):
    """Where the reconciler learns how an execution stands."""

    async def outcome(self, org_id: str, execution_id: str) -> str | None:
        """``completed``, ``failed`` or ``cancelled`` once it ended; None while it has not (or is
        unknown); raises when the answer cannot be had now."""
        ...


class ExecutorStates:
    """:class:`ExecutionStates` from the executor's ``GetExecution`` (mutual TLS when ``tls``)."""

    def __init__(self, address: str, timeout_s: float, tls: TlsFiles | None = None) -> None:
        self.address = address
        self._timeout_s = timeout_s
        self._channel = channel(
            address, tls, options=RECONNECT_OPTIONS, interceptors=grpc_client_interceptors()
        )
        self._stub = executor_pb2_grpc.ExecutionServiceStub(self._channel)

    async def outcome(self, org_id: str, execution_id: str) -> str | None:
        metadata = identity_metadata(Identity(org_id=org_id, roles=frozenset({Role.VIEWER})))
        try:
            reply = await self._stub.GetExecution(
                executor_pb2.GetExecutionRequest(execution_id=execution_id),
                metadata=metadata,
                timeout=self._timeout_s,
            )
        except grpc.aio.AioRpcError as exc:
            if exc.code() == grpc.StatusCode.NOT_FOUND:
                return None
            raise
        return OUTCOMES.get(reply.execution.status)

    async def close(self) -> None:
        await self._channel.close()


class SlotReconciler:
    """Frees the slots of ended executions, asking the executor for slots held ``held_after``."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        states: ExecutionStates,
        *,
        held_after: float,
        interval: float = 60.0,
        batch: int = 200,
    ) -> None:
        self._db = db
        self._clock = clock
        self._states = states
        self._held_after = held_after
        self._interval = interval
        self._batch = batch
        self._after: tuple[datetime, str] | None = None
        self.freed = 0
        """Slots this reconciler freed (for tests and metrics)."""

    async def reconcile(self) -> int:
        """One round over the next ``batch`` long-held slots; returns how many it freed (a page
        of nothing but leaks is followed by the next at once, anything else waits ``interval``,
        so live long executions cost one call each per round, not a burst)."""
        cutoff = self._clock.now() - timedelta(seconds=self._held_after)
        after = self._after
        held = await transactional(self._db, lambda repo: repo.long_held_slots(cutoff, after, self._batch))
        # the next round goes on after these; after a short page it starts from the oldest again
        self._after = (held[-1].acquired_at, held[-1].execution_id) if len(held) == self._batch else None
        outcomes = await self._ask(held)
        ended = [
            service.Lifecycle(slot.execution_id, slot.org_id, outcome)
            for slot, outcome in zip(held, outcomes, strict=True)
            if outcome is not None
        ]
        if ended:
            await service.apply_lifecycle(self._db, self._clock, ended)
            self.freed += len(ended)
            log.warning(
                "slots of ended executions freed without their lifecycle message",
                count=len(ended),
                execution_ids=[e.execution_id for e in ended[:20]],
            )
        return len(ended)

    async def _ask(self, held: list[HeldSlot]) -> list[str | None]:
        """Each execution's outcome; one the executor cannot answer for now counts as not ended."""
        gate = asyncio.Semaphore(ASK_AT_ONCE)
        failures: list[BaseException] = []

        async def ask(slot: HeldSlot) -> str | None:
            async with gate:
                try:
                    return await self._states.outcome(slot.org_id, slot.execution_id)
                except Exception as exc:
                    failures.append(exc)
                    return None

        outcomes = await asyncio.gather(*(ask(slot) for slot in held))
        if failures:
            log.warning("execution states unavailable", count=len(failures), error=repr(failures[0]))
        return list(outcomes)

    async def run(self) -> None:
        """Reconciles every ``interval`` seconds until cancelled; failures are logged and retried."""
        await repeat_rounds(
            self.reconcile,
            interval=self._interval,
            full=self._batch,
            what="reconciling slots",
            max_pause=300.0,
        )
