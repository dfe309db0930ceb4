"""``add_mailchimp_member``: Mailchimp's "add or update list member",
``PUT /3.0/lists/{list_id}/members/{subscriber_hash}``.

The data center is the API key's suffix (``...-us21`` → ``https://us21.api.mailchimp.com/3.0``;
the ``provider_base_urls["mailchimp"]`` setting overrides it); HTTP Basic auth with any user name
and the API key. ``subscriber_hash`` is the MD5 of the lower-cased email, and the body is
``{email_address, status_if_new, status?, merge_fields?}``: ``status_if_new`` applies only when
the address is new to the audience, ``status`` changes an existing member too.

Idempotency is natural: the PUT names the member by its hash, so the same request twice (an
attempt repeated after a crash) leaves one member in the same state. Mailchimp's errors are
problem documents ``{"type", "title", "status", "detail", "errors"?: [{field, message}]}``: the
step fails with the title, detail and field messages (``Invalid Resource: ... looks fake or
invalid``); 429 (more than 10 simultaneous connections) and 5xx retry.
"""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import quote

from beez.executor.actions.base import ActionContext, ActionResult, ConnectionAccess, PermanentError
from beez.executor.actions.http import HttpResponse
from beez.executor.actions.providers.auth import basic, site_base_url
from beez.executor.actions.providers.base import ProviderAction, ProviderRequest, answer_json, required_text

__all__ = ["STATUSES", "AddMailchimpMember", "subscriber_hash"]

STATUSES = ("subscribed", "unsubscribed", "cleaned", "pending", "transactional")


def subscriber_hash(email: str) -> str:
    """Mailchimp's member id: the MD5 hex digest of the lower-cased address."""
    return hashlib.md5(email.strip().lower().encode(), usedforsecurity=False).hexdigest()


class AddMailchimpMember(ProviderAction):
    """``add_mailchimp_member``: ``connection``, ``list_id``, ``email`` (default the contact's),
    ``status_if_new`` (default pending: Mailchimp asks the person to confirm), ``status``,
    ``merge_fields``.

    Output: ``member_id`` (the subscriber hash), ``status``, ``list_id``, ``status_code``.
    """

    type = "add_mailchimp_member"
    provider = "mailchimp"
    label = "Mailchimp"
    default_base_url = "https://{dc}.api.mailchimp.com/3.0"
    idempotency = "natural: PUT on the member's subscriber hash (the same request twice, one member)"

    def base_url(self, connection: ConnectionAccess | None = None) -> str:
        url = super().base_url(connection)
        return site_base_url(url, connection) if connection is not None else url

    async def build(self, ctx: ActionContext, connection: ConnectionAccess | None) -> ProviderRequest:
        assert connection is not None
        config = ctx.config
        email = str(config.get("email") or ctx.contact.get("email") or "").strip()
        if not email:
            raise PermanentError(
                "no email: the contact has none and `email` is not set", category="invalid_config"
            )
        body: dict[str, Any] = {
            "email_address": email,
            "status_if_new": str(config.get("status_if_new") or "pending"),
        }
        for name in ("status_if_new", "status"):
            if config.get(name) and str(config[name]) not in STATUSES:
                raise PermanentError(
                    f"`{name}` {config[name]!r} is not one of {', '.join(STATUSES)}",
                    category="invalid_config",
                )
        if config.get("status"):
            body["status"] = str(config["status"])
        if config.get("merge_fields"):
            body["merge_fields"] = dict(config["merge_fields"])
        list_id = quote(required_text(config, "list_id"), safe="")
        return ProviderRequest(
            "PUT",
            f"{self.base_url(connection)}/lists/{list_id}/members/{subscriber_hash(email)}",
            headers={"Authorization": basic("beez", connection.credentials["api_key"])},
            json=body,
        )

    def result(self, ctx: ActionContext, response: HttpResponse) -> ActionResult:
        answer = answer_json(response.content) or {}
        return ActionResult(
            output={
                "member_id": str(answer.get("id", "")),
                "status": str(answer.get("status", "")),
                "list_id": str(answer.get("list_id", ctx.config.get("list_id", ""))),
                "status_code": response.status_code,
            }
        )

    def provider_message(self, status: int, body: Any) -> str | None:
        if not isinstance(body, dict) or not (body.get("title") or body.get("detail")):
            return None
        parts = [str(body.get("title") or ""), str(body.get("detail") or "")]
        message = ": ".join(part for part in parts if part)
        fields = [
            f"{e.get('field')}: {e.get('message')}" for e in body.get("errors") or [] if isinstance(e, dict)
        ]
        return message + (f" ({'; '.join(fields)})" if fields else "")
