"""The template file format (decision 0048) and the checks every template passes before it is served.

One JSON file per template, ``data/<category>/<slug>.json``::

    {"name": "...", "description": "...", "category": "sales", "subcategory": "lead_scoring",
     "industry": "saas", "tags": ["lead", "scoring"], "difficulty": "beginner", "setupMinutes": 5,
     "featured": false, "integrations": ["email", "slack"],
     "workflow": {...the workflow format...},
     "customizable": [{"path": "actions[0].config.subject", "label": "Subject", "type": "text",
                       "default": "...", "validation": {"maxLength": 120}}],
     "sample": {"event": {...an event, without its contact...}, "contact": {...},
                "waitOutcomes": {"step id": "event"},
                "vars": {"report": {"status": 200, "body": {...}}}},
     "sameSkeletonAs": {"other-slug": "why this one is a template of its own"}}

``sample.vars`` stands in for what a preview cannot fetch (the answers of ``call_api`` steps,
saved under their ``save_as``). ``default`` must equal the value the workflow holds at
``path``: the workflow as written is the template with its defaults, and activating it in one
click uses exactly that.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import jsonschema

from beez.automation.library.paths import PathError, get_path
from beez.workflow.connections import INTEGRATIONS_B
from beez.workflow.errors import Issue, WorkflowError
from beez.workflow.model import walk_actions, workflow_from_json
from beez.workflow.validate import validate_workflow

DIFFICULTIES = ("beginner", "intermediate", "advanced")
FIELD_TYPES = ("text", "long_text", "number", "integer", "boolean", "select", "email", "url", "time")
_ACTION_INTEGRATION: dict[str, str] = {
    "send_email": "email",
    "send_sms": "sms",
    "send_whatsapp": "whatsapp",
    "send_slack": "slack",
    "send_push": "push",
    "webhook": "webhook",
    "call_api": "http_api",
    "enrich_contact": "http_api",
    "update_stripe_subscription": "stripe",
    "create_shopify_order": "shopify",
    "append_google_sheets_row": "google_sheets",
    "create_salesforce_lead": "salesforce",
    "update_hubspot_contact": "hubspot",
    "send_zapier_webhook": "zapier",
    "send_make_webhook": "make",
    "sync_crm": "pipedrive_or_close",
    **INTEGRATIONS_B,
}
"""The integration each outgoing action type needs (a channel, or a provider's connection)."""

INTEGRATIONS: tuple[str, ...] = tuple(dict.fromkeys(_ACTION_INTEGRATION.values()))
"""What a template may require: the channels and outgoing integrations of the catalog's actions."""

_VALIDATION_KEYS = {"required", "minLength", "maxLength", "min", "max", "options", "pattern"}
_KNOWN_KEYS = {
    "name",
    "description",
    "category",
    "subcategory",
    "industry",
    "tags",
    "difficulty",
    "setupMinutes",
    "featured",
    "integrations",
    "workflow",
    "customizable",
    "sample",
    "sameSkeletonAs",
}


@dataclass(frozen=True)
class CustomField:
    """One customizable field: where it sits in the workflow, how the UI shows it, what it accepts."""

    path: str
    label: str
    type: str
    default: Any
    validation: Mapping[str, Any] = field(default_factory=dict)

    def schema(self) -> dict[str, Any]:
        """The JSON schema a value of this field must satisfy."""
        v = self.validation
        base: dict[str, Any] = {
            "text": {"type": "string"},
            "long_text": {"type": "string"},
            "email": {"type": "string", "pattern": r"^[^@\s{}]+@[^@\s{}]+\.[^@\s{}]+$"},
            "url": {"type": "string", "pattern": r"^https://"},
            "time": {"type": "string", "pattern": r"^([01]\d|2[0-3]):[0-5]\d$"},
            "number": {"type": "number"},
            "integer": {"type": "integer"},
            "boolean": {"type": "boolean"},
            "select": {},
        }[self.type]
        schema = dict(base)
        if self.type in ("text", "long_text", "email", "url"):
            schema["minLength"] = v.get("minLength", 1 if v.get("required", True) else 0)
            if "maxLength" in v:
                schema["maxLength"] = v["maxLength"]
            if "pattern" in v:
                schema = {"allOf": [schema, {"pattern": v["pattern"]}]}
        if "min" in v:
            schema["minimum"] = v["min"]
        if "max" in v:
            schema["maximum"] = v["max"]
        if "options" in v:
            schema["enum"] = list(v["options"])
        return schema

    def problem(self, value: Any) -> str | None:
        """Why ``value`` is not acceptable here, or None."""
        try:
            jsonschema.validate(value, self.schema())
        except jsonschema.ValidationError as exc:
            return str(exc.message)
        return None

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "label": self.label,
            "type": self.type,
            "default": self.default,
            "validation": dict(self.validation),
        }


@dataclass(frozen=True)
class Template:
    """A template as the library serves it; ``slug`` is its id."""

    slug: str
    name: str
    description: str
    category: str
    subcategory: str
    industry: str
    tags: tuple[str, ...]
    difficulty: str
    setup_minutes: int
    featured: bool
    integrations: tuple[str, ...]
    workflow: dict[str, Any]
    customizable: tuple[CustomField, ...]
    sample: dict[str, Any]
    same_skeleton_as: Mapping[str, str] = field(default_factory=dict)

    @property
    def digest(self) -> str:
        """Changes whenever anything of the template does: a file edit updates the stored row."""
        return hashlib.sha256(json.dumps(self.to_json(), sort_keys=True).encode()).hexdigest()[:32]

    def sample_event(self) -> dict[str, Any]:
        """The sample as one event in the format's JSON, its contact inside."""
        event = dict(self.sample.get("event") or {})
        contact = self.sample.get("contact")
        if contact:
            event["contact"] = contact
            event.setdefault("contactId", contact.get("id", ""))
        return event

    def to_json(self) -> dict[str, Any]:
        """The file's content, as stored and served."""
        return {
            "name": self.name,
            "description": self.description,
            "category": self.category,
            "subcategory": self.subcategory,
            "industry": self.industry,
            "tags": list(self.tags),
            "difficulty": self.difficulty,
            "setupMinutes": self.setup_minutes,
            "featured": self.featured,
            "integrations": list(self.integrations),
            "workflow": self.workflow,
            "customizable": [item.to_json() for item in self.customizable],
            "sample": self.sample,
            "sameSkeletonAs": dict(self.same_skeleton_as),
        }


def required_integrations(workflow: Mapping[str, Any]) -> set[str]:
    """The integrations a workflow's actions use, by the catalog's action types."""
    parsed = workflow_from_json(workflow)
    return {
        _ACTION_INTEGRATION[step.action.type]
        for step in walk_actions(parsed.actions)
        if step.action.type in _ACTION_INTEGRATION
    }


def _text(data: Mapping[str, Any], key: str, issues: list[Issue], *, limit: int = 200) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        issues.append(Issue(key, "is required text"))
        return ""
    if len(value) > limit:
        issues.append(Issue(key, f"is longer than {limit} characters"))
    return value


def _fields(raw: Any, workflow: Mapping[str, Any], issues: list[Issue]) -> list[CustomField]:
    if not isinstance(raw, list):
        issues.append(Issue("customizable", "must be a list"))
        return []
    found: list[CustomField] = []
    seen: set[str] = set()
    for index, item in enumerate(raw):
        at = f"customizable[{index}]"
        if not isinstance(item, dict):
            issues.append(Issue(at, "must be an object"))
            continue
        path, label, kind = item.get("path"), item.get("label"), item.get("type")
        validation = item.get("validation") or {}
        if not isinstance(path, str) or not isinstance(label, str) or not label:
            issues.append(Issue(at, "needs a path and a label"))
            continue
        if kind not in FIELD_TYPES:
            issues.append(Issue(f"{at}.type", f"must be one of {', '.join(FIELD_TYPES)}"))
            continue
        if not isinstance(validation, dict) or set(validation) - _VALIDATION_KEYS:
            issues.append(Issue(f"{at}.validation", f"may hold only {', '.join(sorted(_VALIDATION_KEYS))}"))
            continue
        if kind == "select" and not validation.get("options"):
            issues.append(Issue(f"{at}.validation.options", "a select field lists its options"))
        if path in seen:
            issues.append(Issue(f"{at}.path", "is customizable twice"))
        seen.add(path)
        if "default" not in item:
            issues.append(Issue(f"{at}.default", "is required"))
            continue
        custom = CustomField(path, label, kind, item["default"], validation)
        try:
            current = get_path(workflow, path)
        except PathError as exc:
            issues.append(Issue(f"{at}.path", str(exc)))
            continue
        if current != custom.default:
            issues.append(Issue(f"{at}.default", f"is not the workflow's value at {path} ({current!r})"))
        if (problem := custom.problem(custom.default)) is not None:
            issues.append(Issue(f"{at}.default", f"does not validate: {problem}"))
        found.append(custom)
    return found


def parse_template(
    slug: str, data: Any, categories: Mapping[str, frozenset[str]], folder: str | None = None
) -> tuple[Template | None, list[Issue]]:
    """The template a file holds, or None and every problem found.

    ``categories``: each category's subcategories; ``folder``: the category folder the file is in.
    """
    if not isinstance(data, dict):
        return None, [Issue("", "a template is a JSON object")]
    issues = [Issue(key, "is not a template field") for key in data if key not in _KNOWN_KEYS]
    name = _text(data, "name", issues)
    description = _text(data, "description", issues, limit=1000)
    category = _text(data, "category", issues)
    subcategory = _text(data, "subcategory", issues)
    industry = _text(data, "industry", issues)
    if category and category not in categories:
        issues.append(Issue("category", f"must be one of {', '.join(categories)}"))
    elif category and subcategory not in categories[category]:
        issues.append(Issue("subcategory", f"is not a subcategory of {category}"))
    if folder is not None and category != folder:
        issues.append(Issue("category", f"is not the folder the file is in ({folder})"))
    tags = data.get("tags")
    if not (isinstance(tags, list) and tags and all(isinstance(t, str) and t == t.lower() for t in tags)):
        issues.append(Issue("tags", "must be a non-empty list of lower-case words"))
        tags = []
    difficulty = data.get("difficulty")
    if difficulty not in DIFFICULTIES:
        issues.append(Issue("difficulty", f"must be one of {', '.join(DIFFICULTIES)}"))
    setup = data.get("setupMinutes")
    if not isinstance(setup, int) or not 1 <= setup <= 240:
        issues.append(Issue("setupMinutes", "must be a number of minutes from 1 to 240"))
    workflow = data.get("workflow")
    if not isinstance(workflow, dict):
        return None, [*issues, Issue("workflow", "is required")]
    try:
        parsed = workflow_from_json(workflow)
    except WorkflowError as exc:
        return None, [*issues, *(Issue(f"workflow.{i.field}", i.description) for i in exc.issues)]
    issues += [Issue(f"workflow.{i.field}", i.description) for i in validate_workflow(parsed)]
    integrations = data.get("integrations")
    if not isinstance(integrations, list) or set(integrations) - set(INTEGRATIONS):
        issues.append(Issue("integrations", f"must list some of {', '.join(INTEGRATIONS)}"))
        integrations = []
    elif missing := required_integrations(workflow) - set(integrations):
        issues.append(
            Issue("integrations", f"leaves out {', '.join(sorted(missing))}, which the workflow uses")
        )
    fields = _fields(data.get("customizable", []), workflow, issues)
    sample = data.get("sample")
    if not isinstance(sample, dict) or not isinstance(sample.get("event"), dict):
        issues.append(Issue("sample.event", "is required"))
        sample = {}
    same = data.get("sameSkeletonAs", {})
    if not isinstance(same, dict) or not all(isinstance(v, str) and len(v) >= 20 for v in same.values()):
        issues.append(Issue("sameSkeletonAs", "maps a template's slug to why this one differs (a sentence)"))
        same = {}
    if issues:
        return None, issues
    template = Template(
        slug=slug,
        name=name,
        description=description,
        category=category,
        subcategory=subcategory,
        industry=industry,
        tags=tuple(tags),
        difficulty=str(difficulty),
        setup_minutes=int(setup or 0),
        featured=bool(data.get("featured", False)),
        integrations=tuple(sorted(integrations)),
        workflow=workflow,
        customizable=tuple(fields),
        sample=sample,
        same_skeleton_as=same,
    )
    return template, []
