"""The batcher groups concurrent submissions per key and isolates a failing item."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from beez.kit.batching import Batcher


class Recorder:
    def __init__(self, poison: set[int] | None = None, delay: float = 0.0) -> None:
        self.calls: list[tuple[str, list[int]]] = []
        self.poison = poison or set()
        self.delay = delay
        self.active: dict[str, int] = {}
        self.overlap = False

    async def process(self, key: str, items: Sequence[int]) -> list[int]:
        self.active[key] = self.active.get(key, 0) + 1
        self.overlap = self.overlap or self.active[key] > 1
        try:
            self.calls.append((key, list(items)))
            await asyncio.sleep(self.delay)
            if self.poison.intersection(items):
                raise ValueError(f"poison in {list(items)}")
            return [item * 10 for item in items]
        finally:
            self.active[key] -= 1


async def test_concurrent_submissions_share_one_batch_per_key() -> None:
    recorder = Recorder()
    batcher: Batcher[str, int, int] = Batcher(recorder.process, max_batch=100)
    results = await asyncio.gather(*(batcher.submit("a" if i % 2 else "b", i) for i in range(10)))
    assert results == [i * 10 for i in range(10)]
    assert sorted(key for key, _ in recorder.calls) == ["a", "b"]


async def test_batches_respect_max_and_never_overlap_per_key() -> None:
    recorder = Recorder(delay=0.01)
    batcher: Batcher[str, int, int] = Batcher(recorder.process, max_batch=3)
    results = await asyncio.gather(*(batcher.submit("k", i) for i in range(10)))
    assert results == [i * 10 for i in range(10)]
    assert all(len(items) <= 3 for _, items in recorder.calls)
    assert [item for _, items in recorder.calls for item in items] == list(range(10))
    assert not recorder.overlap


async def test_a_failing_item_fails_alone() -> None:
    recorder = Recorder(poison={4})
    batcher: Batcher[str, int, int] = Batcher(recorder.process, max_batch=100)
    outcomes = await asyncio.gather(*(batcher.submit("k", i) for i in range(6)), return_exceptions=True)
    assert isinstance(outcomes[4], ValueError)
    assert [o for i, o in enumerate(outcomes) if i != 4] == [0, 10, 20, 30, 50]
    assert ("k", [4]) in recorder.calls  # retried alone


async def test_wrong_number_of_outcomes_is_an_error_for_every_item() -> None:
    async def short(key: str, items: Sequence[int]) -> list[int]:
        return [1]

    batcher: Batcher[str, int, int] = Batcher(short, max_batch=10)
    outcomes = await asyncio.gather(*(batcher.submit("k", i) for i in range(3)), return_exceptions=True)
    assert all(isinstance(o, RuntimeError) for o in outcomes)


async def test_max_batch_must_be_positive() -> None:
    async def process(key: str, items: Sequence[int]) -> list[int]:
        return list(items)

    with pytest.raises(ValueError, match="max_batch"):
        Batcher(process, max_batch=0)


async def test_linger_gathers_a_trickle_into_one_batch() -> None:
    recorder = Recorder()
    batcher: Batcher[str, int, int] = Batcher(recorder.process, max_batch=100, linger=0.05)

    async def trickle(i: int) -> int:
        await asyncio.sleep(i * 0.005)
        return await batcher.submit("k", i)

    assert await asyncio.gather(*(trickle(i) for i in range(5))) == [0, 10, 20, 30, 40]
    assert recorder.calls == [("k", [0, 1, 2, 3, 4])]


async def test_without_linger_a_trickle_goes_one_by_one() -> None:
    recorder = Recorder()
    batcher: Batcher[str, int, int] = Batcher(recorder.process, max_batch=100)

    async def trickle(i: int) -> int:
        await asyncio.sleep(i * 0.02)
        return await batcher.submit("k", i)

    await asyncio.gather(*(trickle(i) for i in range(3)))
    assert recorder.calls == [("k", [0]), ("k", [1]), ("k", [2])]


async def test_a_long_linger_ends_as_soon_as_a_batch_is_full() -> None:
    recorder = Recorder()
    batcher: Batcher[str, int, int] = Batcher(recorder.process, max_batch=4, linger=30.0)

    async def trickle(i: int) -> int:
        await asyncio.sleep(i * 0.002)
        return await batcher.submit("k", i)

    results = await asyncio.wait_for(asyncio.gather(*(trickle(i) for i in range(4))), timeout=2)
    assert results == [0, 10, 20, 30]
    assert recorder.calls == [("k", [0, 1, 2, 3])]
