"""An overlay over deploy/k8s/base, as each environment will write one, renders as it says."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

from .kustomize import build

BASE = Path(__file__).resolve().parents[2] / "deploy" / "k8s" / "base"


def overlay(directory: Path, body: str) -> Path:
    """A kustomization in ``directory`` whose resources are the base, plus ``body``."""
    base = os.path.relpath(BASE, directory)  # kustomize takes only relative paths
    (directory / "kustomization.yaml").write_text(f"resources: [{base}]\n" + textwrap.dedent(body))
    return directory


def test_an_overlay_sets_the_namespace_and_pins_one_image(tmp_path: Path) -> None:
    objects = build(
        overlay(
            tmp_path,
            """\
            namespace: beez-staging
            images:
              - name: ghcr.io/unifiedbeez/beez-executor
                newTag: "1.4.2"
            """,
        )
    )
    assert len(objects) == len(build(BASE))
    assert {obj["metadata"].get("namespace") for obj in objects} == {"beez-staging"}
    images = {
        obj["metadata"]["name"]: container["image"]
        for obj in objects
        if obj["kind"] in ("Deployment", "Job")
        for container in obj["spec"]["template"]["spec"]["containers"]
    }
    assert images["executor"] == "ghcr.io/unifiedbeez/beez-executor:1.4.2"
    assert images["executor-migrate"] == "ghcr.io/unifiedbeez/beez-executor:1.4.2"
    assert images["trigger"] == "ghcr.io/unifiedbeez/beez-trigger:latest"


def test_an_overlay_can_patch_what_the_base_leaves_open(tmp_path: Path) -> None:
    objects = build(
        overlay(
            tmp_path,
            """\
            namePrefix: staging-
            patches:
              - target: {kind: Deployment, name: executor}
                patch: |-
                  - op: replace
                    path: /spec/replicas
                    value: 4
            """,
        )
    )
    deployments = {obj["metadata"]["name"]: obj for obj in objects if obj["kind"] == "Deployment"}
    assert deployments["staging-executor"]["spec"]["replicas"] == 4
    assert all(name.startswith("staging-") for name in deployments)
