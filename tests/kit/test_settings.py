from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from beez.kit.settings import ServiceSettings, load_settings
from beez.kit.tls import write_bundle


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


def test_a_plaintext_local_mode_service_listens_on_loopback_unless_told_otherwise(tmp_path: Path) -> None:
    """Plaintext local mode trusts any caller's x-org-id: it is not reachable from other machines
    unless BEEZ_GRPC_HOST says so. With certificates, or in production, every interface."""
    files = write_bundle(tmp_path, ["trigger"])["trigger"]
    tls: dict[str, Any] = {
        "tls_cert_file": str(files.cert_file),
        "tls_key_file": str(files.key_file),
        "tls_ca_file": str(files.ca_file),
    }
    assert ServiceSettings(local_mode=True).listen_host == "127.0.0.1"
    assert ServiceSettings(local_mode=True, grpc_host="0.0.0.0").listen_host == "0.0.0.0"
    assert ServiceSettings(local_mode=True, **tls).listen_host == "0.0.0.0"
    assert ServiceSettings(local_mode=False, **tls).listen_host == "0.0.0.0"
    assert ServiceSettings(local_mode=False, grpc_host="10.0.0.5", **tls).listen_host == "10.0.0.5"
