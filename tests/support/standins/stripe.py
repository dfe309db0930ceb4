"""Stripe: ``POST /v1/subscriptions/{id}`` (docs.stripe.com/api/subscriptions/update).

Checks: bearer secret key, ``application/x-www-form-urlencoded`` body in bracket notation, an
``Idempotency-Key``. Answers the subscription object; ``{"error": {type, code, message, param}}``
for an unknown subscription (404) or price (400). Idempotency as Stripe documents it: the first
answer for a key is saved and replayed (``Idempotent-Replayed: true``) to a retry with the same
parameters; other parameters under a used key are a 400 ``idempotency_error``.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from tests.support.standins.base import Seen, StandIn

SECRET_KEY = "sk_test_4eC39HqLyjWDarjtT1zdp7dc"


def _error(
    status: int, message: str, *, code: str = "", param: str = "", kind: str = "invalid_request_error"
) -> web.Response:
    error = {
        "type": kind,
        "message": message,
        **({"code": code} if code else {}),
        **({"param": param} if param else {}),
    }
    return web.json_response({"error": error}, status=status)


class Stripe(StandIn):
    prefix = "stripe"

    def __init__(self) -> None:
        super().__init__()
        self.subscriptions: dict[str, dict[str, Any]] = {
            "sub_1MowQVLkdIwHu7ixeRlqHVzs": {
                "id": "sub_1MowQVLkdIwHu7ixeRlqHVzs",
                "object": "subscription",
                "status": "active",
                "metadata": {},
                "cancel_at_period_end": False,
            }
        }
        self.prices = {"price_basic", "price_pro"}
        self.applied: list[tuple[str, list[tuple[str, str]]]] = []
        """(idempotency key, form) of every update Stripe actually performed."""
        self._keys: dict[str, tuple[list[tuple[str, str]], int, dict[str, Any]]] = {}

    async def answer(self, seen: Seen) -> web.StreamResponse:
        if not self.problem(seen.header("Authorization") == f"Bearer {SECRET_KEY}", "no bearer secret key"):
            return _error(401, f"Invalid API Key provided: {seen.header('Authorization')[7:]}")
        parts = seen.path.strip("/").split("/")
        if not self.problem(
            seen.method == "POST" and parts[:2] == ["v1", "subscriptions"] and len(parts) == 3,
            f"not the subscription update: {seen.method} {seen.path}",
        ):
            return _error(404, f"Unrecognized request URL ({seen.method}: {seen.path}).")
        if not self.problem(
            seen.header("Content-Type").startswith("application/x-www-form-urlencoded"), "not form-encoded"
        ):
            return _error(400, "Invalid request: the body must be form-encoded")
        key = seen.header("Idempotency-Key")
        self.problem(bool(key) and key == seen.key, "no Idempotency-Key (or not the step's key)")
        form = seen.form()
        if key in self._keys:
            first, status, body = self._keys[key]
            if first != form:
                return _error(
                    400,
                    "Keys for idempotent requests can only be used with the same parameters they were "
                    "first used with.",
                    kind="idempotency_error",
                )
            return web.json_response(
                body, status=status, headers={"Idempotent-Replayed": "true", "Idempotency-Key": key}
            )
        status, body = self._update(parts[2], form)
        if key:
            self._keys[key] = (form, status, body)
            if status == 200:
                self.applied.append((key, form))
        return web.json_response(body, status=status, headers={"Idempotency-Key": key} if key else None)

    def _update(self, subscription_id: str, form: list[tuple[str, str]]) -> tuple[int, dict[str, Any]]:
        found = self.subscriptions.get(subscription_id)
        if found is None:
            return 404, {
                "error": {
                    "type": "invalid_request_error",
                    "code": "resource_missing",
                    "param": "id",
                    "message": f"No such subscription: '{subscription_id}'",
                }
            }
        for name, value in form:
            if name.startswith("items[") and name.endswith("[price]") and value not in self.prices:
                return 400, {
                    "error": {
                        "type": "invalid_request_error",
                        "code": "resource_missing",
                        "param": name,
                        "message": f"No such price: '{value}'",
                    }
                }
            if name.startswith("metadata["):
                found["metadata"][name[9:-1]] = value
            elif name == "cancel_at_period_end":
                found["cancel_at_period_end"] = value == "true"
        return 200, dict(found)
