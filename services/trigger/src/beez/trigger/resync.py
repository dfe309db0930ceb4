"""Rebuilding the automation index from the automation service (decision 0032).

The index is a projection of ``AutomationChanged`` announcements, and the AUTOMATIONS stream
keeps them 30 days: a trigger whose index is empty (a new database, a restore) cannot replay
what the stream has dropped. At start, when the index has no row at all, the trigger asks the
automation service to announce every automation of every organization again
(``ResyncAutomations`` with ``all_organizations``, allowed to the trigger's certificate only);
the announcements come back through the outbox and the ``trigger-automations`` consumer like
any change, so the index is rebuilt by the one code path that maintains it, with its revision
guard. Until the automation service answers the trigger keeps asking, with backoff.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import grpc

from beez.api.automation.v1 import automation_pb2, automation_pb2_grpc
from beez.api.permissions import Role
from beez.kit.db import Database
from beez.kit.grpc.identity import Identity, identity_metadata
from beez.kit.logging import get_logger
from beez.kit.telemetry import grpc_client_interceptors
from beez.kit.tls import TlsFiles, channel
from beez.trigger.repository import transactional

log = get_logger(__name__)

T = TypeVar("T")

PLATFORM = Identity(org_id="platform", user_id="trigger", roles=frozenset({Role.ADMIN}))
"""Who the trigger acts as when it asks for every organization's automations."""


class IndexResync:
    """Asks the automation service for every automation again when the index is empty."""

    def __init__(
        self,
        db: Database,
        automation_addr: str,
        tls: TlsFiles | None,
        *,
        timeout_s: float = 60.0,
        first_backoff_s: float = 1.0,
        max_backoff_s: float = 30.0,
    ) -> None:
        self._db = db
        self._address = automation_addr
        self._tls = tls
        self._timeout_s = timeout_s
        self._first_backoff_s = first_backoff_s
        self._max_backoff_s = max_backoff_s

    async def run_at_start(self) -> None:
        """Resyncs once if the index is empty, retrying until the automation service answers.

        Whether to resync is decided once, before the first request: a request that fails after
        the automation service announced some pages (its deadline passed, it restarted) leaves
        the index partly rebuilt, and asking "is it empty?" again would then skip the rest.
        """
        empty = await self._retrying(
            "automation index check failed; retrying",
            lambda: transactional(self._db, lambda repo: repo.index_is_empty()),
        )
        if not empty:
            return
        announced = await self._retrying("automation index resync failed; retrying", self.request)
        log.info("automation index empty: every automation announced again", announced=announced)

    async def _retrying(self, warning: str, call: Callable[[], Awaitable[T]]) -> T:
        """``await call()``, again with backoff while the database or the automation service is away."""
        backoff = self._first_backoff_s
        while True:
            try:
                return await call()
            except (grpc.aio.AioRpcError, OSError) as exc:
                log.warning(
                    warning,
                    automation=self._address,
                    error=exc.details() if isinstance(exc, grpc.aio.AioRpcError) else repr(exc),
                    retry_in_s=backoff,
                )
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, self._max_backoff_s)

    async def request(self) -> int:
        """Asks for every organization's automations; how many the automation service announced."""
        async with channel(self._address, self._tls, interceptors=grpc_client_interceptors()) as chan:
            stub = automation_pb2_grpc.AutomationServiceStub(chan)
            reply: automation_pb2.ResyncAutomationsResponse = await stub.ResyncAutomations(
                automation_pb2.ResyncAutomationsRequest(all_organizations=True),
                metadata=identity_metadata(PLATFORM),
                timeout=self._timeout_s,
            )
        return reply.announced
