from __future__ import annotations

import pytest

from beez.kit.settings import ServiceSettings, load_settings


def test_settings_read_the_beez_prefix_and_plain_database_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BEEZ_GRPC_PORT", "6000")
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@h:1/d")
    monkeypatch.delenv("BEEZ_DATABASE_URL", raising=False)
    settings = load_settings(ServiceSettings)
    assert settings.grpc_port == 6000
    assert settings.database_url == "postgresql://u@h:1/d"


def test_bad_settings_fail_fast_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BEEZ_GRPC_PORT", "not-a-port")
    monkeypatch.setenv("BEEZ_LOG_LEVEL", "LOUD")
    with pytest.raises(SystemExit) as exit_info:
        load_settings(ServiceSettings)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "BEEZ_GRPC_PORT" in err
    assert "BEEZ_LOG_LEVEL" in err
    assert "not-a-port" in err
