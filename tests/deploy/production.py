"""What production mode means for rendered manifests, as one check: :func:`violations`.

Every container's ``BEEZ_*`` environment is resolved the way the kubelet resolves it (literal
values, ConfigMap keys from the rendered ConfigMaps, ``envFrom``; a Secret's value is unknown
here), then held to the rules of production mode:

* no local mode (``BEEZ_LOCAL_MODE`` unset or false) and no ``BEEZ_OTLP_INSECURE``;
* each gRPC server (the five services) and the gateway has ``BEEZ_TLS_CERT_FILE``,
  ``BEEZ_TLS_KEY_FILE`` and ``BEEZ_TLS_CA_FILE``, files of its own Secret ``beez-<name>-tls``;
* each service names its NATS (``BEEZ_NATS_URL`` unset would mean ``nats://127.0.0.1:4222``),
  every NATS URL is ``tls://`` with no user or password in it, and each container that has one
  authenticates (a user with a password file, an nkey seed file or a ``.creds`` file, from a
  Secret) and verifies the server (``BEEZ_NATS_TLS_CA_FILE``);
* each container that reaches PostgreSQL uses ``sslmode=verify-full`` with a mounted root CA,
  no ``BEEZ_DATABASE_ALLOW_INSECURE``, and reads its URLs (which hold passwords) from Secret files;
* the gateway verifies JWTs: a JWKS (URL over https, or file), an issuer and an audience; and
  CORS names its origins (never ``*``).

A rule that does not hold yields one line naming the workload, the container and the setting.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

Object = dict[str, Any]

SERVICES = ("automation", "trigger", "executor", "beezora", "analytics")
GATEWAY = "gateway"
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob")
FALSE = frozenset({"", "0", "false", "f", "n", "no", "off"})
"""What pydantic reads as false; anything else in a boolean setting counts as on."""

SECRET_VALUE = object()
"""The value of a variable taken from a Secret: unknown when rendering, and never empty."""

TLS_FILES = {"BEEZ_TLS_CERT_FILE": "tls.crt", "BEEZ_TLS_KEY_FILE": "tls.key", "BEEZ_TLS_CA_FILE": "ca.crt"}
NATS_IDENTITIES = ("BEEZ_NATS_PASSWORD_FILE", "BEEZ_NATS_NKEY_SEED_FILE", "BEEZ_NATS_CREDS_FILE")
DATABASE_URLS = ("BEEZ_DATABASE_URL", "DATABASE_URL", "BEEZ_MIGRATION_DATABASE_URL")
PLAINTEXT_SECRETS = (
    *DATABASE_URLS,
    "BEEZ_NATS_PASSWORD",
    "BEEZ_JWT_HS256_SECRET",
    "BEEZ_SIGNING_KEYS",
)
"""Settings that hold a secret: given as a literal ``value`` they would sit in the manifest."""


@dataclass(frozen=True)
class Container:
    """One container of a rendered workload, with its environment resolved."""

    workload: Object
    spec: Mapping[str, Any]
    env: Mapping[str, object]

    @property
    def where(self) -> str:
        meta = self.workload["metadata"]
        return f"{self.workload['kind']}/{meta['name']} container {self.spec['name']}"

    @property
    def component(self) -> str:
        name: str = self.workload["metadata"]["name"]
        return name.removesuffix("-migrate")

    def text(self, name: str) -> str | None:
        """The variable's value when it is known text (a literal or a ConfigMap key)."""
        value = self.env.get(name)
        return value if isinstance(value, str) else None

    def on(self, name: str) -> bool:
        value = self.text(name)
        return value is not None and value.strip().lower() not in FALSE

    def volume_of(self, path: str) -> Mapping[str, Any] | None:
        """The volume mounted at the directory that holds ``path``, if any."""
        directory = posixpath.dirname(path)
        volumes = {volume["name"]: volume for volume in pod_spec(self.workload).get("volumes", [])}
        for mount in self.spec.get("volumeMounts", []):
            if mount["mountPath"].rstrip("/") == directory and not mount.get("subPath"):
                found: Mapping[str, Any] | None = volumes.get(mount["name"])
                return found
        return None

    def secret_of(self, name: str) -> str | None:
        """The Secret whose key the file in variable ``name`` is, when it is one."""
        path = self.text(name)
        volume = self.volume_of(path) if path else None
        if volume is None or "secret" not in volume:
            return None
        items = volume["secret"].get("items")
        if items and posixpath.basename(path or "") not in {item["path"] for item in items}:
            return None
        secret: str = volume["secret"]["secretName"]
        return secret

    def mounted(self, name: str) -> bool:
        """True when variable ``name`` names a file in a mounted Secret or ConfigMap."""
        path = self.text(name)
        volume = self.volume_of(path) if path else None
        return volume is not None and ("secret" in volume or "configMap" in volume)


def pod_spec(workload: Mapping[str, Any]) -> Mapping[str, Any]:
    template = (
        workload["spec"]["template"]
        if workload["kind"] != "CronJob"
        else workload["spec"]["jobTemplate"]["spec"]["template"]
    )
    spec: Mapping[str, Any] = template["spec"]
    return spec


def containers(objects: list[Object]) -> Iterator[Container]:
    """Every container (init containers too) of every workload, its environment resolved."""
    config_maps = {
        obj["metadata"]["name"]: obj.get("data", {}) for obj in objects if obj["kind"] == "ConfigMap"
    }
    for workload in objects:
        if workload["kind"] not in WORKLOAD_KINDS:
            continue
        spec = pod_spec(workload)
        for container in [*spec.get("initContainers", []), *spec["containers"]]:
            yield Container(workload, container, resolve_env(container, config_maps))


def resolve_env(
    container: Mapping[str, Any], config_maps: Mapping[str, Mapping[str, str]]
) -> dict[str, object]:
    env: dict[str, object] = {}
    for source in container.get("envFrom", []):
        prefix = source.get("prefix", "")
        if "configMapRef" in source:
            for key, value in config_maps.get(source["configMapRef"]["name"], {}).items():
                env[prefix + key] = value
    for item in container.get("env", []):
        ref = item.get("valueFrom", {})
        if "value" in item:
            env[item["name"]] = str(item["value"])
        elif "configMapKeyRef" in ref:
            key = ref["configMapKeyRef"]
            data = config_maps.get(key["name"], {})
            if key["key"] in data:
                env[item["name"]] = data[key["key"]]
        elif "secretKeyRef" in ref:
            env[item["name"]] = SECRET_VALUE
    return env


def violations(objects: list[Object]) -> list[str]:
    """Every way ``objects`` fall short of production mode; empty when they do not."""
    found: list[str] = []
    seen: set[str] = set()
    for container in containers(objects):
        seen.add(f"{container.workload['kind']}/{container.component}")
        found += _mode(container)
        found += _secrets_in_files(container)
        found += _database(container)
        found += _nats(container)
        server = container.workload["kind"] == "Deployment"
        if server and container.component in (*SERVICES, GATEWAY):
            found += _mutual_tls(container)
        if (
            server
            and container.component in SERVICES
            and not {"BEEZ_NATS_URL", "NATS_URL"} & set(container.env)
        ):
            found.append(f"{container.where}: no BEEZ_NATS_URL (the default is plaintext and anonymous)")
        if server and container.component == GATEWAY:
            found += _gateway(container)
    for component in (*SERVICES, GATEWAY):
        if f"Deployment/{component}" not in seen:
            found.append(f"Deployment/{component}: missing")
    return found


def _mode(c: Container) -> list[str]:
    found = []
    if c.on("BEEZ_LOCAL_MODE"):
        found.append(f"{c.where}: BEEZ_LOCAL_MODE={c.text('BEEZ_LOCAL_MODE')} (local mode)")
    if c.env.get("BEEZ_LOCAL_MODE") is SECRET_VALUE:
        found.append(f"{c.where}: BEEZ_LOCAL_MODE from a Secret cannot be checked")
    if c.on("BEEZ_OTLP_INSECURE"):
        found.append(f"{c.where}: BEEZ_OTLP_INSECURE (plaintext OTLP)")
    return found


def _secrets_in_files(c: Container) -> list[str]:
    found = []
    for name in PLAINTEXT_SECRETS:
        if c.text(name) is not None:
            found.append(
                f"{c.where}: {name} is written in the manifests; read it from a Secret ({name}_FILE)"
            )
    for name, value in c.env.items():
        if (
            name.startswith("BEEZ_")
            and name.endswith("_FILE")
            and value is not SECRET_VALUE
            and not c.mounted(name)
        ):
            found.append(f"{c.where}: {name}={value} is not a file of a mounted Secret or ConfigMap")
    return found


def _database(c: Container) -> list[str]:
    if not any(name in c.env or f"{name}_FILE" in c.env for name in DATABASE_URLS):
        return []
    found = []
    for name in DATABASE_URLS:
        if f"{name}_FILE" in c.env and c.secret_of(f"{name}_FILE") is None:
            found.append(f"{c.where}: {name}_FILE is not a file of a Secret")
    if c.text("BEEZ_DATABASE_SSLMODE") != "verify-full":
        found.append(f"{c.where}: BEEZ_DATABASE_SSLMODE={c.text('BEEZ_DATABASE_SSLMODE')}, not verify-full")
    if not c.mounted("BEEZ_DATABASE_SSLROOTCERT"):
        found.append(f"{c.where}: BEEZ_DATABASE_SSLROOTCERT is not a mounted CA file")
    if c.on("BEEZ_DATABASE_ALLOW_INSECURE"):
        found.append(f"{c.where}: BEEZ_DATABASE_ALLOW_INSECURE (no verify-full)")
    return found


def _nats(c: Container) -> list[str]:
    url = c.text("BEEZ_NATS_URL") or c.text("NATS_URL")
    if url is None:
        return []
    found = []
    for one in url.split(","):
        parts = urlsplit(one.strip())
        if parts.scheme != "tls":
            found.append(f"{c.where}: NATS URL {parts.scheme}://{parts.hostname} is not tls://")
        if "@" in parts.netloc:
            found.append(f"{c.where}: NATS URL for {parts.hostname} carries credentials")
    identities = [name for name in NATS_IDENTITIES if name in c.env]
    if not identities:
        found.append(f"{c.where}: no NATS credentials ({', '.join(NATS_IDENTITIES)})")
    for name in identities:
        if c.secret_of(name) is None:
            found.append(f"{c.where}: {name} is not a file of a Secret")
    if "BEEZ_NATS_PASSWORD_FILE" in c.env and not c.text("BEEZ_NATS_USER"):
        found.append(f"{c.where}: BEEZ_NATS_PASSWORD_FILE without BEEZ_NATS_USER")
    if not c.mounted("BEEZ_NATS_TLS_CA_FILE"):
        found.append(f"{c.where}: BEEZ_NATS_TLS_CA_FILE is not a mounted CA file")
    return found


def _mutual_tls(c: Container) -> list[str]:
    found = []
    own = f"beez-{c.component}-tls"
    for name, key in TLS_FILES.items():
        path = c.text(name)
        if path is None:
            found.append(f"{c.where}: no {name} (plaintext gRPC)")
        elif c.secret_of(name) != own or posixpath.basename(path) != key:
            found.append(f"{c.where}: {name}={path} is not {key} of Secret {own}")
    return found


def _gateway(c: Container) -> list[str]:
    found = []
    jwks_url, jwks_file = c.text("BEEZ_JWT_JWKS_URL"), c.text("BEEZ_JWT_JWKS_FILE")
    if jwks_url:
        if urlsplit(jwks_url).scheme != "https":
            found.append(f"{c.where}: BEEZ_JWT_JWKS_URL={jwks_url} is not https")
    elif not (jwks_file and c.mounted("BEEZ_JWT_JWKS_FILE")):
        found.append(f"{c.where}: no BEEZ_JWT_JWKS_URL or mounted BEEZ_JWT_JWKS_FILE")
    for name in ("BEEZ_JWT_ISSUER", "BEEZ_JWT_AUDIENCE"):
        if not (c.text(name) or "").strip():
            found.append(f"{c.where}: no {name}")
    origins = [o.strip() for o in (c.text("BEEZ_CORS_ORIGINS") or "").split(",")]
    if "*" in origins:
        found.append(f"{c.where}: BEEZ_CORS_ORIGINS allows every origin")
    return found
