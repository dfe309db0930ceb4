"""The trigger's upcoming fires, which ListScheduled shows next to the timers (decision 0038).

Time-based triggers keep their pending fires in the trigger's schema, which the executor never
reads: it asks the trigger's ``ListScheduledFires`` with the caller's organization. Both lists
page by ``(due_at, id)`` with the same token format, so one token continues both.
"""

from __future__ import annotations

from datetime import UTC

import grpc

from beez.api.permissions import Role
from beez.api.trigger.v1 import trigger_pb2, trigger_pb2_grpc
from beez.executor.domain import ScheduledWork
from beez.kit.grpc.errors import Unavailable
from beez.kit.grpc.identity import Identity, identity_metadata
from beez.kit.logging import get_logger
from beez.kit.telemetry import grpc_client_interceptors
from beez.kit.tls import TlsFiles, channel

log = get_logger(__name__)

KINDS = {"recurrence": "trigger_schedule", "deferred": "trigger_deferred"}
"""What ListScheduled calls the trigger's kinds of fire."""

TIMER_PREFIX = "tmr_"
"""Timers' ids start so (engine.state); a trigger's fire ids never do (``automation_id:...``)."""


def is_timer_id(work_id: str) -> bool:
    """Whether a ListScheduled id names an executor timer rather than a trigger's fire."""
    return work_id.startswith(TIMER_PREFIX)


RECONNECT_OPTIONS = [("grpc.initial_reconnect_backoff_ms", 200), ("grpc.max_reconnect_backoff_ms", 5000)]


class TriggerFires:
    """The trigger's ``ListScheduledFires`` (mutual TLS when ``tls``)."""

    def __init__(self, address: str, timeout_s: float, tls: TlsFiles | None = None) -> None:
        self._timeout_s = timeout_s
        self._channel = channel(
            address, tls, options=RECONNECT_OPTIONS, interceptors=grpc_client_interceptors()
        )
        self._stub = trigger_pb2_grpc.EventServiceStub(self._channel)

    async def upcoming(
        self, org_id: str, automation_id: str, page_token: str, limit: int
    ) -> list[ScheduledWork] | None:
        """Up to ``limit`` of the organization's fires after the token's cursor, soonest first;
        None when the trigger cannot answer (ListScheduled then shows the timers alone)."""
        metadata = identity_metadata(Identity(org_id=org_id, roles=frozenset({Role.VIEWER})))
        try:
            reply = await self._stub.ListScheduledFires(
                trigger_pb2.ListScheduledFiresRequest(
                    automation_id=automation_id, page_size=limit, page_token=page_token
                ),
                metadata=metadata,
                timeout=self._timeout_s,
            )
        except grpc.aio.AioRpcError as exc:
            log.warning("trigger fires unavailable", error=exc.code().name, details=exc.details())
            return None
        return [
            ScheduledWork(
                id=fire.id,
                execution_id="",
                automation_id=fire.automation_id,
                contact_id=fire.contact_id,
                kind=KINDS.get(fire.kind, fire.kind),
                due_at=fire.due_at.ToDatetime(tzinfo=UTC),
                step_id="",
            )
            for fire in reply.fires
        ]

    async def cancel(self, org_id: str, fire_id: str) -> bool:
        """Cancels the organization's fire (CancelScheduledFire, as an editor); False when the
        trigger has no such fire for it. Raises Unavailable when the trigger cannot answer: the
        caller must not read "not found" into an outage."""
        metadata = identity_metadata(Identity(org_id=org_id, roles=frozenset({Role.EDITOR})))
        try:
            await self._stub.CancelScheduledFire(
                trigger_pb2.CancelScheduledFireRequest(id=fire_id), metadata=metadata, timeout=self._timeout_s
            )
        except grpc.aio.AioRpcError as exc:
            if exc.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT):
                return False
            log.warning("trigger cancel unavailable", error=exc.code().name, details=exc.details())
            raise Unavailable("the trigger service cannot cancel the fire now; retry") from exc
        return True

    async def close(self) -> None:
        await self._channel.close()
