"""The engine's logic on an in-memory store: each test runs in milliseconds, with no servers."""

from __future__ import annotations

import pytest

from tests.executor.unit.harness import Harness


@pytest.fixture
def harness() -> Harness:
    return Harness()
