"""``beez up --tls``'s pieces that need no running stack: the token it prints is one the gateway
it configures accepts, the summary prints it whole and once, and ``beez status --tls`` without
certificates says where they come from. ``tests/e2e/test_beez_up_tls.py`` runs the real thing."""

from __future__ import annotations

import datetime
from pathlib import Path

import jwt
import pytest
from typer.testing import CliRunner

from beez.api.permissions import Role
from beez.cli import secure
from beez.cli.components import components
from beez.cli.health import Health
from beez.cli.main import _print_summary, app
from beez.cli.stack import Stack
from beez.gateway.auth_config import authenticator_from_settings
from beez.gateway.authn import BearerTokens
from beez.gateway.config import GatewaySettings
from beez.gateway.errors import GatewayError
from beez.kit.tls import write_bundle


def gateway_of(state: Path) -> BearerTokens:
    """The authenticator of the gateway ``beez up --tls`` starts, from the environment it gives it
    (its JWT settings, and the certificate production mode needs)."""
    env = {
        **secure.gateway_env(state),
        **write_bundle(state / "tls", ["gateway"])["gateway"].env(),
        "BEEZ_LOCAL_MODE": "false",
    }
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        settings = GatewaySettings()
    authenticator = authenticator_from_settings(settings)
    assert isinstance(authenticator, BearerTokens)
    return authenticator


async def test_the_printed_token_is_an_admin_of_the_demo_org_the_gateway_accepts(tmp_path: Path) -> None:
    token, expires = secure.demo_token(tmp_path)
    identity = await gateway_of(tmp_path).authenticate({"Authorization": f"Bearer {token}"})
    assert (identity.org_id, identity.user_id) == ("org_demo", "u_demo")
    assert Role.ADMIN in identity.roles
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == secure.TOKEN_HOURS * 3600
    assert expires - datetime.datetime.now(datetime.UTC) > datetime.timedelta(hours=11)


async def test_the_secret_is_kept_private_and_across_restarts_and_signs_nothing_else(tmp_path: Path) -> None:
    secret = secure.hs256_secret(tmp_path)
    assert secret.stat().st_mode & 0o077 == 0
    token, _ = secure.demo_token(tmp_path)
    assert secure.hs256_secret(tmp_path).read_bytes() == secret.read_bytes()  # a restart keeps it
    assert (await gateway_of(tmp_path).authenticate({"Authorization": f"Bearer {token}"})).org_id
    other = tmp_path / "another-state"
    other.mkdir()
    with pytest.raises(GatewayError) as refused:
        await gateway_of(other).authenticate({"Authorization": f"Bearer {token}"})
    assert refused.value.http_status == 401 or refused.value.code.name == "UNAUTHENTICATED"


def test_the_summary_of_a_tls_stack_says_how_to_call_it_and_prints_the_token_once_unbroken(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    parts = components(50061, 8090)
    stack = Stack(state_dir=tmp_path, components=parts, database_url="postgresql://db/x", tls=True)
    _print_summary(stack, [Health(c, "SERVING") for c in parts], 1.0)
    out = capsys.readouterr().out
    dev = secure.holder_files(tmp_path, secure.DEVELOPER)
    for path in (dev.ca_file, dev.cert_file, dev.key_file):
        assert str(path) in out
    assert "grpcs://127.0.0.1:50061" in out
    tokens = [line.split("BEEZ_TOKEN=", 1)[1] for line in out.splitlines() if "BEEZ_TOKEN=" in line]
    assert len(tokens) == 1
    assert jwt.decode(tokens[0], options={"verify_signature": False})["org_id"] == "org_demo"


def test_a_local_stack_prints_no_token(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    parts = components(50061, 8090)
    _print_summary(Stack(state_dir=tmp_path, components=parts), [Health(c, "SERVING") for c in parts], 1.0)
    out = capsys.readouterr().out
    assert "BEEZ_TOKEN" not in out and "grpcs://" not in out
    assert not (tmp_path / secure.SECRET_FILE).exists()


def test_status_tls_without_certificates_names_where_they_come_from(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["status", "--tls", "--state-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "beez up --tls" in result.output
