"""Checking a value against a catalog JSON schema, with each error turned into a path.

jsonschema reports a missing property at the object (``'subject' is a required property`` at
``config``); the API wants it at the property (``actions[0].config.subject``), so required,
dependentRequired and additionalProperties errors are re-pointed. Formats are checked with a
checker that lets template text through (``{{ contact.fields.manager_email }}`` is a fine
``to`` even though it is not an email address yet).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError

from beez.workflow.errors import Issue, join_path
from beez.workflow.intervals import parse_time

__all__ = ["FORMAT_CHECKER", "schema_issues"]

FORMAT_CHECKER = FormatChecker(formats=())
"""Formats used by the catalog: ``email``, ``uri`` (http/https) and ``date-time`` (RFC 3339 or
``YYYY-MM-DD``), template text allowed."""

_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
_NAMED_EMAIL = re.compile(r"^[^<>]*<([^<>]+)>$")


def _templated(value: str) -> bool:
    return "{{" in value or "{%" in value


@FORMAT_CHECKER.checks("email")
def _is_email(value: object) -> bool:
    """``ada@example.com`` or ``Ada <ada@example.com>``, or template text."""
    if not isinstance(value, str) or _templated(value):
        return True
    named = _NAMED_EMAIL.match(value.strip())
    return _EMAIL.match(named.group(1) if named else value.strip()) is not None


@FORMAT_CHECKER.checks("uri")
def _is_uri(value: object) -> bool:
    """An absolute http(s) URL with a host, or template text."""
    if not isinstance(value, str) or _templated(value):
        return True
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


@FORMAT_CHECKER.checks("date-time")
def _is_date_time(value: object) -> bool:
    """An RFC 3339 time or a ``YYYY-MM-DD`` date (as :func:`~beez.workflow.intervals.parse_time`
    reads them), or template text."""
    if not isinstance(value, str) or _templated(value):
        return True
    return parse_time(value) is not None


_VALIDATORS: dict[int, tuple[Mapping[str, Any], Draft202012Validator]] = {}


def _validator_for(schema: Mapping[str, Any]) -> Draft202012Validator:
    """One compiled validator per schema object (catalog schemas live for the process)."""
    cached = _VALIDATORS.get(id(schema))
    if cached is None or cached[0] is not schema:
        if len(_VALIDATORS) > 512:
            _VALIDATORS.clear()
        cached = (schema, Draft202012Validator(schema, format_checker=FORMAT_CHECKER))
        _VALIDATORS[id(schema)] = cached
    return cached[1]


def _path(base: str, parts: Any) -> str:
    path = base
    for part in parts:
        path = join_path(path, part if isinstance(part, int) else str(part))
    return path


def _describe(error: ValidationError) -> str:
    schema: Any = error.schema
    custom = schema.get("errorMessage") if isinstance(schema, Mapping) else None
    if isinstance(custom, str):
        return custom
    if error.validator == "format":
        return f"must be a valid {error.validator_value}"
    if error.validator == "enum":
        options: Any = error.validator_value
        return "must be one of " + ", ".join(str(option) for option in options)
    if error.validator == "pattern":
        return f"{error.instance!r} does not have the expected form"
    bound: Any = error.validator_value
    wording = {
        "minimum": f"must be at least {bound}",
        "maximum": f"must be at most {bound}",
        "exclusiveMinimum": f"must be more than {bound}",
        "exclusiveMaximum": f"must be less than {bound}",
        "minLength": "must not be empty" if bound == 1 else f"must have at least {bound} characters",
        "maxLength": f"must have at most {bound} characters",
        "minItems": f"must have at least {bound} items",
        "maxItems": f"must have at most {bound} items",
        "uniqueItems": "must not repeat items",
        "const": f"must be {bound!r}",
    }
    if isinstance(error.validator, str) and error.validator in wording:
        return wording[error.validator]
    if error.validator == "type":
        kinds = [bound] if isinstance(bound, str) else list(bound)
        names = {
            "string": "text",
            "integer": "a whole number",
            "number": "a number",
            "boolean": "true or false",
            "object": "an object",
            "array": "a list",
            "null": "null",
        }
        return "must be " + " or ".join(names.get(kind, f"a(n) {kind}") for kind in kinds)
    return error.message


def _issues_for(error: ValidationError, base: str) -> list[Issue]:
    at = _path(base, error.absolute_path)
    instance = error.instance
    rule: Any = error.validator_value
    schema: Any = error.schema
    if error.validator == "required" and isinstance(instance, Mapping):
        custom = schema.get("errorMessage") if isinstance(schema, Mapping) else None
        missing = [name for name in rule if name not in instance]
        return [Issue(join_path(at, name), custom or "is required") for name in missing]
    if error.validator == "dependentRequired" and isinstance(instance, Mapping):
        issues = []
        for trigger, needed in rule.items():
            if trigger in instance:
                for name in needed:
                    if name not in instance:
                        issues.append(Issue(join_path(at, name), f"is required with {trigger}"))
        return issues
    if (
        error.validator == "additionalProperties"
        and rule is False
        and isinstance(instance, Mapping)
        and isinstance(schema, Mapping)
    ):
        known = set(schema.get("properties", {}))
        return [Issue(join_path(at, str(name)), "unknown field") for name in instance if name not in known]
    return [Issue(at, _describe(error))]


def schema_issues(schema: Mapping[str, Any], instance: Any, base: str) -> list[Issue]:
    """Every way ``instance`` breaks ``schema``, as issues under the path ``base``.

    Issues are sorted by path so results are stable.
    """
    validator = _validator_for(schema)
    issues: list[Issue] = []
    for error in validator.iter_errors(instance):
        for issue in _issues_for(error, base):
            if issue not in issues:
                issues.append(issue)
    return sorted(issues, key=lambda issue: issue.field)
