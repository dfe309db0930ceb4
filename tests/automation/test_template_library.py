"""Every built-in template passes the library's checks (decision 0048), in memory.

The loader validates each file against the catalog at start; these tests add what needs the
engine: each template dry-runs on its own sample through the same walk as TestAutomation, its
rendered messages are whole (no ``{{``, no empty subject, SMS within one GSM-7 segment), and no
two templates share a skeleton unless their subcategories differ and one says why.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import json_format

from beez.api.messages.v1.events_pb2 import Event
from beez.automation.domain import dryrun
from beez.automation.library.customize import apply_overrides, blame_overrides
from beez.automation.library.format import Template, parse_template
from beez.automation.library.loader import DATA, LibraryError, load_categories, load_library
from beez.automation.library.paths import PathError, get_path, parse_path, set_path
from beez.automation.library.skeleton import skeleton
from beez.workflow.errors import Issue
from beez.workflow.model import workflow_from_json

LIBRARY = load_library()
TEMPLATES = sorted(LIBRARY.templates.values(), key=lambda t: t.slug)
NOW = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà^{}\\[~]|€"
)
COMMUNICATION = {"send_email", "send_sms", "send_whatsapp", "send_slack", "send_internal_notification"}
MINIMUM_PER_CATEGORY = 6


def _run(template: Template) -> dryrun.DryRun:
    event = json_format.ParseDict(template.sample_event(), Event())
    waits = template.sample.get("waitOutcomes") or {}
    workflow = workflow_from_json(template.workflow)
    return dryrun.dry_run(
        f"template:{template.slug}", workflow, event, waits, NOW, template.sample.get("vars")
    )


def _texts(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in _texts(item)]
    if isinstance(value, list):
        return [text for item in value for text in _texts(item)]
    return []


def test_the_library_has_templates_in_every_category() -> None:
    per_category: dict[str, int] = defaultdict(int)
    for template in TEMPLATES:
        per_category[template.category] += 1
    assert set(per_category) == {c.slug for c in LIBRARY.categories}
    assert min(per_category.values()) >= MINIMUM_PER_CATEGORY, dict(per_category)


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t.slug)
def test_each_template_dry_runs_on_its_sample_with_whole_messages(template: Template) -> None:
    result = _run(template)
    errors = [(s.path, s.detail) for s in result.steps if s.outcome in ("error", "truncated")]
    assert not errors
    if template.workflow["trigger"]["type"] not in TIME_TRIGGERS:
        assert result.would_start, result.reason
    assert [s for s in result.steps if s.outcome in ("would_send", "would_run")], (
        "the sample path does something"
    )
    sent = [s for s in result.steps if s.type in COMMUNICATION]
    assert not [s.path for s in sent if s.outcome == "skipped"], (
        "the sample contact can receive every message"
    )
    for step in result.steps:
        config = step.detail.get("config") or {}
        for text in _texts(config):
            assert "{{" not in text and "{%" not in text, (step.path, text)
        if step.type == "send_email":
            assert str(config.get("subject", "")).strip() or config.get("template"), step.path
        if step.type == "send_sms":
            body = str(config["body"])
            assert len(body) <= 160 and set(body) <= GSM7, (step.path, len(body), set(body) - GSM7)


TIME_TRIGGERS = {
    "schedule", "delay", "relative_date", "anniversary", "specific_date", "time_window", "timezone_aware",
    "business_hours", "countdown", "inactivity", "recurring_interval", "cron",
}  # fmt: skip
"""Triggers fired by time: the dry run cannot "receive" them, so its would_start is not asked."""


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t.slug)
def test_each_customizable_field_is_applied_where_it_points(template: Template) -> None:
    for custom in template.customizable:
        workflow, issues = apply_overrides(template, {custom.path: custom.default})
        assert not issues
        assert get_path(workflow, custom.path) == custom.default


def test_no_two_templates_share_a_skeleton_unless_their_subcategories_differ_and_one_says_why() -> None:
    by_skeleton: dict[str, list[Template]] = defaultdict(list)
    for template in TEMPLATES:
        by_skeleton[skeleton(template.workflow)].append(template)
    problems = []
    for shape, group in by_skeleton.items():
        for index, first in enumerate(group):
            for second in group[index + 1 :]:
                explained = second.slug in first.same_skeleton_as or first.slug in second.same_skeleton_as
                if first.subcategory == second.subcategory or not explained:
                    problems.append(f"{first.slug} and {second.slug}: {shape}")
    assert not problems


def test_skeletons_see_branches_and_their_steps() -> None:
    linear = {"trigger": {"type": "tag_added"}, "actions": [{"type": "send_email"}, {"type": "wait"}]}
    branched = {
        "trigger": {"type": "tag_added"},
        "actions": [
            {
                "type": "condition",
                "branches": [{"name": "yes", "actions": [{"type": "send_sms"}]}, {"name": "no"}],
            }
        ],
    }
    assert skeleton(linear) == "tag_added|send_email,wait"
    assert skeleton(branched) == "tag_added|condition(yes:[send_sms];no:[])"


def _file(slug: str) -> tuple[str, dict[str, Any]]:
    path = next(DATA.glob(f"*/{slug}.json"))
    return path.parent.name, json.loads(path.read_text())


def _parse(data: dict[str, Any], folder: str) -> list[Issue]:
    known = {c.slug: frozenset(s.slug for s in c.subcategories) for c in load_categories()}
    return parse_template("x", data, known, folder=folder)[1]


def test_the_loader_refuses_a_default_that_is_not_the_workflows_value() -> None:
    folder, data = _file(TEMPLATES[0].slug)
    data["customizable"][0]["default"] = "something else"
    assert [i.field for i in _parse(data, folder)] == ["customizable[0].default", "customizable[0].default"]


def test_the_loader_refuses_a_path_that_leads_nowhere_and_an_undeclared_integration() -> None:
    folder, data = _file(TEMPLATES[0].slug)
    data["customizable"][0]["path"] = "actions[40].config.subject"
    data["integrations"] = []
    fields = {i.field for i in _parse(data, folder)}
    assert {"customizable[0].path", "integrations"} <= fields


def test_the_loader_refuses_a_workflow_the_catalog_refuses(tmp_path: Path) -> None:
    folder, data = _file(TEMPLATES[0].slug)
    data["workflow"]["actions"][0]["type"] = "send_pigeon"
    (tmp_path / folder).mkdir()
    (tmp_path / folder / "broken.json").write_text(json.dumps(data))
    (tmp_path / "categories.json").write_text((DATA / "categories.json").read_text())
    with pytest.raises(LibraryError) as caught:
        load_library(tmp_path)
    assert any(i.field.startswith(f"{folder}/broken.json: workflow.actions[0]") for i in caught.value.issues)


def test_overrides_are_checked_against_their_field_and_blamed_by_path() -> None:
    template = next(t for t in TEMPLATES if any(f.type == "integer" for f in t.customizable))
    number = next(f for f in template.customizable if f.type == "integer")
    _, issues = apply_overrides(template, {number.path: "many", "actions[0].config.nope": 1})
    assert [i.field for i in issues] == [f"overrides[{number.path}]", "overrides[actions[0].config.nope]"]
    blamed = blame_overrides([Issue(f"{number.path}.x", "bad"), Issue("name", "bad")], {number.path: 3})
    assert [i.field for i in blamed] == [f"overrides[{number.path}]", "name"]


def test_paths_read_and_write_json_documents() -> None:
    document = {"actions": [{"config": {"subject": "a"}}]}
    assert parse_path("actions[0].config.subject") == ["actions", 0, "config", "subject"]
    set_path(document, "actions[0].config.subject", "b")
    assert get_path(document, "actions[0].config.subject") == "b"
    for bad in ("actions[1].config", "[0]", "actions..x", "actions[0]config"):
        with pytest.raises(PathError):
            get_path(document, bad)
    assert re.fullmatch(r"[a-z0-9-]+", TEMPLATES[0].slug)
