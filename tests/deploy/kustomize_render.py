"""A small, offline stand-in for ``kustomize build``: just the features deploy/k8s uses.

It follows ``resources:`` (files and directories holding a kustomization, recursively) and
applies the ``labels:`` and ``images:`` transformers the way kustomize v5 does for the kinds
the base contains. Anything else -- another kustomization field, another kind, a label
selector it would have to rewrite -- raises :class:`UnsupportedKustomization`, so the base
cannot quietly outgrow the renderer: extend both together.

When a real ``kustomize`` (or ``kubectl kustomize``) is on PATH, the tests also check that
this renderer's output equals it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

Object = dict[str, Any]

KUSTOMIZATION_FILENAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
SUPPORTED_FIELDS = frozenset({"apiVersion", "kind", "resources", "labels", "images"})
SUPPORTED_LABEL_FIELDS = frozenset({"pairs", "includeSelectors", "includeTemplates"})
SUPPORTED_IMAGE_FIELDS = frozenset({"name", "newName", "newTag", "digest"})

# Kinds whose every label-bearing field is known here (kustomize's commonLabels and
# templateLabels field specs, cut down to these kinds).
POD_TEMPLATE_KINDS = frozenset({"Deployment", "Job"})
PLAIN_KINDS = frozenset({"ConfigMap", "Secret", "ServiceAccount", "Service"})


class UnsupportedKustomization(Exception):
    """The kustomization uses something this renderer does not implement."""


@dataclass(frozen=True)
class ImageOverride:
    name: str
    new_name: str | None = None
    new_tag: str | None = None
    digest: str | None = None


def render(path: Path | str) -> list[Object]:
    """Returns every object ``kustomize build path`` would emit (in resource order)."""
    return list(_build(Path(path).resolve(), stack=()))


def find_kustomization(directory: Path) -> Path:
    for filename in KUSTOMIZATION_FILENAMES:
        candidate = directory / filename
        if candidate.is_file():
            return candidate
    raise UnsupportedKustomization(f"{directory}: no kustomization file")


def _build(directory: Path, stack: tuple[Path, ...]) -> Iterator[Object]:
    if directory in stack:
        raise UnsupportedKustomization(f"cycle in resources: {' -> '.join(map(str, (*stack, directory)))}")
    kustomization_file = find_kustomization(directory)
    kustomization = yaml.safe_load(kustomization_file.read_text()) or {}
    if not isinstance(kustomization, dict):
        raise UnsupportedKustomization(f"{kustomization_file}: not a mapping")
    unknown = set(kustomization) - SUPPORTED_FIELDS
    if unknown:
        raise UnsupportedKustomization(f"{kustomization_file}: unsupported fields {sorted(unknown)}")

    objects: list[Object] = []
    for entry in kustomization.get("resources") or []:
        objects.extend(_load_resource(directory, str(entry), (*stack, directory)))
    _check_unique(objects, kustomization_file)

    for label in kustomization.get("labels") or []:
        _apply_labels(objects, _parse_label(label, kustomization_file))
    overrides = [_parse_image(image, kustomization_file) for image in kustomization.get("images") or []]
    for obj in objects:
        _apply_images(obj, overrides)
    yield from objects


def _load_resource(directory: Path, entry: str, stack: tuple[Path, ...]) -> list[Object]:
    if "://" in entry or entry.startswith("git@"):
        raise UnsupportedKustomization(f"{directory}: remote resource {entry!r}")
    target = (directory / entry).resolve()
    if target.is_dir():
        return list(_build(target, stack))
    if not target.is_file():
        raise UnsupportedKustomization(f"{directory}: resource {entry!r} does not exist")
    if not target.is_relative_to(directory):
        # kustomize's default load restrictor: files must sit under the kustomization root.
        raise UnsupportedKustomization(f"{directory}: file {entry!r} is outside the kustomization root")
    objects = []
    for document in yaml.safe_load_all(target.read_text()):
        if document is None:
            continue
        if not isinstance(document, dict) or "kind" not in document or "apiVersion" not in document:
            raise UnsupportedKustomization(f"{target}: a document is not a Kubernetes object")
        if document["kind"].endswith("List"):
            raise UnsupportedKustomization(f"{target}: List objects are not supported")
        objects.append(document)
    return objects


def resource_id(obj: Mapping[str, Any]) -> tuple[str, str, str, str]:
    """(group, kind, namespace, name): what kustomize requires to be unique."""
    group = obj["apiVersion"].rpartition("/")[0]
    metadata = obj.get("metadata") or {}
    return group, obj["kind"], metadata.get("namespace", ""), metadata["name"]


def _check_unique(objects: list[Object], where: Path) -> None:
    seen: set[tuple[str, str, str, str]] = set()
    for obj in objects:
        rid = resource_id(obj)
        if rid in seen:
            raise UnsupportedKustomization(f"{where}: duplicate resource {rid}")
        seen.add(rid)


# --- labels -----------------------------------------------------------------------------


@dataclass(frozen=True)
class LabelSpec:
    pairs: dict[str, str]
    include_selectors: bool
    include_templates: bool


def _parse_label(raw: Any, where: Path) -> LabelSpec:
    if not isinstance(raw, dict) or set(raw) - SUPPORTED_LABEL_FIELDS:
        raise UnsupportedKustomization(f"{where}: unsupported labels entry {raw!r}")
    pairs = raw.get("pairs") or {}
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in pairs.items()):
        raise UnsupportedKustomization(f"{where}: label keys and values must be strings: {pairs!r}")
    return LabelSpec(
        pairs=dict(pairs),
        include_selectors=bool(raw.get("includeSelectors", False)),
        include_templates=bool(raw.get("includeTemplates", False)),
    )


def _set_labels(parent: dict[str, Any], key: str, pairs: Mapping[str, str], *, create: bool) -> None:
    if key not in parent or parent[key] is None:
        if not create:
            return
        parent[key] = {}
    parent[key].update(pairs)


def _child(parent: dict[str, Any], key: str) -> dict[str, Any]:
    value = parent.get(key)
    if value is None:
        value = parent[key] = {}
    if not isinstance(value, dict):
        raise UnsupportedKustomization(f"expected a mapping at {key!r}, got {value!r}")
    return value


def _apply_labels(objects: list[Object], spec: LabelSpec) -> None:
    for obj in objects:
        kind = obj["kind"]
        if kind not in POD_TEMPLATE_KINDS | PLAIN_KINDS:
            raise UnsupportedKustomization(f"labels on kind {kind} are not implemented")
        _set_labels(_child(obj, "metadata"), "labels", spec.pairs, create=True)
        if not (spec.include_selectors or spec.include_templates):
            continue
        if kind in POD_TEMPLATE_KINDS:
            template = _child(_child(obj, "spec"), "template")
            _set_labels(_child(template, "metadata"), "labels", spec.pairs, create=True)
        if not spec.include_selectors:
            continue
        if kind == "Service":
            _set_labels(_child(obj, "spec"), "selector", spec.pairs, create=True)
        elif kind in POD_TEMPLATE_KINDS:
            pod_spec = obj["spec"]["template"].get("spec") or {}
            if "affinity" in pod_spec or "topologySpreadConstraints" in pod_spec:
                # kustomize rewrites the label selectors in these; not implemented here.
                raise UnsupportedKustomization(f"{kind}/{obj['metadata']['name']}: affinity with selectors")
            # A Deployment's selector is created; a Job's (normally generated by the API
            # server) is only extended if the manifest has one.
            if kind == "Deployment" or obj["spec"].get("selector") is not None:
                create = kind == "Deployment"
                _set_labels(_child(obj["spec"], "selector"), "matchLabels", spec.pairs, create=create)


# --- images -----------------------------------------------------------------------------

# name[:tag][@digest]; a ':' before the last '/' belongs to a registry host:port.
_IMAGE = re.compile(r"^(?P<name>[^@]+?)(?::(?P<tag>[^:/@]+))?(?:@(?P<digest>.+))?$")


def split_image(image: str) -> tuple[str, str | None, str | None]:
    match = _IMAGE.match(image)
    if match is None:
        raise UnsupportedKustomization(f"cannot parse image {image!r}")
    return match["name"], match["tag"], match["digest"]


def override_image(image: str, override: ImageOverride) -> str:
    """The image after kustomize's images transformer, or unchanged if the name differs."""
    name, tag, digest = split_image(image)
    if name != override.name:
        return image
    new = override.new_name or name
    if override.new_tag is not None and override.digest is not None:
        return f"{new}:{override.new_tag}@{override.digest}"
    if override.digest is not None:
        return f"{new}@{override.digest}"
    if override.new_tag is not None:
        return f"{new}:{override.new_tag}"
    return new + (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")


def _parse_image(raw: Any, where: Path) -> ImageOverride:
    if not isinstance(raw, dict) or "name" not in raw or set(raw) - SUPPORTED_IMAGE_FIELDS:
        raise UnsupportedKustomization(f"{where}: unsupported images entry {raw!r}")
    return ImageOverride(
        name=str(raw["name"]),
        new_name=None if raw.get("newName") is None else str(raw["newName"]),
        new_tag=None if raw.get("newTag") is None else str(raw["newTag"]),
        digest=None if raw.get("digest") is None else str(raw["digest"]),
    )


def pod_spec_of(obj: Mapping[str, Any]) -> dict[str, Any] | None:
    if obj["kind"] not in POD_TEMPLATE_KINDS:
        return None
    spec: dict[str, Any] = obj["spec"]["template"]["spec"]
    return spec


def _apply_images(obj: Object, overrides: list[ImageOverride]) -> None:
    pod_spec = pod_spec_of(obj)
    if pod_spec is None or not overrides:
        return
    for key in ("initContainers", "containers"):
        for container in pod_spec.get(key) or []:
            for override in overrides:
                container["image"] = override_image(container["image"], override)
