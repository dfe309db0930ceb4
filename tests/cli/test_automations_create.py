"""``beez automations create``: active unless --inactive, as the service decides when unsaid."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from beez.api.automation.v1 import automation_pb2
from beez.cli import commands
from beez.cli.client import Target
from beez.cli.main import app

ONBOARDING = Path(__file__).resolve().parents[2] / "examples" / "onboarding.json"


class RecordingChannel:
    """Stands in for a gRPC channel: records each request and answers an empty response."""

    def __init__(self) -> None:
        self.requests: list[Any] = []

    def unary_unary(self, path: str, *, response_deserializer: Any, **_: Any) -> Any:
        async def call(request: Any, **__: Any) -> Any:
            self.requests.append(request)
            return response_deserializer(b"")

        return call


@pytest.fixture
def channel(monkeypatch: pytest.MonkeyPatch) -> RecordingChannel:
    recording = RecordingChannel()

    async def call(target: Target, service: str, fn: Callable[[Any], Awaitable[Any]]) -> Any:
        return await fn(recording)

    monkeypatch.setattr(commands, "call", call)
    return recording


@pytest.mark.parametrize(
    ("flags", "has_active", "active"),
    [([], False, False), (["--inactive"], True, False), (["--active"], True, True)],
)
def test_create_sends_active_only_when_a_flag_says_so(
    channel: RecordingChannel, flags: list[str], has_active: bool, active: bool
) -> None:
    args = ["automations", "create", "-f", str(ONBOARDING), *flags]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    [request] = channel.requests
    assert isinstance(request, automation_pb2.CreateAutomationRequest)
    assert request.automation.name == "New contact onboarding"
    assert request.HasField("active") is has_active
    assert request.active is active
