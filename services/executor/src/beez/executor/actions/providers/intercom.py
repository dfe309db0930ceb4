"""``update_intercom_user``: Intercom's contacts API, create or update a user.

``POST https://api.intercom.io/contacts`` with ``{role: user, external_id, email, name?, phone?,
custom_attributes?, unsubscribed_from_emails?}``, the connection's access token as
``Authorization: Bearer`` and ``Intercom-Version: 2.11``. When Intercom already has a user with
that external id or email it answers ``409 {"type": "error.list", "errors": [{"code":
"conflict", "message": "A contact matching those details already exists with id=<id>"}]}``, and
the step updates that contact instead: ``PUT /contacts/<id>`` with the same fields (no role).

Idempotency is natural: Intercom keeps one user per external id and email, so an attempt
repeated after a crash meets the 409 and updates the contact the first one made. Errors are
``error.list`` documents; the step fails with their messages (``parameter_invalid: The owner
specified is not a member of the workspace``); 429 and 5xx retry.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from beez.executor.actions.base import ActionContext, ActionResult, ConnectionAccess, PermanentError
from beez.executor.actions.http import HttpPermanentError, HttpResponse
from beez.executor.actions.providers.base import ProviderRequest, answer_json
from beez.executor.actions.providers.steps import MultiStepAction

__all__ = ["INTERCOM_VERSION", "UpdateIntercomUser"]

INTERCOM_VERSION = "2.11"
_EXISTING = re.compile(r"already exists with id=([0-9a-f]{6,64})")
_FIELDS = ("name", "phone", "custom_attributes", "unsubscribed_from_emails")


class UpdateIntercomUser(MultiStepAction):
    """``update_intercom_user``: ``connection``, ``email`` and ``external_id`` (default the
    contact's email and id), ``name``, ``phone``, ``custom_attributes``,
    ``unsubscribed_from_emails``.

    Output: ``intercom_id``, ``created`` (False when an existing user was updated), ``status_code``.
    """

    type = "update_intercom_user"
    provider = "intercom"
    label = "Intercom"
    default_base_url = "https://api.intercom.io"
    idempotency = "natural: one user per external_id/email (a repeat meets 409 and updates it)"

    def headers(self, connection: ConnectionAccess) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {connection.credentials['access_token']}",
            "Intercom-Version": INTERCOM_VERSION,
        }

    def fields(self, ctx: ActionContext) -> dict[str, Any]:
        config = ctx.config
        body: dict[str, Any] = {}
        external_id = str(config.get("external_id") or ctx.contact.get("id") or "").strip()
        email = str(config.get("email") or ctx.contact.get("email") or "").strip()
        if not external_id and not email:
            raise PermanentError("a user needs an external_id or an email", category="invalid_config")
        if external_id:
            body["external_id"] = external_id
        if email:
            body["email"] = email
        for name in _FIELDS:
            if config.get(name) is not None and config.get(name) != "":
                body[name] = config[name]
        return body

    async def first(self, ctx: ActionContext, connection: ConnectionAccess | None) -> ProviderRequest:
        assert connection is not None
        return ProviderRequest(
            "POST",
            f"{self.base_url(connection)}/contacts",
            headers=self.headers(connection),
            json={"role": "user", **self.fields(ctx)},
        )

    async def run(self, ctx: ActionContext) -> ActionResult:
        try:
            return await super().run(ctx)
        except PermanentError as exc:
            cause = exc.__cause__
            if not isinstance(cause, HttpPermanentError) or cause.status_code != 409:
                raise
            found = _EXISTING.search(cause.body)
            if found is None:
                raise
        connection = self.connection(ctx)
        assert connection is not None
        update = ProviderRequest(
            "PUT",
            f"{self.base_url(connection)}/contacts/{quote(found.group(1), safe='')}",
            headers=self.headers(connection),
            json=self.fields(ctx),
        )
        return await self.then(ctx, update)

    def result(self, ctx: ActionContext, response: HttpResponse) -> ActionResult:
        answer = answer_json(response.content) or {}
        return ActionResult(
            output={
                "intercom_id": str(answer.get("id", "")),
                "created": response.url.path.rstrip("/").endswith("/contacts"),
                "status_code": response.status_code,
            }
        )

    def provider_message(self, status: int, body: Any) -> str | None:
        errors = body.get("errors") if isinstance(body, dict) else None
        if not isinstance(errors, list):
            return None
        return (
            "; ".join(
                f"{e.get('code')}: {e.get('message')}" if e.get("code") else str(e.get("message"))
                for e in errors
                if isinstance(e, dict)
            )
            or None
        )
