"""The template library's use cases (seed frame 3): no gRPC, no SQL.

Built-in templates come from the library's files (:mod:`beez.automation.library`), checked at
start and stored idempotently by :meth:`TemplateService.sync`; personal templates are saved
from an organization's automations and only it sees them. Making an automation from a template
goes through :class:`AutomationService.create`, so it is validated (and announced) exactly like
one written by hand; the automation holds its own copy of the workflow, so later edits of the
template change nothing in it. Views and uses are counted per organization and day, never per
user (seed GDPR), and kept :data:`USAGE_RETENTION_DAYS` days.

Paths in field violations: overrides are named ``overrides[<customizable path>]``; other
request fields as in the request (``rating``, ``category``, ``page_token``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from google.protobuf import json_format

from beez.api.messages.v1.events_pb2 import Event
from beez.automation.domain import dryrun
from beez.automation.library.customize import apply_overrides, blame_overrides
from beez.automation.library.format import (
    DIFFICULTIES,
    INTEGRATIONS,
    CustomField,
    Template,
    required_integrations,
)
from beez.automation.library.loader import Category, Library
from beez.automation.library.recommend import Candidate, recommend
from beez.automation.library.similar import most_similar, profile
from beez.automation.models import TemplateRow
from beez.automation.repository.templates import TemplateFilter, TemplateRepository, search_vector
from beez.automation.service import AutomationService, AutomationView
from beez.kit.clock import Clock
from beez.kit.db import Database
from beez.kit.grpc.errors import FieldViolation, InvalidArgument, NotFound, require
from beez.kit.grpc.identity import Identity
from beez.kit.ids import new_id
from beez.kit.paging import decode_key, encode_token, read_page, scope_of
from beez.workflow.errors import Issue, WorkflowError
from beez.workflow.model import workflow_from_json, workflow_to_json

__all__ = ["USAGE_RETENTION_DAYS", "CategoryCount", "TemplatePage", "TemplateService"]

USAGE_RETENTION_DAYS = 90
FEATURED_WINDOW_DAYS = 30
SORTS = ("popular", "rating", "newest")


@dataclass(frozen=True)
class TemplatePage:
    templates: list[TemplateRow]
    next_page_token: str
    total: int


@dataclass(frozen=True)
class CategoryCount:
    category: Category
    count: int
    subcategories: list[tuple[str, str, int]]


def _invalid(message: str, issues: list[Issue]) -> InvalidArgument:
    return InvalidArgument(message, [FieldViolation(i.field, i.description) for i in issues])


def _not_found(template_id: str) -> NotFound:
    return NotFound(f"template {template_id} not found")


def builtin_values(template: Template, now: Any) -> dict[str, Any]:
    """A built-in template's row values, from its file."""
    return {
        "id": template.slug,
        "org_id": None,
        "name": template.name,
        "description": template.description,
        "category": template.category,
        "subcategory": template.subcategory,
        "industry": template.industry,
        "tags": list(template.tags),
        "integrations": list(template.integrations),
        "difficulty": template.difficulty,
        "setup_minutes": template.setup_minutes,
        "featured": template.featured,
        "trigger_type": str(template.workflow["trigger"]["type"]),
        "body": template.to_json(),
        "digest": template.digest,
        "search": search_vector(template.name, template.tags, template.subcategory, template.description),
        "create_time": now,
        "update_time": now,
    }


class TemplateService:
    """The template library of every organization, each call scoped to the caller's."""

    def __init__(self, db: Database, clock: Clock, automations: AutomationService, library: Library) -> None:
        self._db = db
        self._clock = clock
        self._automations = automations
        self._library = library
        self._categories = {c.slug: c for c in library.categories}

    @property
    def library(self) -> Library:
        return self._library

    # --- start -----------------------------------------------------------------------------

    async def sync(self) -> int:
        """Stores the library's built-ins: new or changed files are written, removed ones
        retired, unchanged ones left alone; drops usage past its retention. How many were written.
        Safe to run from every replica at once (upserts keyed by slug)."""
        now = self._clock.now()
        written = 0
        async with self._db.transaction() as session:
            repo = TemplateRepository(session)
            stored = await repo.builtin_digests()
            for template in self._library.templates.values():
                if stored.get(template.slug) != (template.digest, False):
                    await repo.upsert_builtin(builtin_values(template, now))
                    written += 1
            gone = [
                slug
                for slug, (_, retired) in stored.items()
                if not retired and slug not in self._library.templates
            ]
            if gone:
                await repo.retire(gone, now)
            await repo.forget_usage_before(now.date() - timedelta(days=USAGE_RETENTION_DAYS))
        return written

    # --- browsing --------------------------------------------------------------------------

    async def list_templates(
        self, identity: Identity, where: TemplateFilter, sort: str, page_size: int, page_token: str
    ) -> TemplatePage:
        self._check_filter(where)
        scope = scope_of(
            where.category,
            where.subcategory,
            where.industry,
            where.tag,
            where.integration,
            where.difficulty,
            sort,
        )
        page = read_page(page_size, page_token, decode=lambda token: decode_key(token, scope))
        offset = int(page.after) if page.after is not None and page.after.isdigit() else 0
        async with self._db.transaction() as session:
            rows, total = await TemplateRepository(session).list_page(
                identity.org_id, where, sort, offset=offset, limit=page.size
            )
        following = offset + len(rows)
        token = encode_token([str(following)], scope) if following < total and rows else ""
        return TemplatePage(rows, token, total)

    async def get(self, identity: Identity, template_id: str) -> TemplateRow:
        """One template; counts a view for the organization."""
        require(id=template_id)
        async with self._db.transaction() as session:
            repo = TemplateRepository(session)
            row = await repo.get(identity.org_id, template_id)
            if row is None:
                raise _not_found(template_id)
            await repo.count_use(row.id, identity.org_id, self._today(), view=True)
        return row

    async def featured(self, identity: Identity, size: int) -> tuple[list[TemplateRow], list[TemplateRow]]:
        """The curated built-ins, and the most used over the last 30 days."""
        since = self._today() - timedelta(days=FEATURED_WINDOW_DAYS)
        async with self._db.transaction() as session:
            repo = TemplateRepository(session)
            curated = [row for row in await repo.visible(identity.org_id) if row.featured]
            used = await repo.most_used_since(identity.org_id, since, max(1, min(size or 6, 50)))
        return curated, used

    async def categories(self, identity: Identity) -> list[CategoryCount]:
        async with self._db.transaction() as session:
            counts = await TemplateRepository(session).counts(identity.org_id)
        result = []
        for category in self._library.categories:
            subs = [(s.slug, s.name, counts.get((category.slug, s.slug), 0)) for s in category.subcategories]
            total = sum(n for (cat, _), n in counts.items() if cat == category.slug)
            result.append(CategoryCount(category, total, subs))
        return result

    async def search(
        self, identity: Identity, query: str, category: str, size: int
    ) -> list[tuple[TemplateRow, float]]:
        require(query=query.strip())
        self._check_filter(TemplateFilter(category=category))
        async with self._db.transaction() as session:
            return await TemplateRepository(session).search(
                identity.org_id, query, category, max(1, min(size or 20, 100))
            )

    async def similar(
        self, identity: Identity, template_id: str, size: int
    ) -> list[tuple[TemplateRow, float, str]]:
        """Templates like ``template_id`` by the score of :mod:`beez.automation.library.similar`."""
        require(id=template_id)
        async with self._db.transaction() as session:
            rows = await TemplateRepository(session).visible(identity.org_id)
        by_id = {row.id: row for row in rows}
        if template_id not in by_id:
            raise _not_found(template_id)
        profiles = {
            row.id: profile(row.id, row.category, row.name, row.tags, row.body["workflow"]) for row in rows
        }
        best = most_similar(profiles[template_id], profiles.values(), max(1, min(size or 6, 50)))
        return [(by_id[i], score, reason) for i, score, reason in best]

    async def recommendations(self, identity: Identity, size: int) -> list[tuple[TemplateRow, float, str]]:
        """Templates for the gaps in the organization's automations (:mod:`.library.recommend`)."""
        async with self._db.transaction() as session:
            repo = TemplateRepository(session)
            rows = await repo.visible(identity.org_id)
            triggers = await repo.automation_triggers(identity.org_id)
            used = await repo.used_by(identity.org_id)
        by_id = {row.id: row for row in rows}
        ranked = recommend(
            triggers,
            used,
            [Candidate(row.id, row.subcategory, row.usage_count) for row in rows if row.org_id is None],
            max(1, min(size or 10, 50)),
        )
        return [(by_id[i], score, reason) for i, score, reason in ranked]

    # --- using -----------------------------------------------------------------------------

    async def preview(
        self,
        identity: Identity,
        template_id: str,
        event: Event | None,
        overrides: Mapping[str, Any],
        wait_outcomes: Mapping[str, str],
    ) -> tuple[dryrun.DryRun, Any]:
        """A dry run of the template (overrides applied) on the caller's sample, or the
        template's own; stores nothing, not even the sample."""
        row = await self._visible(identity, template_id)
        workflow = self._workflow(row, overrides, "")
        issues = dryrun.wait_outcome_issues(workflow, wait_outcomes)
        if issues:
            raise _invalid("invalid wait_outcomes", issues)
        sample = Event()
        if event is not None:
            sample.CopyFrom(event)
        else:
            json_format.ParseDict(template_of(row).sample_event(), sample, ignore_unknown_fields=True)
        sample.organization_id = identity.org_id
        return dryrun.dry_run(
            f"template:{row.id}", workflow, sample, wait_outcomes, self._clock.now()
        ), workflow

    async def create_from(
        self, identity: Identity, template_id: str, overrides: Mapping[str, Any], name: str, active: bool
    ) -> AutomationView:
        """An automation from the template with ``overrides`` applied, validated like any other:
        field violations name the override they come from. Counts a use."""
        row = await self._visible(identity, template_id)
        workflow = self._workflow(row, overrides, name)
        issues = await self._automations.validate(identity, workflow)
        if issues:
            raise _invalid("the customized workflow is invalid", blame_overrides(issues, overrides))
        view = await self._automations.create(identity, workflow, active)
        async with self._db.transaction() as session:
            await TemplateRepository(session).count_use(row.id, identity.org_id, self._today(), view=False)
        return view

    async def rate(
        self, identity: Identity, template_id: str, rating: int, review: str
    ) -> tuple[int, float, int]:
        """The organization's rating (1 to 5, replacing its last), then the average and count."""
        require(id=template_id)
        if not 1 <= rating <= 5:
            raise InvalidArgument("rating must be 1 to 5", [FieldViolation("rating", "must be from 1 to 5")])
        if len(review) > 2000:
            raise InvalidArgument(
                "review too long", [FieldViolation("review", "must be at most 2000 characters")]
            )
        async with self._db.transaction() as session:
            repo = TemplateRepository(session)
            row = await repo.get(identity.org_id, template_id, for_update=True)
            if row is None:
                raise _not_found(template_id)
            await repo.rate(row, identity.org_id, rating, review, self._clock.now())
            return rating, row.rating_sum / row.rating_count, row.rating_count

    async def save_as_template(
        self,
        identity: Identity,
        automation_id: str,
        *,
        name: str,
        description: str,
        category: str,
        subcategory: str,
        industry: str,
        tags: list[str],
    ) -> TemplateRow:
        """A personal template from the automation's current version, visible only to its organization."""
        require(id=automation_id, category=category)
        known = self._categories.get(category)
        violations = []
        if known is None:
            violations.append(FieldViolation("category", f"must be one of {', '.join(self._categories)}"))
        elif subcategory and subcategory not in {s.slug for s in known.subcategories}:
            violations.append(FieldViolation("subcategory", f"is not a subcategory of {category}"))
        if len(name) > 200:
            violations.append(FieldViolation("name", "must be at most 200 characters"))
        if violations:
            raise InvalidArgument("invalid template", violations)
        view = await self._automations.get(identity, automation_id)
        workflow = workflow_to_json(view.workflow)
        now = self._clock.now()
        clean_tags = sorted({t.strip().lower() for t in tags if t.strip()})
        body = {
            "workflow": workflow,
            "customizable": [],
            "sample": {"event": {"type": dryrun.trigger_event(view.workflow)}},
        }
        row = TemplateRow(
            id=new_id(),
            org_id=identity.org_id,
            name=name or view.workflow.name,
            description=description or view.workflow.description,
            category=category,
            subcategory=subcategory or (known.subcategories[0].slug if known else ""),
            industry=industry or "general",
            tags=clean_tags,
            integrations=sorted(required_integrations(workflow)),
            difficulty="intermediate",
            setup_minutes=5,
            featured=False,
            trigger_type=view.workflow.trigger.type,
            body=body,
            digest="",
            search=search_vector(name or view.workflow.name, clean_tags, subcategory, description),
            usage_count=0,
            view_count=0,
            rating_sum=0,
            rating_count=0,
            created_by=identity.user_id,
            source_automation_id=automation_id,
            create_time=now,
            update_time=now,
        )
        async with self._db.transaction() as session:
            await TemplateRepository(session).add(row)
            stored = await TemplateRepository(session).get(identity.org_id, row.id)
        assert stored is not None
        return stored

    # --- helpers ---------------------------------------------------------------------------

    def _today(self) -> date:
        return self._clock.now().date()

    async def _visible(self, identity: Identity, template_id: str) -> TemplateRow:
        require(id=template_id)
        async with self._db.transaction() as session:
            row = await TemplateRepository(session).get(identity.org_id, template_id)
        if row is None:
            raise _not_found(template_id)
        return row

    def _workflow(self, row: TemplateRow, overrides: Mapping[str, Any], name: str) -> Any:
        template = template_of(row)
        data, issues = apply_overrides(template, overrides, name)
        if issues:
            raise _invalid("invalid overrides", issues)
        try:
            return workflow_from_json(data)
        except WorkflowError as exc:
            raise _invalid("invalid overrides", blame_overrides(exc.issues, overrides)) from exc

    def _check_filter(self, where: TemplateFilter) -> None:
        violations = []
        if where.category and where.category not in self._categories:
            violations.append(FieldViolation("category", f"must be one of {', '.join(self._categories)}"))
        if where.difficulty and where.difficulty not in DIFFICULTIES:
            violations.append(FieldViolation("difficulty", f"must be one of {', '.join(DIFFICULTIES)}"))
        if where.integration and where.integration not in INTEGRATIONS:
            violations.append(FieldViolation("integration", f"must be one of {', '.join(INTEGRATIONS)}"))
        if violations:
            raise InvalidArgument("invalid filters", violations)


def template_of(row: TemplateRow) -> Template:
    """The stored row as a :class:`Template` (customization and preview work on it)."""
    body = row.body
    return Template(
        slug=row.id,
        name=row.name,
        description=row.description,
        category=row.category,
        subcategory=row.subcategory,
        industry=row.industry,
        tags=tuple(row.tags),
        difficulty=row.difficulty,
        setup_minutes=row.setup_minutes,
        featured=row.featured,
        integrations=tuple(row.integrations),
        workflow=body["workflow"],
        customizable=tuple(
            CustomField(f["path"], f["label"], f["type"], f["default"], f.get("validation") or {})
            for f in body.get("customizable", [])
        ),
        sample=body.get("sample", {}),
    )
