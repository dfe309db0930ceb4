"""The offline renderer behind test_k8s_manifests agrees with kustomize on what the base uses."""

from __future__ import annotations

import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest
import yaml

from .kustomize_render import (
    ImageOverride,
    Object,
    UnsupportedKustomization,
    override_image,
    render,
    resource_id,
)

BASE = Path(__file__).resolve().parents[2] / "deploy" / "k8s" / "base"

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels:
      tier: server
  template:
    metadata:
      labels:
        tier: server
    spec:
      containers:
        - name: web
          image: registry.local:5000/web:1
"""

JOB = """\
apiVersion: batch/v1
kind: Job
metadata:
  name: once
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: once
          image: registry.local:5000/web
"""

SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  ports:
    - port: 80
"""


def kustomize_command() -> list[str] | None:
    if (kustomize := shutil.which("kustomize")) is not None:
        return [kustomize, "build"]
    if (kubectl := shutil.which("kubectl")) is not None:
        return [kubectl, "kustomize"]
    return None


def kustomize_build(path: Path) -> list[Object]:
    command = kustomize_command()
    if command is None:
        pytest.skip("neither kustomize nor kubectl is installed")
    result = subprocess.run([*command, str(path)], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc is not None]


def by_id(objects: list[Object]) -> dict[tuple[str, str, str, str], Object]:
    return {resource_id(obj): obj for obj in objects}


def write(directory: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return directory


@pytest.fixture
def layered(tmp_path: Path) -> Path:
    """An outer kustomization adding a plain label over an inner one that adds selectors."""
    return write(
        tmp_path,
        {
            "kustomization.yaml": """\
                labels:
                  - pairs: {team: beez}
                resources: [app]
                images:
                  - name: registry.local:5000/web
                    newName: ghcr.io/example/web
                    newTag: "2"
                """,
            "app/kustomization.yaml": """\
                labels:
                  - pairs: {app.kubernetes.io/name: web}
                    includeSelectors: true
                resources: [deployment.yaml, job.yaml, service.yaml]
                """,
            "app/deployment.yaml": DEPLOYMENT,
            "app/job.yaml": JOB,
            "app/service.yaml": SERVICE,
        },
    )


def test_renderer_matches_kustomize_on_the_base() -> None:
    expected = by_id(kustomize_build(BASE))
    assert by_id(render(BASE)) == expected


def test_renderer_matches_kustomize_on_nested_labels_and_images(layered: Path) -> None:
    assert by_id(render(layered)) == by_id(kustomize_build(layered))


def test_labels_reach_selectors_only_when_asked(layered: Path) -> None:
    objects = {obj["kind"]: obj for obj in render(layered)}
    deployment, job, service = objects["Deployment"], objects["Job"], objects["Service"]
    name = {"app.kubernetes.io/name": "web"}
    assert deployment["metadata"]["labels"] == {**name, "team": "beez"}
    assert deployment["spec"]["selector"]["matchLabels"] == {"tier": "server", **name}
    assert deployment["spec"]["template"]["metadata"]["labels"] == {"tier": "server", **name}
    assert service["spec"]["selector"] == name
    assert job["spec"]["template"]["metadata"]["labels"] == name
    # The API server generates a Job's selector; kustomize does not create one.
    assert "selector" not in job["spec"]


def test_images_are_renamed_and_retagged(layered: Path) -> None:
    images = {
        obj["kind"]: obj["spec"]["template"]["spec"]["containers"][0]["image"]
        for obj in render(layered)
        if obj["kind"] != "Service"
    }
    assert images == {"Deployment": "ghcr.io/example/web:2", "Job": "ghcr.io/example/web:2"}


@pytest.mark.parametrize(
    ("image", "override", "expected"),
    [
        # Expected values are what kustomize v5.5 produces.
        ("reg:5000/a:1", ImageOverride("reg:5000/a", new_tag="2"), "reg:5000/a:2"),
        ("reg:5000/a", ImageOverride("reg:5000/a", new_tag="2"), "reg:5000/a:2"),
        ("b:3", ImageOverride("b", new_name="c"), "c:3"),
        ("d:1", ImageOverride("d", digest="sha256:abc"), "d@sha256:abc"),
        ("e@sha256:000", ImageOverride("e", new_tag="t", digest="sha256:def"), "e:t@sha256:def"),
        ("f", ImageOverride("f", new_name="g", new_tag="t"), "g:t"),
        ("bb", ImageOverride("b", new_name="c"), "bb"),
    ],
)
def test_image_overrides_follow_kustomize(image: str, override: ImageOverride, expected: str) -> None:
    assert override_image(image, override) == expected


@pytest.mark.parametrize(
    "kustomization",
    [
        "namePrefix: x-\nresources: [service.yaml]\n",
        "commonLabels: {a: b}\nresources: [service.yaml]\n",
        "patches: []\nresources: [service.yaml]\n",
        "labels:\n  - pairs: {a: b}\n    fields: []\nresources: [service.yaml]\n",
        "resources: [https://github.com/example/base]\n",
        "resources: [service.yaml, service.yaml]\n",
        "resources: [missing.yaml]\n",
    ],
)
def test_renderer_refuses_what_it_does_not_implement(tmp_path: Path, kustomization: str) -> None:
    write(tmp_path, {"kustomization.yaml": kustomization, "service.yaml": SERVICE})
    with pytest.raises(UnsupportedKustomization):
        render(tmp_path)


def test_renderer_refuses_labels_on_kinds_it_does_not_know(tmp_path: Path) -> None:
    pdb = """\
        apiVersion: policy/v1
        kind: PodDisruptionBudget
        metadata: {name: web}
        spec:
          maxUnavailable: 1
          selector: {matchLabels: {tier: server}}
        """
    write(
        tmp_path,
        {"kustomization.yaml": "labels: [{pairs: {a: b}}]\nresources: [pdb.yaml]\n", "pdb.yaml": pdb},
    )
    with pytest.raises(UnsupportedKustomization):
        render(tmp_path)
