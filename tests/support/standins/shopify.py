"""Shopify Admin REST: ``POST /admin/api/2025-01/orders.json``, ``GET .../shop.json``
(shopify.dev, REST Admin API, Order and Shop resources).

Checks: ``X-Shopify-Access-Token``, JSON ``{"order": {"line_items": [...]}}``, known variants.
Answers 201 ``{"order": {...}}``; ``{"errors": ...}`` with 401, 404 or 422 as Shopify does.
Shopify takes no idempotency key for orders: every accepted request creates an order.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from tests.support.standins.base import Seen, StandIn

ACCESS_TOKEN = "shpat_0123456789abcdef0123456789abcdef"
VERSION = "2025-01"


class Shopify(StandIn):
    prefix = "shopify"

    def __init__(self) -> None:
        super().__init__()
        self.variants = {447654529: "IPod Nano - 8GB", 808950810: "Pink Case"}
        self.orders: list[dict[str, Any]] = []

    async def answer(self, seen: Seen) -> web.StreamResponse:
        if not self.problem(
            seen.header("X-Shopify-Access-Token") == ACCESS_TOKEN, "no X-Shopify-Access-Token"
        ):
            return web.json_response(
                {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"},
                status=401,
            )
        if seen.method == "GET" and seen.path == f"/admin/api/{VERSION}/shop.json":
            return web.json_response({"shop": {"id": 690933842, "name": "Beez Test Shop"}})
        if not self.problem(
            seen.method == "POST" and seen.path == f"/admin/api/{VERSION}/orders.json",
            f"not the order create: {seen.method} {seen.path}",
        ):
            return web.json_response({"errors": "Not Found"}, status=404)
        self.problem(seen.header("Content-Type").startswith("application/json"), "not JSON")
        body = seen.json()
        order = body.get("order") if isinstance(body, dict) else None
        if not self.problem(isinstance(order, dict), "no order object"):
            return web.json_response(
                {"errors": {"order": "Required parameter missing or invalid"}}, status=400
            )
        assert isinstance(order, dict)
        items = order.get("line_items")
        if not items:
            return web.json_response(
                {"errors": {"line_items": ["must have at least one line item"]}}, status=422
            )
        for item in items:
            variant = item.get("variant_id")
            if variant is not None and variant not in self.variants:
                return web.json_response(
                    {"errors": {"line_items": [f"Variant {variant} does not exist"]}}, status=422
                )
        number = 1001 + len(self.orders)
        created = {**order, "id": 450789469 + len(self.orders), "name": f"#{number}", "order_number": number}
        self.orders.append(created)
        return web.json_response({"order": created}, status=201)
