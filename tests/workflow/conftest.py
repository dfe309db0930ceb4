"""Fixtures for the pure workflow logic: the onboarding example and a small workflow builder."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from beez.api.workflow.v1.workflow_pb2 import Workflow
from beez.workflow.model import workflow_from_json

# The example of docs workflow-format.md, verbatim.
ONBOARDING: dict[str, Any] = {
    "name": "New contact onboarding",
    "description": "Welcome, nudge on WhatsApp, branch on the onboarding click",
    "trigger": {"type": "list_joined", "filters": {"list": "New Customers"}},
    "conditions": [{"field": "contact.consent.email", "operator": "equals", "value": True}],
    "actions": [
        {
            "id": "welcome",
            "type": "send_email",
            "config": {"template": "welcome", "subject": "Welcome {{ contact.first_name }}!"},
        },
        {"type": "wait", "config": {"value": 1, "unit": "hours"}},
        {
            "type": "send_whatsapp",
            "config": {
                "body": "Your onboarding starts here: https://app.example.com/start?c={{ contact.id }}"
            },
        },
        {
            "type": "wait_for_event",
            "config": {
                "event": "link.clicked",
                "filters": {"link": "onboarding"},
                "timeout": {"value": 24, "unit": "hours"},
            },
            "branches": [
                {
                    "name": "event",
                    "actions": [
                        {"type": "add_tag", "config": {"tag": "Engaged"}},
                        {"type": "assign_user", "config": {"team": "Success Team"}},
                    ],
                },
                {
                    "name": "timeout",
                    "actions": [
                        {"type": "send_email", "config": {"template": "reminder"}},
                        {"type": "wait", "config": {"value": 48, "unit": "hours"}},
                        {
                            "type": "create_task",
                            "config": {"title": "Follow up with {{ contact.first_name }}"},
                        },
                    ],
                },
            ],
        },
    ],
    "goal": {"event": "purchase.made"},
    "settings": {"runOnce": True, "timezone": "Europe/London"},
}


@pytest.fixture
def onboarding_json() -> dict[str, Any]:
    """The onboarding example as decoded JSON (a fresh copy per test)."""
    return copy.deepcopy(ONBOARDING)


@pytest.fixture
def onboarding(onboarding_json: dict[str, Any]) -> Workflow:
    """The onboarding example, parsed."""
    return workflow_from_json(onboarding_json)


Build = Callable[..., Workflow]


@pytest.fixture
def build() -> Build:
    """Builds a valid minimal workflow around the given actions; keyword args override the top."""

    def make(*actions: dict[str, Any], **top: Any) -> Workflow:
        data: dict[str, Any] = {
            "name": "test",
            "trigger": {"type": "contact_created"},
            "actions": list(actions) or [{"type": "add_tag", "config": {"tag": "x"}}],
        }
        data.update(top)
        return workflow_from_json(data)

    return make
