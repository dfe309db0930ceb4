"""Services run on the event loop their settings name."""

from __future__ import annotations

import asyncio

import pytest
import uvloop

from beez.kit.runtime import run
from beez.kit.settings import ServiceSettings


def loop_kind(event_loop: str) -> type[asyncio.AbstractEventLoop]:
    seen: list[type[asyncio.AbstractEventLoop]] = []

    async def main() -> None:
        seen.append(type(asyncio.get_running_loop()))

    run(main(), event_loop)
    return seen[0]


def test_uvloop_is_the_default_event_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BEEZ_EVENT_LOOP", raising=False)
    assert ServiceSettings().event_loop == "uvloop"
    assert loop_kind("uvloop") is uvloop.Loop


def test_the_standard_event_loop_can_be_chosen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BEEZ_EVENT_LOOP", "asyncio")
    assert ServiceSettings().event_loop == "asyncio"
    assert loop_kind("asyncio") is not uvloop.Loop
    assert issubclass(loop_kind("asyncio"), asyncio.BaseEventLoop)
