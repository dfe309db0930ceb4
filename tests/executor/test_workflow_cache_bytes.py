"""The executor's workflow cache is bounded by bytes: 512 workflows of 1 MiB would be 512 MiB."""

from __future__ import annotations

from beez.api.workflow.v1.workflow_pb2 import Workflow
from beez.executor.engine.workflows import Workflows


def test_large_workflows_are_evicted_by_bytes() -> None:
    workflows = Workflows(max_bytes=300_000)
    for i in range(10):
        workflows.remember(f"digest{i}", Workflow(name="w" * 100_000))
    assert workflows.cached_bytes <= 300_000
    assert sum(1 for i in range(10) if workflows.is_cached(f"digest{i}")) == 2
