"""Reads the built-in templates from ``data/`` and refuses to start on any that fails its checks.

The library is checked at the default condition budget (a deployment with a smaller one refuses
the templates over it when they are activated, as it refuses any workflow). The service loads the
library once at start (:func:`load_library`) and stores it in its ``templates`` table idempotently
(decision 0048): a file's digest decides whether its row is rewritten, so editing a file updates
the template, while automations made from it keep the copy they were made with.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from beez.automation.library.format import Template, parse_template
from beez.workflow.conditions.cost import default_cost_budget
from beez.workflow.errors import Issue, IssuesError

DATA = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class Subcategory:
    slug: str
    name: str


@dataclass(frozen=True)
class Category:
    """A category of the seed's frame 3 and the subcategories it lists."""

    slug: str
    name: str
    description: str
    icon: str
    order: int
    subcategories: tuple[Subcategory, ...]


@dataclass(frozen=True)
class Library:
    """The categories and the built-in templates by slug."""

    categories: tuple[Category, ...]
    templates: Mapping[str, Template]


class LibraryError(IssuesError):
    """Templates that fail their checks; each issue's field starts with the file it is in."""


def load_categories(root: Path = DATA) -> tuple[Category, ...]:
    raw = json.loads((root / "categories.json").read_text())
    return tuple(
        Category(
            slug=item["slug"],
            name=item["name"],
            description=item["description"],
            icon=item["icon"],
            order=index,
            subcategories=tuple(Subcategory(s["slug"], s["name"]) for s in item["subcategories"]),
        )
        for index, item in enumerate(raw)
    )


def load_library(root: Path = DATA) -> Library:
    """Every template under ``root``, checked; :class:`LibraryError` listing every problem."""
    categories = load_categories(root)
    known = {c.slug: frozenset(s.slug for s in c.subcategories) for c in categories}
    templates: dict[str, Template] = {}
    issues: list[Issue] = []
    for path in sorted(root.glob("*/*.json")):
        where = f"{path.parent.name}/{path.name}"
        if path.stem in templates:
            issues.append(Issue(where, "another category has a template of this slug"))
            continue
        try:
            data = json.loads(path.read_text())
        except ValueError as exc:
            issues.append(Issue(where, f"is not JSON: {exc}"))
            continue
        with default_cost_budget():  # reviewed code: the same check in every deployment
            template, found = parse_template(path.stem, data, known, folder=path.parent.name)
        issues += [Issue(f"{where}: {i.field}", i.description) for i in found]
        if template is not None:
            templates[template.slug] = template
    for template in templates.values():
        for other in template.same_skeleton_as:
            if other not in templates:
                issues.append(Issue(f"{template.slug}: sameSkeletonAs", f"names no template {other!r}"))
    if issues:
        raise LibraryError(issues)
    return Library(categories, templates)
