"""Each rendered container's environment starts its process in production mode.

The manifests name settings; the services check them at start (mutual TLS files, the database's
TLS, the executor's key ring...) and refuse to start on a missing one. This test loads each
container's settings class from exactly the environment the prod overlay gives it, with the
files it names written where its volumes would mount them (real certificates from a throwaway
CA), so a manifest that lacks what a service requires fails here and not in a cluster.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Any

import pytest
from pydantic_settings import BaseSettings

from .kustomize import build
from .production import GATEWAY, SECRET_VALUE, SERVICES, Container, containers

tls = pytest.importorskip("beez.kit.tls", reason="the production checks at start come with beez.kit.tls")
fernet = pytest.importorskip("cryptography.fernet")

PROD = Path(__file__).resolve().parents[2] / "deploy" / "k8s" / "overlays" / "prod"
MOUNTS = "/etc/beez/"
WORKLOADS = [("Deployment", c) for c in (*SERVICES, GATEWAY)] + [("Job", f"{s}-migrate") for s in SERVICES]


def settings_class(component: str) -> type[BaseSettings]:
    if component == GATEWAY:
        from beez.gateway.config import GatewaySettings

        return GatewaySettings
    config = importlib.import_module(f"beez.{component}.config")
    found: type[BaseSettings] = next(
        value
        for name, value in vars(config).items()
        if name.endswith("Settings") and isinstance(value, type) and value.__module__ == config.__name__
    )
    return found


def mounted_file(container: Container, path: str, root: Path, pki: dict[str, Any]) -> Path:
    """Writes what the Secret or ConfigMap mounted at ``path`` would hold, under ``root``."""
    target = root / container.component / path.removeprefix(MOUNTS)
    target.parent.mkdir(parents=True, exist_ok=True)
    files = pki[container.component]
    directory, name = target.parent.name, target.name
    if directory == "tls":
        source = {"tls.crt": files.cert_file, "tls.key": files.key_file, "ca.crt": files.ca_file}[name]
        target.write_bytes(Path(source).read_bytes())
    elif directory == "postgres-ca":
        target.write_bytes(Path(files.ca_file).read_bytes())
    elif name == "url":
        role = "beez_migrator" if directory == "migration-database" else f"beez_{container.component}"
        target.write_text(f"postgresql://{role}:s3cret@db.internal:5432/beez\n")
    elif name == "password":
        target.write_text("s3cret\n")
    elif name == "keys":
        target.write_text(f"k1:{fernet.Fernet.generate_key().decode()}\n")
    else:
        raise AssertionError(f"{container.where}: no test content for {path}")
    return target


@pytest.mark.parametrize(("kind", "name"), WORKLOADS)
def test_each_container_loads_its_settings_in_production_mode(
    kind: str, name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (container,) = [
        c
        for c in containers(build(PROD))
        if (c.workload["kind"], c.workload["metadata"]["name"]) == (kind, name)
    ]
    pki = tls.write_bundle(tmp_path / "pki", [*SERVICES, GATEWAY])
    for variable in list(os.environ):
        if variable.startswith("BEEZ_") or variable in ("DATABASE_URL", "NATS_URL"):
            monkeypatch.delenv(variable)
    for variable, value in container.env.items():
        assert value is not SECRET_VALUE, f"{container.where}: {variable} from a Secret: mount it as a file"
        text = str(value)
        if text.startswith(MOUNTS):
            text = str(mounted_file(container, text, tmp_path, pki))
        monkeypatch.setenv(variable, text)
    settings: Any = settings_class(container.component)()
    assert settings.local_mode is False
    database_tls = getattr(settings, "database_tls", None)
    if database_tls is not None:
        database_tls()  # raises below verify-full in production
