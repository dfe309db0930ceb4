"""Provider actions (category ``integration``): each sends one documented request to its
provider through the organization's connection (decisions 0040, 0044). Each schema names exactly
the fields the executor's action sends (``beez.executor.actions.providers``)."""

from __future__ import annotations

from beez.workflow.catalog.entries import ActionType
from beez.workflow.catalog.pieces import CONNECTION, TEXT, config_schema

__all__ = ["INTEGRATION_ACTIONS"]


def _connection(provider: str) -> dict[str, object]:
    return {**CONNECTION, "description": f"The organization's {provider} connection, by id or name."}


_METADATA = {
    "type": "object",
    "maxProperties": 50,
    "propertyNames": {"maxLength": 40},
    "additionalProperties": {"type": ["string", "number", "boolean", "null"]},
}

INTEGRATION_ACTIONS: tuple[ActionType, ...] = (
    ActionType(
        "update_stripe_subscription",
        "Update Stripe subscription",
        "Updates a Stripe subscription (POST /v1/subscriptions/{id}): its items (price, quantity), "
        "metadata, cancel_at_period_end, proration; sent once per attempt (Idempotency-Key). "
        'Example: {"connection": "stripe", "subscription_id": "{{ contact.fields.subscription }}", '
        '"items": [{"id": "si_123", "price": "price_pro"}], "proration_behavior": "none"}.',
        "integration",
        config_schema(
            "update_stripe_subscription",
            {
                "connection": _connection("Stripe"),
                "subscription_id": {**TEXT, "maxLength": 255, "description": "sub_..."},
                "items": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": 20,
                    "items": {
                        "type": "object",
                        "properties": {
                            "id": {**TEXT, "maxLength": 255, "description": "The item (si_...)."},
                            "price": {**TEXT, "maxLength": 255, "description": "The new price (price_...)."},
                            "quantity": {"type": "integer", "minimum": 0},
                            "deleted": {"type": "boolean"},
                        },
                        "additionalProperties": False,
                    },
                },
                "metadata": _METADATA,
                "cancel_at_period_end": {"type": "boolean"},
                "proration_behavior": {"enum": ["create_prorations", "none", "always_invoice"]},
                "description": {"type": "string", "maxLength": 500},
                "trial_end": {
                    "type": ["integer", "string"],
                    "description": "A Unix timestamp, or `now` to end the trial at once.",
                },
            },
            ("connection", "subscription_id"),
        ),
    ),
)
