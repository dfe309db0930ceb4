"""Every secret setting ``X`` also reads ``X_FILE`` (a mounted Kubernetes Secret), one mechanism
for every settings class; a bad one stops the process without echoing the secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from beez.executor.config import ExecutorSettings
from beez.kit.secrets import secret_fields
from beez.kit.settings import ServiceSettings, load_settings


def test_a_secret_setting_reads_its_file_trailing_newline_dropped(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "url").write_text("postgresql://beez_executor:pw@db/beez\n")
    monkeypatch.delenv("BEEZ_DATABASE_URL", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("BEEZ_DATABASE_URL_FILE", str(tmp_path / "url"))
    assert load_settings(ServiceSettings).database_url == "postgresql://beez_executor:pw@db/beez"


def test_nested_secrets_read_their_files_next_to_plain_nested_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in ("smtp_password", "sms_auth_token", "whatsapp_token", "slack_default_webhook_url"):
        (tmp_path / name).write_text(f"{name}-value")
        monkeypatch.setenv(f"BEEZ_ACTIONS__{name.upper()}_FILE", str(tmp_path / name))
    monkeypatch.setenv("BEEZ_ACTIONS__SMTP_PORT", "2525")
    actions = load_settings(ExecutorSettings).actions
    assert actions.smtp_port == 2525
    assert actions.smtp_password.get_secret_value() == "smtp_password-value"
    assert actions.sms_auth_token.get_secret_value() == "sms_auth_token-value"
    assert actions.whatsapp_token.get_secret_value() == "whatsapp_token-value"
    assert actions.slack_default_webhook_url.get_secret_value() == "slack_default_webhook_url-value"


def test_every_secret_of_the_executor_is_covered() -> None:
    assert {path[-1] for path in secret_fields(ExecutorSettings)} >= {
        "database_url",
        "migration_database_url",
        "smtp_password",
        "whatsapp_token",
        "sms_auth_token",
        "slack_default_webhook_url",
    }


def test_the_variable_itself_wins_over_its_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "pw").write_text("from-file")
    monkeypatch.setenv("BEEZ_ACTIONS__SMTP_PASSWORD_FILE", str(tmp_path / "pw"))
    monkeypatch.setenv("BEEZ_ACTIONS__SMTP_PASSWORD", "from-env")
    assert load_settings(ExecutorSettings).actions.smtp_password.get_secret_value() == "from-env"


def test_an_unreadable_file_stops_the_process_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("BEEZ_ACTIONS__SMTP_PASSWORD_FILE", str(tmp_path / "missing"))
    with pytest.raises(SystemExit) as stopped:
        load_settings(ExecutorSettings)
    assert stopped.value.code == 2
    assert "BEEZ_ACTIONS__SMTP_PASSWORD_FILE: cannot read" in capsys.readouterr().err


def test_a_configuration_error_never_echoes_a_secret(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BEEZ_ACTIONS", '{"sms_auth_token": ["canary-7f3a"], "smtp_port": "x"}')
    with pytest.raises(SystemExit):
        load_settings(ExecutorSettings)
    err = capsys.readouterr().err
    assert "BEEZ_ACTIONS__SMS_AUTH_TOKEN" in err and "hidden: a secret" in err
    assert "canary-7f3a" not in err
    assert "BEEZ_ACTIONS__SMTP_PORT" in err and "'x'" in err  # plain settings still show what they got
