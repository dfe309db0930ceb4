"""The engine's logic on an in-memory store: each test runs in milliseconds, with no servers."""

from __future__ import annotations

import pytest

from tests.executor.unit.harness import Harness


@pytest.fixture(params=["once", "rehearsed"])
def harness(request: pytest.FixtureRequest) -> Harness:
    """The harness, and again with every transaction first rolled back and run anew, as after a
    deadlock: each test then also proves the engine's units of work can run again from scratch."""
    return Harness(rehearse=request.param == "rehearsed")
