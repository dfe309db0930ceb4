from __future__ import annotations

import asyncio
from datetime import timedelta

from beez.kit.clock import ManualClock, SystemClock


async def test_manual_clock_sleepers_wake_only_when_time_is_moved_past_them() -> None:
    clock = ManualClock()
    start = clock.now()
    sleeper = asyncio.create_task(clock.sleep(48 * 3600))
    await asyncio.sleep(0.01)
    clock.advance(timedelta(hours=47))
    await asyncio.sleep(0.01)
    assert not sleeper.done()
    clock.advance(timedelta(hours=1))
    await asyncio.wait_for(sleeper, 1)
    assert clock.now() - start == timedelta(hours=48)


def test_system_clock_is_timezone_aware() -> None:
    assert SystemClock().now().tzinfo is not None
