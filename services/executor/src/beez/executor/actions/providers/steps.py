"""Provider actions of more than one request, on the same :class:`~.base.ProviderAction` path
(decision 0045).

Some providers document no idempotency key but a natural key: an upsert looks the record up by
it (a person by email in Pipedrive, a lead by a contact's email in Close) before it writes, and
a create that the provider refuses as a duplicate names the record to update instead
(Intercom's 409 ``A contact matching those details already exists with id=...``). An attempt
repeated after a crash then finds what the first one made and changes it again rather than
making a second one.

:class:`MultiStepAction` keeps the base class's one send path for the write (error mapping,
``Retry-After``, preview): :meth:`first` builds the write, after any :meth:`lookup` it needs;
:meth:`then` sends a follow-up write through the same path. A preview (safe mode) sends nothing,
so :meth:`first` skips its lookup there (:attr:`previewing`) and shows the write for a record
that does not exist yet.
"""

from __future__ import annotations

from abc import abstractmethod
from contextvars import ContextVar
from typing import Any

from beez.executor.actions.base import (
    ActionContext,
    ActionResult,
    ConnectionAccess,
    PermanentError,
    TransientError,
)
from beez.executor.actions.http import HttpPermanentError, HttpTransientError, json_body
from beez.executor.actions.preview import Preview
from beez.executor.actions.providers.base import ProviderAction, ProviderRequest, answer_json

__all__ = ["MultiStepAction"]

_PREVIEWING: ContextVar[bool] = ContextVar("beez_provider_previewing", default=False)
_NEXT: ContextVar[ProviderRequest | None] = ContextVar("beez_provider_next", default=None)


class MultiStepAction(ProviderAction):
    """A provider action whose write may need a lookup first, or a second write after it."""

    @abstractmethod
    async def first(self, ctx: ActionContext, connection: ConnectionAccess | None) -> ProviderRequest:
        """The write to send (after the lookups it needs, unless :attr:`previewing`)."""

    @property
    def previewing(self) -> bool:
        """Whether the request is being built for a preview (no lookup may be sent)."""
        return _PREVIEWING.get()

    async def build(self, ctx: ActionContext, connection: ConnectionAccess | None) -> ProviderRequest:
        follow_up = _NEXT.get()
        return follow_up if follow_up is not None else await self.first(ctx, connection)

    async def preview(self, ctx: ActionContext) -> Preview:
        token = _PREVIEWING.set(True)
        try:
            return await super().preview(ctx)
        finally:
            _PREVIEWING.reset(token)

    async def then(self, ctx: ActionContext, request: ProviderRequest) -> ActionResult:
        """Sends ``request`` as the step's write, through the base class's path."""
        token = _NEXT.set(request)
        try:
            return await super().run(ctx)
        finally:
            _NEXT.reset(token)

    async def lookup(self, ctx: ActionContext, request: ProviderRequest) -> Any:
        """Sends a read (a search) and returns its JSON answer; errors map as the write's do."""
        headers = {"Accept": "application/json", **request.headers}
        content = None
        if request.json is not None:
            headers["Content-Type"] = "application/json"
            content = json_body(request.json)
        try:
            response = await self.http.request(
                request.method,
                request.url,
                now=ctx.now,
                headers=headers,
                content=content,
                idempotency_key=ctx.idempotency_key,
                credential_headers=request.credential_headers,
            )
        except HttpTransientError as exc:
            raise TransientError(
                self._message(exc.status_code, exc.body, str(exc)),
                category=exc.category,
                retry_after=exc.retry_after,
            ) from exc
        except HttpPermanentError as exc:
            raise PermanentError(
                self._message(exc.status_code, exc.body, str(exc)), category=exc.category
            ) from exc
        return answer_json(response.content)
