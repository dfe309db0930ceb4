"""The problems this package reports, in the shape the API returns them.

Every check in ``beez.workflow`` speaks in :class:`Issue` values: a path in the API's JSON
spelling (``actions[2].config.subject``) and a human description. The automation service turns
them into ``google.rpc.BadRequest`` field violations unchanged, so the path a user sees is the
path this package computed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem at one place of a workflow (or of a condition list, a template, ...)."""

    field: str
    description: str

    def __str__(self) -> str:
        return f"{self.field}: {self.description}" if self.field else self.description


def join_path(base: str, key: str | int) -> str:
    """Appends a key (``.name``) or a list index (``[3]``) to a JSON path."""
    if isinstance(key, int):
        return f"{base}[{key}]"
    if not base:
        return key
    return f"{base}.{key}"


class IssuesError(ValueError):
    """Base of the errors that carry a list of issues; ``str()`` lists them all."""

    def __init__(self, issues: Iterable[Issue]) -> None:
        self.issues: list[Issue] = list(issues)
        super().__init__("; ".join(str(issue) for issue in self.issues) or "invalid")


class WorkflowError(IssuesError):
    """A workflow (or a contact or event) that cannot be read or is invalid."""


class ConditionError(IssuesError):
    """Conditions that do not compile, or (in strict mode) cannot be evaluated."""


class ConditionBudgetError(ConditionError):
    """Conditions whose evaluation could cost more than their budget; they were not run."""


class TemplateError(ValueError):
    """A template that does not parse or fails to render; the message says why."""
