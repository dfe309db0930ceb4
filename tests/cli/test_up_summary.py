"""``beez up``'s summary table, as printed when its output is not a terminal."""

from __future__ import annotations

from pathlib import Path

import pytest

from beez.cli.components import components
from beez.cli.health import Health
from beez.cli.main import _print_summary
from beez.cli.stack import Stack


def test_summary_off_a_terminal_prints_addresses_and_log_paths_whole(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "a-state-directory-deep-enough-that-80-columns-would-cut-every-log-path"
    database_url = "postgresql+psycopg://postgres@127.0.0.1:54329/beez_database_with_a_long_name"
    nats_url = "nats://127.0.0.1:42229"
    parts = components(50061, 8090)
    stack = Stack(state_dir=state, components=parts, database_url=database_url, nats_url=nats_url)

    _print_summary(stack, [Health(c, "SERVING") for c in parts], 1.0)

    out = capsys.readouterr().out
    lines = out.splitlines()
    assert any(database_url in line for line in lines), out
    assert any(nats_url in line for line in lines), out
    for part in parts:
        assert any(str(state / "logs" / f"{part.name}.log") in line for line in lines), out
        scheme = "http" if part.http else "grpc"
        assert any(f"{scheme}://127.0.0.1:{part.port}" in line for line in lines), out
    assert max(len(line) for line in lines) > 80


def test_summary_never_prints_a_password_from_a_url(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    parts = components(50061, 8090)
    stack = Stack(
        state_dir=tmp_path,
        components=parts,
        database_url="postgresql+psycopg://beez:db-secret@db:5432/beez",
        nats_url="nats://trigger:nats-secret@nats:4222",
    )
    _print_summary(stack, [Health(c, "SERVING") for c in parts], 1.0)
    out = capsys.readouterr().out
    assert "db-secret" not in out and "nats-secret" not in out
    assert "beez:***@db:5432" in out and "trigger:***@nats:4222" in out
