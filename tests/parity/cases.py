"""The sample each parity workflow runs on: the contact, the event data, and how its waits end.

Every workflow in ``workflows/`` runs on the triggering ``list.joined`` event of Ada
(:data:`tests.executor.engine.conftest.ADA`: email and WhatsApp consent, no SMS consent), with
the changes listed here. ``outcomes`` name, per waiting step id, whether what it waits for
arrives (``event``, ``met``) or it times out (the default): the dry run takes them as
``wait_outcomes``, the engine gets a SIGNAL job or has its clock moved past the timeout.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from tests.executor.samples import ADA

AUTOMATION_ID = "auto_parity"
"""The automation id of every run: random splits are keyed by it."""

DEFAULT_DATA: dict[str, Any] = {"list": "New Customers"}


@dataclass(frozen=True)
class Sample:
    """How one workflow's sample differs from the default."""

    contact: dict[str, Any] = field(default_factory=dict)
    """Fields of Ada's contact replaced (camelCase, as events carry them)."""
    data: dict[str, Any] = field(default_factory=dict)
    outcomes: dict[str, str] = field(default_factory=dict)
    connections: tuple[str, ...] = ()
    """Providers whose connection (:data:`tests.parity.test_parity.CONNECTIONS`) the
    organization has before the run: the provider actions name them."""

    def person(self) -> dict[str, Any]:
        person = copy.deepcopy(ADA)
        person.update(copy.deepcopy(self.contact))
        return person


_ALL_CONSENT = {"email": True, "sms": True, "whatsapp": True}

SAMPLES: dict[str, Sample] = {
    "integrations-b": Sample(
        connections=("jira", "buffer", "mailchimp", "intercom", "pipedrive", "close", "asana", "monday")
    ),
    "email-no-consent": Sample(contact={"consent": {"email": False, "sms": False, "whatsapp": True}}),
    "email-no-address": Sample(contact={"email": ""}),
    "whatsapp-no-phone": Sample(contact={"phone": ""}),
    "sms-normalised-number": Sample(
        contact={"phone": "+234 801-234-5678", "consent": _ALL_CONSENT}, data={"code": "4711"}
    ),
    "sms-invalid-phone": Sample(contact={"phone": "08012345678", "consent": _ALL_CONSENT}),
    "switch-named": Sample(contact={"consent": _ALL_CONSENT}),
    "wait-for-event-arrives": Sample(outcomes={"clicked": "event"}),
    "wait-until-met-later": Sample(contact={"consent": _ALL_CONSENT}, outcomes={"vip_wait": "met"}),
    "random-split-b": Sample(contact={"id": "c_bob", "firstName": "Bob"}),
    "loop-over-items": Sample(
        data={
            "items": [
                {"sku": "kettle", "price": 30},
                {"sku": "espresso-machine", "price": 400},
                {"sku": "mug", "price": 8},
                {"sku": "grinder", "price": 120},
            ]
        }
    ),
    "nested": Sample(outcomes={"late_click": "event"}),
    "conversations": Sample(data={"conversation_id": "cv_42"}),
    "integrations": Sample(connections=("stripe", "shopify", "google", "salesforce", "hubspot")),
}


def sample(name: str) -> Sample:
    """The sample of workflow ``name`` (the default one when it lists no changes)."""
    return SAMPLES.get(name, Sample())
