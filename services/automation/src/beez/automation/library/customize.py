"""A template's workflow with a user's overrides applied to its customizable fields.

Overrides are keyed by the customizable field's path (``actions[2].config.discount_code``).
A path that is not customizable, or a value its field refuses, is a field violation naming
``overrides[<path>]``; so is a problem the whole workflow's validation finds under an
overridden path, which is how a subject that renders nothing or a bad wait is reported against
the field the user typed into.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from beez.automation.library.format import Template
from beez.automation.library.paths import set_path
from beez.workflow.errors import Issue


def override_field(path: str) -> str:
    """The request path an override of ``path`` is reported at."""
    return f"overrides[{path}]"


def apply_overrides(
    template: Template, overrides: Mapping[str, Any], name: str = ""
) -> tuple[dict[str, Any], list[Issue]]:
    """The template's workflow JSON with ``overrides`` (and a new ``name``) applied, and the
    problems of the overrides themselves."""
    workflow = copy.deepcopy(template.workflow)
    fields = {item.path: item for item in template.customizable}
    issues: list[Issue] = []
    for path, value in overrides.items():
        custom = fields.get(path)
        if custom is None:
            issues.append(Issue(override_field(path), "is not a customizable field of this template"))
            continue
        if (problem := custom.problem(value)) is not None:
            issues.append(Issue(override_field(path), f"{custom.label}: {problem}"))
            continue
        set_path(workflow, path, value)
    if name:
        workflow["name"] = name
    return workflow, issues


def blame_overrides(issues: list[Issue], overrides: Mapping[str, Any]) -> list[Issue]:
    """Workflow problems, each under the override whose path it lies in (else as it is)."""
    blamed = []
    for issue in issues:
        owner = next(
            (
                path
                for path in overrides
                if issue.field == path or issue.field.startswith((f"{path}.", f"{path}["))
            ),
            None,
        )
        blamed.append(Issue(override_field(owner), issue.description) if owner else issue)
    return blamed
