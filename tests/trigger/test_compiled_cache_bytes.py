"""The trigger's compiled-trigger cache is bounded by the bytes of its workflows, not only by count."""

from __future__ import annotations

from beez.api.workflow.v1.workflow_pb2 import Workflow
from beez.trigger.domain.index import CompiledTriggers


def _workflow(name_bytes: int) -> bytes:
    workflow = Workflow()
    workflow.name = "w" * name_bytes
    return workflow.SerializeToString()


def test_large_workflows_are_evicted_by_bytes() -> None:
    cache = CompiledTriggers(1000, max_bytes=300_000)
    for i in range(10):
        cache.get(f"a{i}", 1, _workflow(100_000))
    assert len(cache) == 2
    assert cache.bytes <= 300_000
