from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from beez.kit.clock import FileOffsetClock, ManualClock, SystemClock


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


def test_file_offset_clock_follows_the_file(tmp_path: Path) -> None:
    path = tmp_path / "offset"
    clock = FileOffsetClock(str(path), refresh_s=0)
    assert abs((clock.now() - SystemClock().now()).total_seconds()) < 1
    path.write_text("172800")
    assert abs((clock.now() - SystemClock().now()) - timedelta(days=2)) < timedelta(seconds=1)
    path.write_text("garbage")
    assert abs((clock.now() - SystemClock().now()).total_seconds()) < 1
