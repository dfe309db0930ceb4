"""The contact, the start time and the events the executor's tests share (engine and unit lanes)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

START_TIME = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)  # a Monday, noon UTC

ADA: dict[str, Any] = {
    "id": "c_ada",
    "email": "ada@example.com",
    "phone": "+2348012345678",
    "firstName": "Ada",
    "tags": ["lead"],
    "lists": ["New Customers"],
    "score": 42,
    "timezone": "Africa/Lagos",
    "consent": {"email": True, "sms": False, "whatsapp": True},
    "fields": {"plan": "pro"},
}


def event_json(
    type_: str, data: dict[str, Any] | None = None, contact: dict[str, Any] | None = None
) -> dict[str, Any]:
    """An event as the trigger forwards it in a SIGNAL job."""
    event: dict[str, Any] = {
        "id": f"evt_{uuid.uuid4().hex[:12]}",
        "type": type_,
        "contactId": (contact or ADA)["id"],
        "data": data or {},
    }
    if contact is not None:
        event["contact"] = contact
    return event
