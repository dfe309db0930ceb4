"""The chaos suite: ``@pytest.mark.chaos`` scenarios run only under ``BEEZ_CHAOS=1`` (``make chaos``).

``make test`` keeps the quick scenarios that share one stack (executor kill -9, timers after a
full stop, oversized messages, duplicate events) and the lost-timers outage; the scenarios that
each start a stack of their own and run for a minute or more (bulk re-drive, noisy neighbour,
trigger kill -9, outages under load) are marked and run in ``make chaos`` with the long ones, to
keep ``make test`` within its 10-minute budget.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest

from tests.chaos.harness import ChaosStack, chaos_stack


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "chaos: a long fault-injection scenario, run by `make chaos` (BEEZ_CHAOS=1)"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("BEEZ_CHAOS") == "1":
        return
    skip = pytest.mark.skip(reason="long chaos scenario: run `make chaos` (BEEZ_CHAOS=1)")
    for item in items:
        if item.get_closest_marker("chaos") is not None:
            item.add_marker(skip)


@pytest.fixture(scope="session")
async def stack() -> AsyncIterator[ChaosStack]:
    """One stack shared by this package's scenarios on a worker, torn down at the end of the session;
    each scenario has its own organization. Session scope, not package: under ``--dist loadfile``
    a worker runs other packages' files between these, and a package fixture would be torn down
    and started again (about 40 s each time)."""
    async with chaos_stack() as started:
        yield started
