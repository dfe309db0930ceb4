"""Round-based background loops: drain a backlog at once, pause when idle, survive failures."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time

from beez.kit.loops import repeat_rounds


async def run_for(seconds: float, **kwargs: object) -> None:
    task = asyncio.create_task(repeat_rounds(**kwargs))  # type: ignore[arg-type]
    await asyncio.sleep(seconds)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def test_full_rounds_follow_each_other_at_once_and_idle_rounds_pause() -> None:
    backlog = [10, 10, 10, 3, 0, 0]
    times: list[float] = []

    async def round_() -> int:
        times.append(time.monotonic())
        return backlog.pop(0) if backlog else 0

    await run_for(0.5, round_=round_, interval=30.0, full=10, what="test")
    assert len(times) == 4  # three full rounds at once, then the partial one, then a long pause


async def test_a_failing_round_is_retried_with_growing_pauses_up_to_the_ceiling() -> None:
    times: list[float] = []

    async def round_() -> int:
        times.append(time.monotonic())
        raise RuntimeError("database away")

    await run_for(0.5, round_=round_, interval=0.05, full=10, what="test", max_pause=0.15)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert 2 <= len(gaps) <= 4  # paused between failures, never a tight loop
    assert gaps[0] >= 0.09 and all(g >= 0.14 for g in gaps[1:])  # doubled, then held at the ceiling
