"""Renders deploy/k8s/base with kustomize and checks every object and the promises the base makes.

Schemas come from kubernetes-validate's bundled copies, so nothing touches the network.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest

from .kustomize import Object, build

BASE = Path(__file__).resolve().parents[2] / "deploy" / "k8s" / "base"

SERVICES: dict[str, int] = {
    "automation": 50051,
    "trigger": 50052,
    "executor": 50053,
    "beezora": 50054,
    "analytics": 50055,
}
GATEWAY = "gateway"
GATEWAY_PORT = 8080
HEALTH_PORT = 8081
COMPONENTS = (*SERVICES, GATEWAY)
IMAGE_REGISTRY = "ghcr.io/unifiedbeez"
CONFIG_MAP = "beez-config"
MIGRATION_DATABASE_SECRET = "beez-migration-database"
POSTGRES_CA = "beez-postgres-ca"
NON_ROOT_ID = 10001

# The oldest Kubernetes we promise to run on, and the newest kubernetes-validate knows.
MIN_KUBERNETES_VERSION = "1.31"
LATEST_KUBERNETES_VERSION = ".".join(kubernetes_validate.latest_version().split(".")[:2])
KUBERNETES_VERSIONS = (MIN_KUBERNETES_VERSION, LATEST_KUBERNETES_VERSION)


@pytest.fixture(scope="module")
def objects() -> list[Object]:
    return build(BASE)


def of_kind(objects: list[Object], kind: str) -> dict[str, Object]:
    return {obj["metadata"]["name"]: obj for obj in objects if obj["kind"] == kind}


def workloads(objects: list[Object]) -> Iterator[Object]:
    """Every object that runs pods: the Deployments and the migration Jobs."""
    return (obj for obj in objects if obj["kind"] in ("Deployment", "Job"))


def pod_spec(workload: Mapping[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = workload["spec"]["template"]["spec"]
    return spec


def containers(workload: Mapping[str, Any]) -> list[dict[str, Any]]:
    spec = pod_spec(workload)
    return [*spec.get("initContainers", []), *spec["containers"]]


def main_container(workload: Mapping[str, Any]) -> dict[str, Any]:
    (container,) = pod_spec(workload)["containers"]
    result: dict[str, Any] = container
    return result


def env_of(container: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["name"]: item for item in container.get("env", [])}


def selects(selector: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())


def component_of(obj: Mapping[str, Any]) -> str | None:
    name: str = obj["metadata"]["name"]
    if obj["kind"] == "ConfigMap":
        return None
    return name.removesuffix("-migrate") if obj["kind"] == "Job" else name


def name_of(obj: Mapping[str, Any]) -> str:
    return f"{obj['kind']}/{obj['metadata']['name']}"


# --- the objects themselves ---------------------------------------------------------------


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_object_is_valid_against_the_kubernetes_schema(objects: list[Object], version: str) -> None:
    failures = []
    for obj in objects:
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            failures.append(f"{name_of(obj)}: {'.'.join(map(str, exc.path))}: {exc.message}")
    assert not failures, "\n".join(failures)


def test_strict_validation_rejects_a_misspelt_field(objects: list[Object]) -> None:
    """Guards the test above: an unknown field must fail, not pass silently."""
    broken = dict(of_kind(objects, "Service")["automation"])
    broken["spec"] = {**broken["spec"], "selectr": {"a": "b"}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, MIN_KUBERNETES_VERSION, strict=True)


def test_base_renders_exactly_the_expected_objects(objects: list[Object]) -> None:
    expected = {("ConfigMap", CONFIG_MAP)}
    for component in COMPONENTS:
        expected |= {("ServiceAccount", component), ("Service", component), ("Deployment", component)}
    expected |= {("Job", f"{component}-migrate") for component in COMPONENTS}
    rendered = [(obj["kind"], obj["metadata"]["name"]) for obj in objects]
    assert sorted(rendered) == sorted(expected)


def test_base_leaves_the_namespace_to_overlays(objects: list[Object]) -> None:
    assert [name_of(obj) for obj in objects if "namespace" in obj["metadata"]] == []


def test_every_object_carries_the_common_labels(objects: list[Object]) -> None:
    for obj in objects:
        labels = obj["metadata"]["labels"]
        assert labels["app.kubernetes.io/part-of"] == "beez", name_of(obj)
        component = component_of(obj)
        if component is not None:
            assert labels["app.kubernetes.io/name"] == component, name_of(obj)
    for workload in workloads(objects):
        pod_labels = workload["spec"]["template"]["metadata"]["labels"]
        assert pod_labels["app.kubernetes.io/part-of"] == "beez", name_of(workload)
        assert pod_labels["app.kubernetes.io/name"] == component_of(workload), name_of(workload)


# --- one Deployment, Service and ServiceAccount per component -------------------------------


@pytest.mark.parametrize("component", COMPONENTS)
def test_each_component_has_a_deployment_service_and_service_account_it_uses(
    objects: list[Object], component: str
) -> None:
    assert component in of_kind(objects, "Service")
    assert component in of_kind(objects, "ServiceAccount")
    deployment = of_kind(objects, "Deployment")[component]
    assert pod_spec(deployment)["serviceAccountName"] == component


def test_service_account_tokens_are_never_mounted(objects: list[Object]) -> None:
    for account in of_kind(objects, "ServiceAccount").values():
        assert account["automountServiceAccountToken"] is False, name_of(account)
    for workload in workloads(objects):
        assert pod_spec(workload)["automountServiceAccountToken"] is False, name_of(workload)


@pytest.mark.parametrize("component", COMPONENTS)
def test_service_selector_matches_exactly_its_deployment_pods(objects: list[Object], component: str) -> None:
    service = of_kind(objects, "Service")[component]
    deployment = of_kind(objects, "Deployment")[component]
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    selector = service["spec"]["selector"]
    assert selects(selector, pod_labels)
    assert selects(deployment["spec"]["selector"]["matchLabels"], pod_labels)
    # ... and no other pods: not another component's, nor its own migration Job's.
    selected = [
        name_of(workload)
        for workload in workloads(objects)
        if selects(selector, workload["spec"]["template"]["metadata"]["labels"])
    ]
    assert selected == [f"Deployment/{component}"]


@pytest.mark.parametrize("component", COMPONENTS)
def test_deployment_runs_the_components_image_and_console_script(
    objects: list[Object], component: str
) -> None:
    container = main_container(of_kind(objects, "Deployment")[component])
    assert container["image"] == f"{IMAGE_REGISTRY}/beez-{component}:latest"
    assert container["command"] == [f"beez-{component}"]


# --- ports and probes -----------------------------------------------------------------------


@pytest.mark.parametrize(("service", "port"), SERVICES.items())
def test_service_ports_match_the_port_list(objects: list[Object], service: str, port: int) -> None:
    container = main_container(of_kind(objects, "Deployment")[service])
    assert container["ports"] == [
        {"name": "grpc", "containerPort": port, "protocol": "TCP"},
        {"name": "health", "containerPort": HEALTH_PORT, "protocol": "TCP"},
    ]
    assert env_of(container)["BEEZ_GRPC_PORT"]["value"] == str(port)
    assert env_of(container)["BEEZ_HEALTH_PORT"]["value"] == str(HEALTH_PORT)
    (service_port,) = of_kind(objects, "Service")[service]["spec"]["ports"]
    assert service_port["port"] == port
    assert service_port["targetPort"] == "grpc"


def test_gateway_port_matches_the_port_list(objects: list[Object]) -> None:
    container = main_container(of_kind(objects, "Deployment")[GATEWAY])
    assert container["ports"] == [{"name": "http", "containerPort": GATEWAY_PORT, "protocol": "TCP"}]
    (service_port,) = of_kind(objects, "Service")[GATEWAY]["spec"]["ports"]
    assert service_port["port"] == GATEWAY_PORT
    assert service_port["targetPort"] == "http"


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_has_grpc_readiness_and_liveness_probes_on_its_health_port(
    objects: list[Object], service: str
) -> None:
    """The kubelet's gRPC probes speak plaintext, so they go to the health-only port, never to
    the mutual-TLS service port (BEEZ_HEALTH_PORT, beez.kit.grpc.health_port)."""
    container = main_container(of_kind(objects, "Deployment")[service])
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        # The overall ("") health status: the services register no other name.
        assert container[probe]["grpc"] == {"port": HEALTH_PORT, "service": ""}, probe
    (service_port,) = of_kind(objects, "Service")[service]["spec"]["ports"]
    assert service_port["port"] != HEALTH_PORT  # not reachable through the Service


@pytest.mark.parametrize("component", COMPONENTS)
def test_liveness_tolerates_outages_that_readiness_reports(objects: list[Object], component: str) -> None:
    container = main_container(of_kind(objects, "Deployment")[component])

    def window(probe: Mapping[str, Any]) -> int:
        return int(probe.get("periodSeconds", 10)) * int(probe.get("failureThreshold", 3))

    readiness, liveness = container["readinessProbe"], container["livenessProbe"]
    assert liveness["failureThreshold"] > readiness["failureThreshold"]
    assert window(liveness) >= 2 * window(readiness)
    assert window(liveness) >= 120


def test_gateway_probes_http_healthz(objects: list[Object]) -> None:
    container = main_container(of_kind(objects, "Deployment")[GATEWAY])
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": "/healthz", "port": "http"}, probe


# --- pod hardening ----------------------------------------------------------------------------


def test_every_pod_runs_as_non_root_with_a_read_only_root_and_no_capabilities(
    objects: list[Object],
) -> None:
    for workload in workloads(objects):
        pod_context = pod_spec(workload)["securityContext"]
        assert pod_context["runAsNonRoot"] is True, name_of(workload)
        assert pod_context["runAsUser"] == NON_ROOT_ID, name_of(workload)
        assert pod_context["runAsGroup"] == NON_ROOT_ID, name_of(workload)
        assert pod_context["fsGroup"] == NON_ROOT_ID, name_of(workload)
        assert pod_context["seccompProfile"] == {"type": "RuntimeDefault"}, name_of(workload)
        for container in containers(workload):
            where = f"{name_of(workload)} container {container['name']}"
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True, where
            assert context["allowPrivilegeEscalation"] is False, where
            assert context.get("privileged", False) is False, where
            assert context["capabilities"] == {"drop": ["ALL"]}, where
            assert context.get("runAsUser", NON_ROOT_ID) != 0, where


def test_every_pod_has_a_writable_tmp_from_an_empty_dir(objects: list[Object]) -> None:
    for workload in workloads(objects):
        volumes = {volume["name"]: volume for volume in pod_spec(workload).get("volumes", [])}
        for container in containers(workload):
            mounts = {mount["mountPath"]: mount for mount in container.get("volumeMounts", [])}
            assert "/tmp" in mounts, name_of(workload)
            assert not mounts["/tmp"].get("readOnly", False), name_of(workload)
            assert "emptyDir" in volumes[mounts["/tmp"]["name"]], name_of(workload)


def test_every_container_has_resource_requests_and_limits(objects: list[Object]) -> None:
    for workload in workloads(objects):
        for container in containers(workload):
            resources = container["resources"]
            for section in ("requests", "limits"):
                assert set(resources[section]) == {"cpu", "memory"}, f"{name_of(workload)} {section}"


# --- rollout ----------------------------------------------------------------------------------


@pytest.mark.parametrize("component", COMPONENTS)
def test_deployment_rolls_out_without_losing_capacity_and_drains_on_sigterm(
    objects: list[Object], component: str
) -> None:
    deployment = of_kind(objects, "Deployment")[component]
    strategy = deployment["spec"]["strategy"]
    assert strategy["type"] == "RollingUpdate"
    assert strategy["rollingUpdate"]["maxUnavailable"] == 0
    assert strategy["rollingUpdate"]["maxSurge"] not in (0, "0%")
    assert pod_spec(deployment)["terminationGracePeriodSeconds"] == 30
    assert deployment["spec"]["replicas"] >= 1


def test_executor_runs_two_replicas_by_default(objects: list[Object]) -> None:
    assert of_kind(objects, "Deployment")["executor"]["spec"]["replicas"] == 2


# --- migrations -------------------------------------------------------------------------------


@pytest.mark.parametrize("service", COMPONENTS)
def test_each_service_has_a_migration_job_running_its_migrate_subcommand(
    objects: list[Object], service: str
) -> None:
    job = of_kind(objects, "Job")[f"{service}-migrate"]
    container = main_container(job)
    server = main_container(of_kind(objects, "Deployment")[service])
    assert container["command"] == [f"beez-{service}", "migrate"]
    assert container["image"] == server["image"]
    assert job["spec"]["ttlSecondsAfterFinished"] > 0
    assert job["spec"]["backoffLimit"] >= 1
    assert pod_spec(job)["restartPolicy"] in ("Never", "OnFailure")
    assert pod_spec(job)["serviceAccountName"] == service
    assert set(env_of(container)) >= {"BEEZ_MIGRATION_DATABASE_URL_FILE", "BEEZ_DATABASE_URL_FILE"}


@pytest.mark.parametrize("service", COMPONENTS)
def test_migration_job_starts_with_the_production_settings_its_service_has(
    objects: list[Object], service: str
) -> None:
    """``migrate`` loads the same settings as the server, which production checks at start
    (TLS files, verify-full): the Job mounts the same files from the same Secrets."""
    job = of_kind(objects, "Job")[f"{service}-migrate"]
    server = of_kind(objects, "Deployment")[service]
    job_env, server_env = env_of(main_container(job)), env_of(main_container(server))
    for name in (
        "BEEZ_DATABASE_URL_FILE",
        "BEEZ_DATABASE_SSLMODE",
        "BEEZ_DATABASE_SSLROOTCERT",
        "BEEZ_TLS_CERT_FILE",
        "BEEZ_TLS_KEY_FILE",
        "BEEZ_TLS_CA_FILE",
    ):
        assert job_env[name] == server_env[name], name
    assert mounted_sources(job) - {MIGRATION_DATABASE_SECRET} == mounted_sources(server) - {
        f"beez-{service}-nats",
        "beez-trigger-hook-keys",  # read when a hook is created or delivered, never to migrate
    }


def test_the_executor_reads_the_webhook_signing_key_ring_from_its_secret(objects: list[Object]) -> None:
    """Production refuses to start the executor without it (migrate included)."""
    for workload in (of_kind(objects, "Deployment")["executor"], of_kind(objects, "Job")["executor-migrate"]):
        path = env_of(main_container(workload))["BEEZ_SIGNING_KEYS_FILE"]["value"]
        assert file_source(workload, path) == "beez-executor-signing-keys/keys"


def test_the_trigger_reads_the_hook_key_ring_from_its_secret(objects: list[Object]) -> None:
    workload = of_kind(objects, "Deployment")["trigger"]
    path = env_of(main_container(workload))["BEEZ_HOOK_KEYS_FILE"]["value"]
    assert file_source(workload, path) == "beez-trigger-hook-keys/keys"


def test_gateway_has_a_migration_job_too_for_its_rate_buckets(objects: list[Object]) -> None:
    assert set(of_kind(objects, "Job")) == {f"{component}-migrate" for component in COMPONENTS}


# --- configuration ----------------------------------------------------------------------------


def mounted_sources(workload: Mapping[str, Any]) -> set[str]:
    """The Secrets and ConfigMaps a workload's pods mount."""
    names = set()
    for volume in pod_spec(workload).get("volumes", []):
        if "secret" in volume:
            names.add(volume["secret"]["secretName"])
        if "configMap" in volume:
            names.add(volume["configMap"]["name"])
    return names


def file_source(workload: Mapping[str, Any], path: str) -> str:
    """The Secret or ConfigMap, and its key, that ``path`` is a file of in the workload's pods."""
    directory, key = path.rsplit("/", 1)
    (mount,) = [m for m in main_container(workload)["volumeMounts"] if m["mountPath"] == directory]
    assert mount.get("readOnly") is True and "subPath" not in mount, path
    (volume,) = [v for v in pod_spec(workload)["volumes"] if v["name"] == mount["name"]]
    source = volume["secret"]["secretName"] if "secret" in volume else volume["configMap"]["name"]
    return f"{source}/{key}"


def test_each_service_reads_its_own_database_url_from_its_own_secret(objects: list[Object]) -> None:
    """Each service, and the gateway (its rate buckets), logs in as its own role (beez_<name>):
    one Secret each, shared by its Deployment and its migration Job, and the migration role's URL
    only in the Jobs."""
    for workload in workloads(objects):
        component = component_of(workload)
        env: dict[str, str] = {k: v.get("value", "") for k, v in env_of(main_container(workload)).items()}
        assert file_source(workload, env["BEEZ_DATABASE_URL_FILE"]) == f"beez-{component}-database/url"
        assert file_source(workload, env["BEEZ_DATABASE_SSLROOTCERT"]) == f"{POSTGRES_CA}/ca.crt"
        assert env["BEEZ_DATABASE_SSLMODE"] == "verify-full"
        if workload["kind"] == "Job":
            migration = env["BEEZ_MIGRATION_DATABASE_URL_FILE"]
            assert file_source(workload, migration) == f"{MIGRATION_DATABASE_SECRET}/url"
        else:
            assert "BEEZ_MIGRATION_DATABASE_URL_FILE" not in env, name_of(workload)


@pytest.mark.parametrize("component", COMPONENTS)
def test_each_component_presents_its_own_certificate(objects: list[Object], component: str) -> None:
    deployment = of_kind(objects, "Deployment")[component]
    env = env_of(main_container(deployment))
    for name, key in (
        ("BEEZ_TLS_CERT_FILE", "tls.crt"),
        ("BEEZ_TLS_KEY_FILE", "tls.key"),
        ("BEEZ_TLS_CA_FILE", "ca.crt"),
    ):
        assert file_source(deployment, env[name]["value"]) == f"beez-{component}-tls/{key}"


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_is_its_own_nats_user_verifying_nats_with_the_internal_ca(
    objects: list[Object], service: str
) -> None:
    deployment = of_kind(objects, "Deployment")[service]
    env = env_of(main_container(deployment))
    assert env["BEEZ_NATS_USER"]["value"] == service  # the user deploy/nats gives its permissions
    assert file_source(deployment, env["BEEZ_NATS_PASSWORD_FILE"]["value"]) == f"beez-{service}-nats/password"
    assert file_source(deployment, env["BEEZ_NATS_TLS_CA_FILE"]["value"]) == f"beez-{service}-tls/ca.crt"


def test_secret_files_are_readable_by_the_pod_user_only_through_its_group(objects: list[Object]) -> None:
    for workload in workloads(objects):
        for volume in pod_spec(workload)["volumes"]:
            if "secret" in volume:
                assert volume["secret"]["defaultMode"] == 0o440, f"{name_of(workload)} {volume['name']}"


@pytest.mark.parametrize("service", SERVICES)
def test_services_read_nats_url_log_level_and_otlp_endpoint_from_the_config_map(
    objects: list[Object], service: str
) -> None:
    env = env_of(main_container(of_kind(objects, "Deployment")[service]))
    for variable, key in (
        ("BEEZ_NATS_URL", "nats_url"),
        ("BEEZ_LOG_LEVEL", "log_level"),
        ("BEEZ_OTLP_ENDPOINT", "otlp_endpoint"),
    ):
        ref = env[variable]["valueFrom"]["configMapKeyRef"]
        assert (ref["name"], ref["key"]) == (CONFIG_MAP, key), variable
    assert env["BEEZ_OTLP_ENDPOINT"]["valueFrom"]["configMapKeyRef"]["optional"] is True


def test_config_map_has_every_key_the_pods_require(objects: list[Object]) -> None:
    config = of_kind(objects, "ConfigMap")[CONFIG_MAP]["data"]
    assert config["nats_url"] == "tls://nats:4222"
    for workload in workloads(objects):
        for container in containers(workload):
            for item in container.get("env", []):
                ref = item.get("valueFrom", {}).get("configMapKeyRef")
                if ref is None or ref.get("optional", False):
                    continue
                assert ref["name"] == CONFIG_MAP, f"{name_of(workload)} {item['name']}"
                assert ref["key"] in config, f"{name_of(workload)} {item['name']}"


def test_no_secret_is_shipped_in_the_base(objects: list[Object]) -> None:
    assert of_kind(objects, "Secret") == {}


def test_gateway_reaches_every_service_through_its_address(objects: list[Object]) -> None:
    env = env_of(main_container(of_kind(objects, "Deployment")[GATEWAY]))
    services = of_kind(objects, "Service")
    for service, port in SERVICES.items():
        assert env[f"BEEZ_{service.upper()}_ADDR"]["value"] == f"{service}:{port}"
        assert [p["port"] for p in services[service]["spec"]["ports"]] == [port]
