"""Every config text and condition has a maximum length; longer is refused at its path."""

from __future__ import annotations

from typing import Any

import pytest

from beez.workflow import catalog
from beez.workflow.catalog.pieces import DEFAULT_MAX_LENGTH, MAX_LENGTHS
from beez.workflow.errors import Issue
from beez.workflow.model import workflow_from_json
from beez.workflow.validate import validate_workflow


def check(action: dict[str, Any], **top: Any) -> list[Issue]:
    data: dict[str, Any] = {"name": "test", "trigger": {"type": "contact_created"}, "actions": [action]}
    data.update(top)
    return validate_workflow(workflow_from_json(data))


def texts(schema: Any, path: str) -> list[str]:
    """The paths of the texts of a schema that carry no maxLength."""
    if not isinstance(schema, dict):
        return []
    missing = []
    kinds = schema.get("type")
    kinds = {kinds} if isinstance(kinds, str) else set(kinds or ())
    if "string" in kinds and "maxLength" not in schema and "enum" not in schema:
        missing.append(path)
    for name, sub in (schema.get("properties") or {}).items():
        missing += texts(sub, f"{path}.{name}")
    for key in ("additionalProperties", "items"):
        missing += texts(schema.get(key), f"{path}.{key}")
    return missing


def test_every_text_of_every_catalog_schema_has_a_max_length() -> None:
    missing = []
    for action in catalog.action_types():
        missing += texts(action.config_schema, action.type)
    for trigger in catalog.trigger_types():
        missing += texts(trigger.config_schema, trigger.type) + texts(trigger.filters_schema, trigger.type)

    assert missing == []


@pytest.mark.parametrize(
    ("action", "path", "limit"),
    [
        ({"type": "send_email", "config": {"subject": "s" * 999, "body": "b"}}, "subject", 998),
        ({"type": "send_email", "config": {"subject": "s", "body": "b" * 100_001}}, "body", 100_000),
        ({"type": "webhook", "config": {"url": "https://example.com/" + "p" * 2048}}, "url", 2048),
        (
            {"type": "webhook", "config": {"url": "https://example.com", "headers": {"X": "v" * 4097}}},
            "headers.X",
            4096,
        ),
        ({"type": "add_tag", "config": {"tag": "t" * 201}}, "tag", 200),
        ({"type": "update_field", "config": {"field": "plan", "value": "v" * 10_001}}, "value", 10_000),
        ({"type": "stop", "config": {"reason": "r" * 1001}}, "reason", 1000),
    ],
)
def test_a_config_text_over_its_max_length_is_refused_at_its_path(
    action: dict[str, Any], path: str, limit: int
) -> None:
    assert MAX_LENGTHS.get(path.split(".")[0], DEFAULT_MAX_LENGTH) == limit

    assert check(action) == [Issue(f"actions[0].config.{path}", f"must have at most {limit} characters")]


def test_texts_at_their_max_length_pass() -> None:
    assert check({"type": "send_email", "config": {"subject": "s" * 998, "body": "b" * 100_000}}) == []


def test_a_long_filter_value_is_refused() -> None:
    issues = check(
        {"type": "add_tag", "config": {"tag": "x"}},
        trigger={"type": "contact_created", "filters": {"plan": "p" * 1001}},
    )

    assert issues == [Issue("trigger.filters.plan", "must have at most 1000 characters")]


@pytest.mark.parametrize(
    ("condition", "path", "limit"),
    [
        ({"expression": "true && " * 600 + "true"}, "conditions[0].expression", 4096),
        ({"field": "contact.fields." + "f" * 260, "operator": "is_empty"}, "conditions[0].field", 256),
        (
            {"field": "contact.first_name", "operator": "equals", "value": "x" * 5000},
            "conditions[0].value",
            4096,
        ),
    ],
)
def test_a_condition_over_its_max_length_is_refused_at_its_path(
    condition: dict[str, Any], path: str, limit: int
) -> None:
    issues = check({"type": "add_tag", "config": {"tag": "x"}}, conditions=[condition])

    assert issues == [Issue(path, f"must have at most {limit} characters")]
