"""Fixtures for the pure workflow logic: the onboarding example and a small workflow builder."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from beez.api.workflow.v1.workflow_pb2 import Workflow
from beez.workflow.model import workflow_from_json
from tests.support.samples import ONBOARDING


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
