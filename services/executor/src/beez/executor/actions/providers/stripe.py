"""``update_stripe_subscription``: ``POST /v1/subscriptions/{id}`` on the Stripe API.

Form-encoded (Stripe's bracket notation: ``items[0][price]=...``, ``metadata[plan]=...``) with
the connection's secret key as ``Authorization: Bearer`` and the step's key as
``Idempotency-Key``: Stripe saves the status and body of the first request with a key for at
least 24 hours and answers a retry with the same key with that saved answer (header
``Idempotent-Replayed: true``), so an attempt repeated after a crash updates the subscription
once. Errors are ``{"error": {"type", "code", "message", "param"}}``; the step fails with the
message (a 402 ``card_error`` included); 429 (``rate_limit``, ``lock_timeout``) and 5xx retry.
"""

from __future__ import annotations

from typing import Any

from beez.executor.actions.base import ActionContext, ActionResult, ConnectionAccess, PermanentError
from beez.executor.actions.http import HttpResponse
from beez.executor.actions.providers.base import ProviderAction, ProviderRequest, answer_json, required_text

__all__ = ["UpdateStripeSubscription", "stripe_form"]

_ITEM_FIELDS = ("id", "price", "quantity", "deleted")


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def stripe_form(config: dict[str, Any]) -> list[tuple[str, str]]:
    """The form fields of a subscription update, in Stripe's bracket notation."""
    form: list[tuple[str, str]] = []
    for index, item in enumerate(config.get("items") or []):
        if not isinstance(item, dict):
            raise PermanentError(f"`items[{index}]` is not an object", category="invalid_config")
        for name in _ITEM_FIELDS:
            if item.get(name) is not None:
                form.append((f"items[{index}][{name}]", _scalar(item[name])))
    for key, value in (config.get("metadata") or {}).items():
        form.append((f"metadata[{key}]", "" if value is None else _scalar(value)))
    for name in ("cancel_at_period_end", "proration_behavior", "description", "trial_end"):
        if config.get(name) is not None:
            form.append((name, _scalar(config[name])))
    if not form:
        raise PermanentError("nothing to update: give items, metadata or a field", category="invalid_config")
    return form


class UpdateStripeSubscription(ProviderAction):
    """``update_stripe_subscription``: ``connection``, ``subscription_id``, ``items``
    (``[{id, price, quantity, deleted}]``), ``metadata``, ``cancel_at_period_end``,
    ``proration_behavior``, ``description``, ``trial_end``.

    Output: ``subscription_id``, ``status``, ``replayed`` (Stripe answered from its key store).
    """

    type = "update_stripe_subscription"
    provider = "stripe"
    label = "Stripe"
    default_base_url = "https://api.stripe.com"
    idempotency = "Idempotency-Key header; Stripe replays the first answer for 24 h"

    async def build(self, ctx: ActionContext, connection: ConnectionAccess | None) -> ProviderRequest:
        assert connection is not None
        subscription = required_text(ctx.config, "subscription_id")
        if not subscription.startswith("sub_") or "/" in subscription:
            raise PermanentError(
                f"`subscription_id` {subscription!r} is not a Stripe subscription id (sub_...)",
                category="invalid_config",
            )
        return ProviderRequest(
            "POST",
            f"{self.base_url(connection)}/v1/subscriptions/{subscription}",
            headers={"Authorization": f"Bearer {connection.credentials['secret_key']}"},
            form=stripe_form(ctx.config),
            idempotency_header="Idempotency-Key",
        )

    def result(self, ctx: ActionContext, response: HttpResponse) -> ActionResult:
        answer = answer_json(response.content) or {}
        return ActionResult(
            output={
                "subscription_id": str(answer.get("id", "")),
                "status": str(answer.get("status", "")),
                "replayed": response.headers.get("idempotent-replayed") == "true",
                "status_code": response.status_code,
            }
        )

    def provider_message(self, status: int, body: Any) -> str | None:
        error = body.get("error") if isinstance(body, dict) else None
        if not isinstance(error, dict) or not error.get("message"):
            return None
        param = f" (param: {error['param']})" if error.get("param") else ""
        return f"{error['message']}{param}"
