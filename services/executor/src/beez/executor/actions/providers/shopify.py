"""``create_shopify_order``: ``POST /admin/api/2025-01/orders.json`` on the shop's Admin REST API.

``{"order": {...}}`` with the connection's Admin API access token in ``X-Shopify-Access-Token``
(shopify.dev, REST Admin API, Order resource). The shop's host is ``https://<shop>.myshopify.com``
(``provider_base_urls["shopify"]`` replaces it). Errors are ``{"errors": "..."}`` or
``{"errors": {"line_items": ["..."]}}``; a 422 fails the step with them. A 429 carries
``Retry-After: 2.0`` (decimal seconds), honoured up to the cap.

Idempotency: Shopify's order creation takes no idempotency key (only the payment and inventory
mutations do), so this action has a duplicate window: a crash after Shopify created the order
and before the step's result is committed creates a second order when the attempt is redelivered
(within the job's ack wait). Every order carries the step's key as ``source_identifier``, so a
duplicate is recognisable (and cancellable) in the admin.
"""

from __future__ import annotations

import re
from typing import Any

from beez.executor.actions.base import ActionContext, ActionResult, ConnectionAccess, PermanentError
from beez.executor.actions.http import HttpResponse
from beez.executor.actions.providers.base import ProviderAction, ProviderRequest, answer_json

__all__ = ["API_VERSION", "CreateShopifyOrder", "shop_base_url"]

API_VERSION = "2025-01"
_SHOP = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_ORDER_FIELDS = ("email", "financial_status", "note", "tags", "currency", "inventory_behaviour")


def shop_base_url(override: str, shop: str) -> str:
    """``https://<shop>.myshopify.com``, or the setting that replaces it."""
    if override:
        return override.rstrip("/")
    name = shop.strip().lower().removeprefix("https://").removesuffix("/").removesuffix(".myshopify.com")
    if not _SHOP.match(name):
        raise PermanentError(
            f"the Shopify connection's shop {shop!r} is not a shop name (<shop>.myshopify.com)",
            category="connection",
        )
    return f"https://{name}.myshopify.com"


def _line_items(config: dict[str, Any]) -> list[dict[str, Any]]:
    items = config.get("line_items")
    if not isinstance(items, list) or not items:
        raise PermanentError("`line_items` must list at least one item", category="invalid_config")
    out = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise PermanentError(f"`line_items[{index}]` is not an object", category="invalid_config")
        if item.get("variant_id") is None and not item.get("title"):
            raise PermanentError(
                f"`line_items[{index}]` needs a variant_id or a title", category="invalid_config"
            )
        line: dict[str, Any] = {"quantity": int(item.get("quantity") or 1)}
        if item.get("variant_id") is not None:
            line["variant_id"] = int(item["variant_id"])
        for name in ("title", "price", "sku"):
            if item.get(name) is not None:
                line[name] = str(item[name])
        out.append(line)
    return out


class CreateShopifyOrder(ProviderAction):
    """``create_shopify_order``: ``connection``, ``line_items`` (``[{variant_id | title, quantity,
    price, sku}]``), ``email`` (default the contact's), ``financial_status``, ``note``, ``tags``,
    ``currency``, ``inventory_behaviour``, ``send_receipt``.

    Output: ``order_id``, ``order_name`` (``#1001``), ``status_code``.
    """

    type = "create_shopify_order"
    provider = "shopify"
    label = "Shopify"
    default_base_url = ""
    idempotency = "none: duplicate window (source_identifier carries the step's key)"

    async def build(self, ctx: ActionContext, connection: ConnectionAccess | None) -> ProviderRequest:
        assert connection is not None
        base = shop_base_url(
            self.settings.provider_base_urls.get("shopify", ""), connection.credentials["shop"]
        )
        config = ctx.config
        order: dict[str, Any] = {"line_items": _line_items(config), "source_identifier": ctx.idempotency_key}
        email = config.get("email") or ctx.contact.get("email")
        for name in _ORDER_FIELDS:
            value = email if name == "email" else config.get(name)
            if value not in (None, ""):
                order[name] = str(value)
        if config.get("send_receipt") is not None:
            order["send_receipt"] = bool(config["send_receipt"])
        return ProviderRequest(
            "POST",
            f"{base}/admin/api/{API_VERSION}/orders.json",
            headers={"X-Shopify-Access-Token": connection.credentials["access_token"]},
            json={"order": order},
            credential_headers=("X-Shopify-Access-Token",),
        )

    def result(self, ctx: ActionContext, response: HttpResponse) -> ActionResult:
        order = (answer_json(response.content) or {}).get("order") or {}
        return ActionResult(
            output={
                "order_id": str(order.get("id", "")),
                "order_name": str(order.get("name", "")),
                "status_code": response.status_code,
            }
        )

    def provider_message(self, status: int, body: Any) -> str | None:
        errors = body.get("errors") if isinstance(body, dict) else None
        if isinstance(errors, dict):
            return "; ".join(
                f"{name}: {', '.join(map(str, said)) if isinstance(said, list) else said}"
                for name, said in errors.items()
            )
        return str(errors) if errors else None
