"""The base and every overlay deploy production mode, rendered by the real kustomize.

:func:`tests.deploy.production.violations` holds the rules; the tests below show that the
manifests keep them, and that each rule catches what it is for: an overlay that turns local mode
on or points NATS at a plaintext or credentialed URL, and manifests with one setting taken away.
"""

from __future__ import annotations

import copy
import os
import textwrap
from collections.abc import Callable
from pathlib import Path

import kubernetes_validate
import pytest

from .kustomize import Object, build
from .production import GATEWAY, SERVICES, containers, violations

K8S = Path(__file__).resolve().parents[2] / "deploy" / "k8s"
BASE = K8S / "base"
OVERLAYS = sorted(path.parent for path in (K8S / "overlays").glob("*/kustomization.yaml"))
RENDERED = [BASE, *OVERLAYS]
MIN_KUBERNETES_VERSION = "1.31"


def label(path: Path) -> str:
    return str(path.relative_to(K8S))


@pytest.fixture(scope="module")
def base() -> list[Object]:
    return build(BASE)


def test_there_is_a_dev_and_a_prod_overlay() -> None:
    assert {path.name for path in OVERLAYS} >= {"dev", "prod"}


@pytest.mark.parametrize("path", RENDERED, ids=label)
def test_manifests_deploy_production_mode(path: Path) -> None:
    assert violations(build(path)) == []


@pytest.mark.parametrize("path", OVERLAYS, ids=label)
def test_overlay_objects_are_valid_and_namespaced(path: Path) -> None:
    failures = []
    objects = build(path)
    for obj in objects:
        assert obj["metadata"].get("namespace"), f"{obj['kind']}/{obj['metadata']['name']}"
        if obj["apiVersion"].startswith("cert-manager.io/"):
            continue  # not a Kubernetes schema; checked below against the pods
        try:
            kubernetes_validate.validate(obj, MIN_KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            failures.append(f"{obj['kind']}/{obj['metadata']['name']}: {exc.message}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("path", OVERLAYS, ids=label)
def test_overlay_certificates_issue_the_tls_secret_each_component_mounts(path: Path) -> None:
    objects = build(path)
    certificates = {obj["spec"]["secretName"]: obj["spec"] for obj in objects if obj["kind"] == "Certificate"}
    for component in (*SERVICES, GATEWAY):
        spec = certificates[f"beez-{component}-tls"]
        assert spec["commonName"] == component  # the name the peers check (BEEZ_TLS_ALLOWED_CALLERS)
        assert component in spec["dnsNames"]  # the name the gateway dials
        assert set(spec["usages"]) >= {"server auth", "client auth"}
    mounted = {
        volume["secret"]["secretName"]
        for obj in objects
        if obj["kind"] in ("Deployment", "Job")
        for volume in obj["spec"]["template"]["spec"]["volumes"]
        if volume["name"] == "tls"
    }
    assert mounted == set(certificates) - {"beez-nats-tls"}
    # The nats-server's certificate comes from the same CA, whose ca.crt the services verify it with.
    nats = certificates["beez-nats-tls"]
    assert nats["dnsNames"] == ["nats"]
    assert {spec["issuerRef"]["name"] for spec in certificates.values()} == {"beez-internal-ca"}


def test_dev_runs_one_replica_of_everything_and_prod_three_executors() -> None:
    def replicas(path: Path) -> dict[str, int]:
        return {
            o["metadata"]["name"]: o["spec"]["replicas"] for o in build(path) if o["kind"] == "Deployment"
        }

    assert set(replicas(K8S / "overlays" / "dev").values()) == {1}
    assert replicas(K8S / "overlays" / "prod")["executor"] == 3


# --- each rule catches what it is for ---------------------------------------------------------


def overlay(directory: Path, body: str) -> list[Object]:
    base = os.path.relpath(BASE, directory)
    (directory / "kustomization.yaml").write_text(f"resources: [{base}]\n" + textwrap.dedent(body))
    return build(directory)


def test_an_overlay_turning_local_mode_on_is_caught(tmp_path: Path) -> None:
    objects = overlay(
        tmp_path,
        """\
        patches:
          - target: {kind: Deployment, name: trigger}
            patch: |-
              - op: add
                path: /spec/template/spec/containers/0/env/-
                value: {name: BEEZ_LOCAL_MODE, value: "true"}
        """,
    )
    assert violations(objects) == ["Deployment/trigger container trigger: BEEZ_LOCAL_MODE=true (local mode)"]


@pytest.mark.parametrize(
    ("url", "complaint"),
    [
        ("nats://nats:4222", "NATS URL nats://nats is not tls://"),
        ("tls://nats-0:4222,nats://nats-1:4222", "NATS URL nats://nats-1 is not tls://"),
        ("tls://automation:s3cret@nats:4222", "NATS URL for nats carries credentials"),
    ],
)
def test_an_overlay_with_a_plaintext_or_credentialed_nats_url_is_caught(
    tmp_path: Path, url: str, complaint: str
) -> None:
    objects = overlay(
        tmp_path,
        f"""\
        patches:
          - target: {{kind: ConfigMap, name: beez-config}}
            patch: |-
              - op: replace
                path: /data/nats_url
                value: "{url}"
        """,
    )
    found = violations(objects)
    assert sorted(found) == sorted(f"Deployment/{s} container {s}: {complaint}" for s in SERVICES)
    assert all("s3cret" not in line for line in found)


Mutation = Callable[[dict[str, Object]], None]


def set_env(workload: str, name: str, value: str | None) -> Mutation:
    """Sets (or with None removes) one variable of a workload's container."""

    def mutate(by_name: dict[str, Object]) -> None:
        (container,) = by_name[workload]["spec"]["template"]["spec"]["containers"]
        env = [item for item in container["env"] if item["name"] != name]
        container["env"] = env if value is None else [*env, {"name": name, "value": value}]

    return mutate


def set_tls_secret(workload: str, secret: str) -> Mutation:
    """Mounts another Secret as the workload's TLS files."""

    def mutate(by_name: dict[str, Object]) -> None:
        for volume in by_name[workload]["spec"]["template"]["spec"]["volumes"]:
            if volume["name"] == "tls":
                volume["secret"]["secretName"] = secret

    return mutate


@pytest.mark.parametrize(
    ("mutate", "complaint"),
    [
        (set_env("executor", "BEEZ_TLS_CERT_FILE", None), "no BEEZ_TLS_CERT_FILE (plaintext gRPC)"),
        (set_env("gateway", "BEEZ_TLS_CA_FILE", None), "no BEEZ_TLS_CA_FILE (plaintext gRPC)"),
        (
            set_tls_secret("beezora", "beez-gateway-tls"),
            "of Secret beez-beezora-tls",
        ),
        (set_env("analytics", "BEEZ_NATS_PASSWORD_FILE", None), "no NATS credentials"),
        (
            set_env("analytics", "BEEZ_NATS_PASSWORD", "s3cret"),
            "BEEZ_NATS_PASSWORD is written in the manifests",
        ),
        (
            set_env("automation", "BEEZ_NATS_TLS_CA_FILE", None),
            "BEEZ_NATS_TLS_CA_FILE is not a mounted CA file",
        ),
        (set_env("trigger", "BEEZ_NATS_URL", None), "no BEEZ_NATS_URL"),
        (
            set_env("trigger", "BEEZ_DATABASE_SSLMODE", "require"),
            "BEEZ_DATABASE_SSLMODE=require, not verify-full",
        ),
        (
            set_env("trigger-migrate", "BEEZ_DATABASE_SSLMODE", None),
            "BEEZ_DATABASE_SSLMODE=None, not verify-full",
        ),
        (set_env("executor", "BEEZ_DATABASE_ALLOW_INSECURE", "1"), "BEEZ_DATABASE_ALLOW_INSECURE"),
        (set_env("executor", "BEEZ_DATABASE_SSLROOTCERT", "/tmp/ca.crt"), "BEEZ_DATABASE_SSLROOTCERT is not"),
        (
            set_env("automation", "BEEZ_DATABASE_URL", "postgresql://beez_automation:pw@db/beez"),
            "BEEZ_DATABASE_URL is written in the manifests",
        ),
        (set_env("automation", "BEEZ_OTLP_INSECURE", "true"), "BEEZ_OTLP_INSECURE (plaintext OTLP)"),
        (set_env("gateway", "BEEZ_JWT_JWKS_URL", None), "no BEEZ_JWT_JWKS_URL or mounted BEEZ_JWT_JWKS_FILE"),
        (set_env("gateway", "BEEZ_JWT_JWKS_URL", "http://idp/jwks.json"), "is not https"),
        (set_env("gateway", "BEEZ_JWT_AUDIENCE", None), "no BEEZ_JWT_AUDIENCE"),
        (set_env("gateway", "BEEZ_JWT_ISSUER", ""), "no BEEZ_JWT_ISSUER"),
        (set_env("gateway", "BEEZ_CORS_ORIGINS", "*"), "BEEZ_CORS_ORIGINS allows every origin"),
        (set_env("gateway", "BEEZ_LOCAL_MODE", "yes"), "BEEZ_LOCAL_MODE=yes (local mode)"),
    ],
)
def test_each_rule_catches_the_setting_it_guards(
    base: list[Object], mutate: Mutation, complaint: str
) -> None:
    objects = copy.deepcopy(base)
    mutate({obj["metadata"]["name"]: obj for obj in objects if obj["kind"] in ("Deployment", "Job")})
    found = violations(objects)
    assert found, "nothing caught"
    assert all(complaint in line for line in found), found


def test_a_missing_component_is_caught(base: list[Object]) -> None:
    objects = [
        obj for obj in base if not (obj["kind"] == "Deployment" and obj["metadata"]["name"] == "gateway")
    ]
    assert violations(objects) == ["Deployment/gateway: missing"]


def test_every_container_that_reaches_nats_or_postgres_is_checked(base: list[Object]) -> None:
    """Guards the rules above against checking nothing: the containers they apply to exist."""
    checked = {c.where for c in containers(base) if "BEEZ_NATS_URL" in c.env}
    assert checked == {f"Deployment/{s} container {s}" for s in SERVICES}
    with_database = {
        c.workload["metadata"]["name"] for c in containers(base) if "BEEZ_DATABASE_URL_FILE" in c.env
    }
    with_schema = (*SERVICES, GATEWAY)  # the gateway's schema holds its rate buckets
    assert with_database == {*with_schema, *(f"{s}-migrate" for s in with_schema)}
