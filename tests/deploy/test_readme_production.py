"""The README's production example is complete: each component it shows starts in production mode
from exactly the settings it lists.

The ``dotenv`` block of the README's "Production" section names, per component, the settings
production needs (certificates, NATS credentials, the database, the identity provider). Here each
component's settings are loaded from those lines alone, with the files they name written where
the example mounts them, and held to what the process checks at start: so an example that lacks
a required setting, or names one that does not exist, fails here rather than in a reader's cluster.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

from beez.gateway.auth_config import authenticator_from_settings
from beez.gateway.authn import BearerTokens
from beez.gateway.config import GatewaySettings
from beez.kit.runtime import nats_credentials
from beez.kit.tls import write_bundle
from beez.trigger.config import TriggerSettings

README = Path(__file__).resolve().parents[2] / "README.md"
MOUNTS = "/etc/beez/"
SETTINGS: dict[str, type[Any]] = {"trigger": TriggerSettings, "gateway": GatewaySettings}


def production_example() -> dict[str, dict[str, str]]:
    """The example's settings by component (``# <component>`` starts each one's lines)."""
    section = README.read_text().split("\n## Production\n", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```dotenv\n(.*?)```", section, re.DOTALL)
    assert block is not None, "README.md's Production section has no dotenv example"
    examples: dict[str, dict[str, str]] = {}
    component = ""
    for line in block[1].splitlines():
        if heading := re.fullmatch(r"# (\w+)", line.strip()):
            component = heading[1]
            examples[component] = {}
        elif line.strip():
            name, _, value = line.partition("=")
            examples[component][name.strip()] = value.split("#", 1)[0].strip()
    return examples


def test_the_example_shows_a_service_and_the_gateway() -> None:
    assert set(production_example()) == set(SETTINGS)


def mounted(component: str, path: str, root: Path, pki: dict[str, Any]) -> str:
    """Writes what the example mounts at ``path`` under ``root``; returns where."""
    target = root / component / path.removeprefix(MOUNTS)
    target.parent.mkdir(parents=True, exist_ok=True)
    files = pki[component]
    if target.parent.name == "tls":
        source = {"tls.crt": files.cert_file, "tls.key": files.key_file, "ca.crt": files.ca_file}[target.name]
        target.write_bytes(Path(source).read_bytes())
    elif target.parent.name == "postgres-ca":
        target.write_bytes(Path(files.ca_file).read_bytes())
    elif target.name == "url":
        target.write_text(f"postgresql://beez_{component}:s3cret@db.internal:5432/beez\n")
    elif target.name == "password":
        target.write_text("s3cret\n")
    else:
        raise AssertionError(f"README.md's {component} example: no test content for {path}")
    return str(target)


@pytest.mark.parametrize("component", sorted(SETTINGS))
def test_each_example_starts_in_production_mode_from_its_lines_alone(
    component: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    example = production_example()[component]
    pki = write_bundle(tmp_path / "pki", list(SETTINGS))
    for variable in list(os.environ):
        if variable.startswith("BEEZ_") or variable in ("DATABASE_URL", "NATS_URL"):
            monkeypatch.delenv(variable)
    for variable, value in example.items():
        assert variable.startswith("BEEZ_"), f"README.md's {component} example: {variable}"
        monkeypatch.setenv(
            variable, mounted(component, value, tmp_path, pki) if value.startswith(MOUNTS) else value
        )

    settings = SETTINGS[component]()
    fields = type(settings).model_fields
    for variable in example:
        name = variable.removeprefix("BEEZ_").lower()
        assert name in fields or name.removesuffix("_file") in fields, f"{variable} is not a setting"
    assert settings.local_mode is False
    assert settings.tls_files() is not None
    # its database, as its own role, verified (the gateway's holds its rate buckets)
    assert settings.database_url.startswith(f"postgresql://beez_{component}:")
    assert settings.database_tls() == {
        "sslmode": "verify-full",
        "sslrootcert": example["BEEZ_DATABASE_SSLROOTCERT"].replace(MOUNTS, f"{tmp_path}/{component}/"),
    }
    if component == "gateway":
        assert isinstance(authenticator_from_settings(settings), BearerTokens)
        assert settings.cors_origin_list
    else:
        credentials = nats_credentials(settings)
        assert (credentials.user, credentials.tls(settings.nats_url)) == (component, True)
