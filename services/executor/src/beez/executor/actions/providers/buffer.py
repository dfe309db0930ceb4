"""``post_social_buffer``: Buffer's ``createPost`` mutation, ``POST https://api.buffer.com``.

The connection's API key as ``Authorization: Bearer``; a GraphQL body (the mutation and its
``input`` as variables): ``{text, channelId, schedulingType: automatic, mode, dueAt?}`` where
``mode`` is ``addToQueue`` (the channel's next free slot), ``shareNow``, ``shareNext`` or
``customScheduled`` (with ``dueAt``, ISO 8601 UTC).

Buffer answers HTTP 200 for everything but throttling: a refused post is a ``MutationError``
member of the mutation's result (``{"message"}``), a system error an ``errors`` entry with
``extensions.code`` (UNAUTHORIZED, FORBIDDEN, NOT_FOUND...): both fail the step with Buffer's
message. A throttled client gets 429 with ``errors[0].extensions.retryAfter`` (seconds), which
is honoured (up to ``http_retry_after_cap_s``) when there is no ``Retry-After`` header.

Duplicates: Buffer documents no idempotency key, so the step is at least once: an attempt
repeated after a crash between Buffer's answer and the step's commit queues the post twice.
"""

from __future__ import annotations

from typing import Any

from beez.executor.actions.base import (
    ActionContext,
    ActionResult,
    ConnectionAccess,
    PermanentError,
    TransientError,
)
from beez.executor.actions.http import HttpResponse
from beez.executor.actions.providers.base import ProviderAction, ProviderRequest, answer_json, required_text
from beez.executor.actions.providers.graphql import graphql_errors, hint_from_throttled_body, raise_for_errors

__all__ = ["CREATE_POST", "PostSocialBuffer"]

CREATE_POST = (
    "mutation CreatePost($input: CreatePostInput!) { createPost(input: $input) { __typename "
    "... on PostActionSuccess { post { id dueAt } } ... on MutationError { message } } }"
)
MODES = ("addToQueue", "shareNow", "shareNext", "customScheduled")
_TRANSIENT = frozenset({"RATE_LIMIT_EXCEEDED", "INTERNAL_SERVER_ERROR"})


class PostSocialBuffer(ProviderAction):
    """``post_social_buffer``: ``connection``, ``channel_id``, ``text``, ``mode`` (default
    addToQueue), ``due_at`` (with customScheduled).

    Output: ``post_id``, ``due_at``, ``channel_id``, ``status_code``.
    """

    type = "post_social_buffer"
    provider = "buffer"
    label = "Buffer"
    default_base_url = "https://api.buffer.com"
    idempotency = "none documented: at least once (a crash after Buffer's answer queues the post twice)"

    async def build(self, ctx: ActionContext, connection: ConnectionAccess | None) -> ProviderRequest:
        assert connection is not None
        config = ctx.config
        mode = str(config.get("mode") or "addToQueue")
        if mode not in MODES:
            raise PermanentError(
                f"`mode` {mode!r} is not one of {', '.join(MODES)}", category="invalid_config"
            )
        post: dict[str, Any] = {
            "text": required_text(config, "text"),
            "channelId": required_text(config, "channel_id"),
            "schedulingType": "automatic",
            "mode": mode,
        }
        if mode == "customScheduled":
            post["dueAt"] = required_text(config, "due_at")
        return ProviderRequest(
            "POST",
            self.base_url(connection),
            headers={"Authorization": f"Bearer {connection.credentials['api_key']}"},
            json={"query": CREATE_POST, "variables": {"input": post}},
        )

    async def run(self, ctx: ActionContext) -> ActionResult:
        try:
            return await super().run(ctx)
        except TransientError as exc:
            hint_from_throttled_body(exc, ("retryAfter",), self.settings.http_retry_after_cap_s)
            raise

    def result(self, ctx: ActionContext, response: HttpResponse) -> ActionResult:
        answer = answer_json(response.content)
        raise_for_errors(
            self.label,
            answer,
            transient_codes=_TRANSIENT,
            retry_keys=("retryAfter",),
            cap_s=self.settings.http_retry_after_cap_s,
        )
        data = answer.get("data") if isinstance(answer, dict) else None
        created = data.get("createPost") if isinstance(data, dict) else None
        created = created if isinstance(created, dict) else {}
        post = created.get("post")
        if not isinstance(post, dict) and created.get("message"):
            raise PermanentError(f"Buffer: {created['message']}", category="provider_validation")
        post = post if isinstance(post, dict) else {}
        return ActionResult(
            output={
                "post_id": str(post.get("id", "")),
                "due_at": str(post.get("dueAt") or ""),
                "channel_id": str(ctx.config.get("channel_id", "")),
                "status_code": response.status_code,
            }
        )

    def provider_message(self, status: int, body: Any) -> str | None:
        errors = graphql_errors(body)
        return str(errors[0].get("message")) if errors and errors[0].get("message") else None
