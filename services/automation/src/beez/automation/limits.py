"""An organization's caps on one execution, asked of the executor, which owns them (decision 0023).

Validation checks a workflow's worst case against the caps its executions will run under, which
an admin may have changed with ``SetOrganizationLimits`` without a redeploy. They are asked of
the executor's ``GetOrganizationLimits`` with the caller's identity (so the executor scopes the
answer to the caller's organization) and cached per organization for ``cache_s`` (at most
``max_entries`` organizations). When the executor cannot answer, validation uses the caps in
the settings (:class:`~beez.automation.domain.rules.OrganizationRules`), which the executor
applies too when the organization set none, and a warning is logged.
"""

from __future__ import annotations

from typing import Protocol

import grpc

from beez.api.executor.v1 import executor_pb2, executor_pb2_grpc
from beez.automation.stats import RECONNECT_OPTIONS
from beez.kit.cache import ExpiringCache
from beez.kit.grpc.identity import Identity, identity_metadata
from beez.kit.logging import get_logger
from beez.kit.telemetry import grpc_client_interceptors
from beez.kit.tls import TlsFiles, channel
from beez.workflow.amplification import ExecutionLimits

__all__ = ["ExecutorLimits", "LimitsSource"]

log = get_logger(__name__)


class LimitsSource(Protocol):
    """Where validation learns an organization's caps."""

    async def limits(self, identity: Identity) -> ExecutionLimits | None:
        """The caps of the caller's organization, or None when they cannot be had right now."""
        ...


class ExecutorLimits:
    """A :class:`LimitsSource` calling ``ExecutionService.GetOrganizationLimits``, cached."""

    def __init__(
        self,
        address: str,
        timeout_s: float,
        tls: TlsFiles | None = None,
        *,
        cache_s: float = 10.0,
        max_entries: int = 10_000,
    ) -> None:
        self.address = address
        self._timeout_s = timeout_s
        self._cache: ExpiringCache[str, ExecutionLimits] = ExpiringCache(
            ttl_s=cache_s, max_entries=max_entries
        )
        self._channel = channel(
            address, tls, options=RECONNECT_OPTIONS, interceptors=grpc_client_interceptors()
        )
        self._stub = executor_pb2_grpc.ExecutionServiceStub(self._channel)

    async def limits(self, identity: Identity) -> ExecutionLimits | None:
        try:
            return await self._cache.get(identity.org_id, lambda: self._ask(identity))
        except grpc.aio.AioRpcError as exc:
            log.warning(
                "executor unavailable; validating against the configured execution caps",
                executor=self.address,
                code=exc.code().name,
                error=exc.details(),
            )
            return None

    async def _ask(self, identity: Identity) -> ExecutionLimits:
        reply = await self._stub.GetOrganizationLimits(
            executor_pb2.GetOrganizationLimitsRequest(),
            metadata=identity_metadata(identity),
            timeout=self._timeout_s,
        )
        return ExecutionLimits(reply.limits.max_steps_per_execution, reply.limits.max_messages_per_execution)

    async def close(self) -> None:
        await self._channel.close()
